"""`wenyuan demo`: organisations, keys, the sample batches through the real DAG, and where everything answers.

Idempotent: it makes the platform's operator key if there is none (`admin bootstrap`), then —
through the admin API, as any operator would — the regions, the two sample institutions (with
the departments the bilingual sample names), a curator and a viewer for each, and their keys,
kept in `.run/demo-keys.json` (mode 600) and reused while they are valid.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from services.cli import api
from services.cli.access import bootstrap_operator
from services.cli.main import _follow, _print_local_check, _print_outcome, _send, app, console
from services.settings import get_settings
from services.uploader import STATE_FILE, Uploader, UploadError, check_folder


@dataclass(frozen=True)
class DemoInstitution:
    id: str
    samples: tuple[str, ...]  # folders of samples/, ingested in this order
    name_zh: str
    name_en: str
    region: tuple[str, str, str]  # code, zh, en
    departments: tuple[tuple[str, str, str], ...] = ()  # id, zh, en


INSTITUTIONS = (
    DemoInstitution("wenyuan-demo", ("bilingual", "media"), "文渊示范博物馆", "Wenyuan Demonstration Museum",
                    ("CN-BJ", "北京市", "Beijing"),
                    (("ceramics", "陶瓷部", "Ceramics"), ("crafts", "工艺部", "Decorative Arts"),
                     ("painting", "书画部", "Painting and Calligraphy"), ("bronzes", "青铜器部", "Bronzes"),
                     ("coins", "钱币部", "Coins"), ("sculpture", "雕塑部", "Sculpture"),
                     ("rare-books", "古籍部", "Rare Books"), ("archaeology", "考古部", "Archaeology"))),
    DemoInstitution("tate", ("tate",), "泰特美术馆", "Tate", ("GB-LND", "伦敦", "London")),
)


def _exists_ok(method: str, path: str, body: dict[str, Any]) -> Any:
    try:
        return api.call(method, path, json=body)
    except api.ApiError as exc:
        if exc.status != 409:
            raise
        return None


def _key_works(key: str) -> bool:
    api.configure(key, None)
    try:
        api.call("GET", "/v1/me", operator_fallback=False)
        return True
    except api.ApiError:
        return False
    finally:
        api.configure(None, None)


def ensure_organisations() -> dict[str, dict[str, str]]:
    """The demo's organisations and keys; returns {institution: {role: key}}."""
    settings = get_settings()
    operator_file = bootstrap_operator()
    keys_file = settings.stack.run_dir / "demo-keys.json"
    kept: dict[str, dict[str, str]] = json.loads(keys_file.read_text()) if keys_file.exists() else {}
    operator = Path(operator_file).read_text(encoding="utf-8").strip()
    api.configure(operator, None)
    try:
        out: dict[str, dict[str, str]] = {}
        for inst in INSTITUTIONS:
            code, zh, en = inst.region
            _exists_ok("POST", "/v1/admin/regions", {"code": code, "name_zh": zh, "name_en": en})
            _exists_ok("POST", "/v1/admin/institutions", {"id": inst.id, "name_zh": inst.name_zh,
                                                          "name_en": inst.name_en, "region": code})
            for dept, dzh, den in inst.departments:
                _exists_ok("POST", f"/v1/admin/institutions/{inst.id}/departments",
                           {"id": dept, "name_zh": dzh, "name_en": den})
            out[inst.id] = {}
            for role, department in (("curator", None), ("viewer", inst.departments[0][0] if inst.departments
                                                          else None)):
                old = kept.get(inst.id, {}).get(role)
                api.configure(operator, None)
                if old and _key_works(old):
                    out[inst.id][role] = old
                    continue
                api.configure(operator, None)
                member = api.call("POST", f"/v1/admin/institutions/{inst.id}/staff",
                                  json={"name": f"Demo {role} ({inst.id})", "role": role, "department": department})
                created = api.call("POST", "/v1/admin/keys", json={"staff": member["id"], "label": f"demo {role}"})
                out[inst.id][role] = created["key"]
    finally:
        api.configure(None, None)
    keys_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(keys_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2)
    return out


@app.command()
def demo(skip_ingest: bool = typer.Option(False, help="Only print where the stack answers.")) -> None:
    """Set up the demo organisations and keys, ingest the sample batches through the real DAG (idempotent),
    then show where everything answers."""
    settings = get_settings()
    try:
        keys = ensure_organisations()
    except api.ApiError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    if not skip_ingest:
        from samples import SAMPLES_DIR, build_sample

        for inst in INSTITUTIONS:
            uploader = Uploader(settings.gateway.public_url, keys[inst.id]["curator"])
            try:
                for sample in inst.samples:
                    folder = SAMPLES_DIR / sample / "batch"
                    listed, made = build_sample(folder)
                    console.rule(f"sample batch {sample}: {listed} files ({made} made now), institution {inst.id}")
                    check = check_folder(folder)
                    _print_local_check(folder, check)
                    batch_id = _send(uploader, folder, inst.id, check, None)
                    batch = _follow(uploader, batch_id)
                    (folder / STATE_FILE).unlink(missing_ok=True)
                    _print_outcome(uploader, batch)
                    if batch["state"] != "succeeded":
                        raise typer.Exit(1)
            except UploadError as exc:
                console.print(f"[red]{exc}[/red]")
                raise typer.Exit(2) from exc
            finally:
                uploader.close()
    base = settings.gateway.public_url
    table = Table("what", "where", title="Wenyuan is running", title_justify="left")
    table.add_row("web UI", f"{base}/  ·  {base}/console (sign in with a key of demo-keys.json)")
    table.add_row("gateway (API docs)", base + "/docs")
    table.add_row("gateway readiness", base + "/readyz")
    table.add_row("search", base + "/v1/search?q=玉璧  ·  /v1/search?q=bronze&mode=semantic")
    table.add_row("batches", base + "/v1/batches/{id}  ·  wenyuan --key KEY batch {id}")
    table.add_row("keys", f"{settings.stack.run_dir / 'demo-keys.json'} (curator and viewer of each institution); "
                          f"operator: {settings.access.operator_key_file}")
    table.add_row("as a curator", f"curl -H 'Authorization: Bearer {keys['wenyuan-demo']['curator'][:12]}…' "
                                  f"{base}/v1/search?q=梅瓶  (sees the museum's restricted objects too)")
    table.add_row("Airflow UI", f"{settings.airflow.url}  (user {settings.airflow.username}, password in "
                  f"{settings.airflow.password_file})")
    table.add_row("Elasticsearch", settings.es.url)
    table.add_row("S3 API", settings.s3.url + f"  (buckets: {', '.join(settings.s3.buckets)})")
    console.print(table)
