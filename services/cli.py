"""The `wenyuan` command: talks to a running Wenyuan (gateway, Airflow) as configured in Settings."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from services import __version__
from services.settings import get_settings
from services.uploader import STATE_FILE, LocalCheck, Uploader, UploadError, check_folder

app = typer.Typer(help="Wenyuan 文渊: cultural-resources sharing service.", no_args_is_help=True)
console = Console()


@app.callback()
def main() -> None:
    """Wenyuan 文渊: cultural-resources sharing service."""


@app.command()
def version() -> None:
    """Print the version of this Wenyuan."""
    console.print(__version__)


@app.command()
def ready(as_json: bool = typer.Option(False, "--json", help="Print the raw /readyz answer.")) -> None:
    """Ask the gateway whether Elasticsearch, S3 and Airflow are reachable; exit 1 if not."""
    url = get_settings().gateway.public_url + "/readyz"
    try:
        body = httpx.get(url, timeout=10).json()
    except httpx.HTTPError as exc:
        console.print(f"[red]gateway unreachable at {url}: {exc}[/red]")
        raise typer.Exit(2) from exc
    if as_json:
        console.print_json(json.dumps(body))
    else:
        table = Table("dependency", "status", "latency ms", "detail")
        for name, check in body["checks"].items():
            colour = "green" if check["status"] == "ok" else "red"
            table.add_row(name, f"[{colour}]{check['status']}[/{colour}]", str(check["latency_ms"]),
                          check.get("detail") or "")
        console.print(table)
    raise typer.Exit(0 if body["status"] == "ok" else 1)


DEMO_BATCHES = (("bilingual", "wenyuan-demo", "CN-BJ"), ("tate", "tate", "GB-LND"))


@app.command()
def demo(skip_ingest: bool = typer.Option(False, help="Only print where the stack answers.")) -> None:
    """Ingest the sample batches through the real DAG (idempotent), then show where everything answers."""
    settings = get_settings()
    if not skip_ingest:
        from samples import SAMPLES_DIR
        from samples.images import build_batch

        uploader = Uploader(settings.gateway.public_url)
        try:
            for name, institution, region in DEMO_BATCHES:
                folder = SAMPLES_DIR / name / "batch"
                listed, drawn = build_batch(folder)
                console.rule(f"sample batch {name}: {listed} images ({drawn} drawn now), institution {institution}")
                check = check_folder(folder)
                _print_local_check(folder, check)
                batch_id = _send(uploader, folder, institution, check, None, region)
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
    table = Table("what", "where", title="Wenyuan is running", title_justify="left")
    table.add_row("gateway (API docs)", settings.gateway.public_url + "/docs")
    table.add_row("gateway readiness", settings.gateway.public_url + "/readyz")
    table.add_row("search", settings.gateway.public_url + "/v1/search?q=玉璧  ·  /v1/search?q=bronze&mode=semantic")
    table.add_row("batches", settings.gateway.public_url + "/v1/batches/{id}  ·  wenyuan batch {id}")
    table.add_row("Airflow UI", f"{settings.airflow.url}  (user {settings.airflow.username}, password in "
                  f"{settings.airflow.password_file})")
    table.add_row("Elasticsearch", settings.es.url)
    table.add_row("S3 API", settings.s3.url + f"  (buckets: {', '.join(settings.s3.buckets)})")
    console.print(table)


def _print_local_check(folder: Path, check: LocalCheck) -> None:
    console.print(f"{check.manifest.name}: {len(check.rows)} rows, {len(check.files)} files")
    if check.errors or check.missing:
        table = Table("row", "column", "reason", title="rows the service will reject", title_justify="left")
        for r in check.errors:
            for e in r.errors:
                table.add_row(str(e.row), e.field or "", e.reason)
        for row, path in check.missing:
            table.add_row(str(row), "media", f"{path}: listed but not in {folder}")
        console.print(table)
    if check.unlisted:
        console.print(f"[yellow]{len(check.unlisted)} file(s) no row lists (they will be reported and "
                      f"quarantined): {', '.join(check.unlisted[:5])}{' …' if len(check.unlisted) > 5 else ''}")


def _follow(uploader: Uploader, batch_id: str, poll_s: float = 2.0) -> dict[str, object]:
    with console.status("ingesting…") as status:
        while True:
            batch = uploader.status(batch_id)
            c, chunks = batch["counts"], batch.get("chunks")
            progress = f" · chunks stored {chunks['stored']}/{chunks['total']}, indexed {chunks['indexed']}" \
                if chunks and chunks["total"] else ""
            status.update(f"{batch['state']} (run {batch.get('run_state')}): received {c['received']}, valid "
                          f"{c['valid']}, rejected {c['rejected']}{progress}")
            if batch["state"] in {"succeeded", "failed"}:
                return batch
            time.sleep(poll_s)


@app.command()
def upload(
    folder: Path = typer.Argument(..., exists=True, file_okay=False, help="Batch folder: one manifest + media."),
    institution: str = typer.Option(..., "--institution", "-i", help="Your institution's id."),
    wait: bool = typer.Option(False, "--wait", help="Follow the batch until ingestion ends."),
    strict: bool = typer.Option(False, "--strict", help="Stop before uploading if any row has an error."),
    gateway: str = typer.Option(None, help="Gateway URL (default: WENYUAN_GATEWAY__PUBLIC_URL)."),
    max_file_size: int = typer.Option(None, help="Reject files larger than this many bytes in this batch."),
    region: str = typer.Option(None, "--region", help="Your institution's region, ISO 3166 (CN, CN-BJ, GB…)."),
) -> None:
    """Upload a digitisation batch: validate locally, send files (resumable), submit for ingestion."""
    check = check_folder(folder)
    _print_local_check(folder, check)
    if strict and (check.errors or check.missing):
        raise typer.Exit(1)
    uploader = Uploader(gateway or get_settings().gateway.public_url)
    try:
        batch_id = _send(uploader, folder, institution, check, max_file_size, region)
        console.print(f"submitted; follow with: wenyuan batch {batch_id}")
        if wait:
            batch = _follow(uploader, batch_id)
            _print_outcome(uploader, batch)
            (folder / STATE_FILE).unlink(missing_ok=True)
            raise typer.Exit(0 if batch["state"] == "succeeded" else 1)
    except UploadError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    finally:
        uploader.close()


def _send(uploader: Uploader, folder: Path, institution: str, check: LocalCheck, max_file_size: int | None,
          region: str | None = None) -> str:
    """Upload the folder's files with a progress bar (skipping those already staged) and submit the batch."""
    uploads = uploader.targets(folder, institution, check, max_file_bytes=max_file_size, region=region)
    batch_id = str(uploads["batch"]["batch_id"])
    console.print(f"batch [bold]{batch_id}[/bold]")
    locals_ = [check.manifest, *check.files]
    targets = [uploads["manifest"], *uploads["files"]]
    sent = skipped = 0
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"files 0/{len(locals_)}", total=sum(p.stat().st_size for p in locals_))
        for n, (local, target) in enumerate(zip(locals_, targets, strict=True), start=1):
            if uploader.send(batch_id, local, target, lambda size: progress.advance(task, size)):
                sent += 1
            else:
                skipped += 1
            progress.update(task, description=f"files {n}/{len(locals_)}")
    console.print(f"sent {sent} file(s), {skipped} already there (same checksum)")
    uploader.submit(batch_id)
    return batch_id


def _print_outcome(uploader: Uploader, batch: dict[str, object]) -> None:
    counts = batch["counts"]
    assert isinstance(counts, dict)
    colour = "green" if batch["state"] == "succeeded" else "red"
    console.print(f"[{colour}]{batch['state']}[/{colour}]: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if batch.get("error"):
        console.print(f"[red]{batch['error']}[/red]")
    if counts.get("rejected"):
        report = uploader.report(str(batch["batch_id"]))
        table = Table("row", "object id", "field", "code", "reason", title="rejected", title_justify="left")
        for item in report["items"]:
            for err in item.get("errors") or []:
                if item["status"] == "rejected":
                    table.add_row(str(item.get("row") or "-"), item.get("object_id") or "", err.get("field") or "",
                                  err.get("code") or "", err.get("reason") or "")
        console.print(table)


@app.command()
def batch(batch_id: str, gateway: str = typer.Option(None, help="Gateway URL.")) -> None:
    """Show a batch's state and counts."""
    uploader = Uploader(gateway or get_settings().gateway.public_url)
    try:
        _print_outcome(uploader, uploader.status(batch_id))
    except UploadError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    finally:
        uploader.close()
