"""`wenyuan orgs|keys|grants|me|db|admin` (and what `wenyuan audit` lists): organisations, keys, grants, audit.

Everything but `db` and `admin bootstrap` goes through the gateway's admin API, so the same
rules apply to the command line as to any client. `admin bootstrap` makes the platform's first
operator and its key directly in the database: it is run on the server itself.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from schemas.access import GranteeKind, GrantScope, Purpose, Role, Scope, Tier
from services.cli.api import ApiError, call
from services.settings import get_settings

console = Console()
orgs = typer.Typer(help="Regions, institutions, departments, staff and partner apps.", no_args_is_help=True)
keys = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)
grants = typer.Typer(help="Grants of your institution's assets to others.", no_args_is_help=True)
db = typer.Typer(help="The access database (migrations).", no_args_is_help=True)
admin = typer.Typer(help="Server-side administration.", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Print the raw JSON answer.")


def _run(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except ApiError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2 if exc.status in (0, 401, 403) else 1) from exc


def _show(data: Any, as_json: bool, columns: Iterable[str], title: str | None = None) -> None:
    if as_json:
        console.print_json(json.dumps(data, ensure_ascii=False))
        return
    rows = data if isinstance(data, list) else [data]
    cols = list(columns)
    table = Table(*cols, title=title, title_justify="left")
    for row in rows:
        table.add_row(*["" if row.get(c) is None else str(row.get(c)) for c in cols])
    console.print(table)


# -- orgs --------------------------------------------------------------------------------------

@orgs.command("add-region")
def add_region(code: str, zh: str = typer.Option(..., "--zh"), en: str = typer.Option(..., "--en"),
               as_json: bool = JSON) -> None:
    """Operators: a region (ISO 3166 code: CN, CN-BJ, GB-LND)."""
    out = _run(lambda: call("POST", "/v1/admin/regions", json={"code": code, "name_zh": zh, "name_en": en}))
    _show(out, as_json, ["code", "name_zh", "name_en"])


@orgs.command("regions")
def list_regions(as_json: bool = JSON) -> None:
    """List the regions."""
    _show(_run(lambda: call("GET", "/v1/admin/regions")), as_json, ["code", "name_zh", "name_en"])


@orgs.command("add-institution")
def add_institution(institution_id: str, region: str = typer.Option(..., "--region"),
                    zh: str = typer.Option(..., "--zh"), en: str = typer.Option(..., "--en"),
                    as_json: bool = JSON) -> None:
    """Operators: an institution in a region."""
    body = {"id": institution_id, "name_zh": zh, "name_en": en, "region": region}
    _show(_run(lambda: call("POST", "/v1/admin/institutions", json=body)), as_json, ["id", "name_zh", "region"])


@orgs.command("institutions")
def list_institutions(as_json: bool = JSON) -> None:
    """List the institutions with their departments."""
    data = _run(lambda: call("GET", "/v1/admin/institutions"))
    for inst in data:
        inst["departments"] = ", ".join(d["id"] for d in inst["departments"])
    _show(data, as_json, ["id", "name_zh", "name_en", "region", "departments"])


@orgs.command("add-department")
def add_department(institution_id: str, department_id: str, zh: str = typer.Option(..., "--zh"),
                   en: str = typer.Option(..., "--en"), as_json: bool = JSON) -> None:
    """The institution's admins: a department."""
    body = {"id": department_id, "name_zh": zh, "name_en": en}
    out = _run(lambda: call("POST", f"/v1/admin/institutions/{institution_id}/departments", json=body))
    _show(out, as_json, ["institution", "id", "name_zh", "name_en"])


@orgs.command("add-staff")
def add_staff(institution_id: str, name: str = typer.Option(..., "--name"),
              role: Role = typer.Option(Role.VIEWER, "--role"), department: str = typer.Option(None, "--department"),
              email: str = typer.Option(None, "--email"), as_json: bool = JSON) -> None:
    """The institution's admins: a staff member (viewer, curator or admin)."""
    body = {"name": name, "role": role.value, "department": department, "email": email}
    out = _run(lambda: call("POST", f"/v1/admin/institutions/{institution_id}/staff", json=body))
    _show(out, as_json, ["id", "institution", "department", "name", "role"])


@orgs.command("staff")
def list_staff(institution_id: str, as_json: bool = JSON) -> None:
    """The institution's admins: its staff."""
    out = _run(lambda: call("GET", f"/v1/admin/institutions/{institution_id}/staff"))
    _show(out, as_json, ["id", "department", "name", "role", "email"])


@orgs.command("add-app")
def add_app(app_id: str, name: str = typer.Option(..., "--name"), contact: str = typer.Option(None, "--contact"),
            as_json: bool = JSON) -> None:
    """Operators: a partner application."""
    out = _run(lambda: call("POST", "/v1/admin/apps", json={"id": app_id, "name": name, "contact": contact}))
    _show(out, as_json, ["id", "name", "contact"])


# -- keys --------------------------------------------------------------------------------------

KEY_COLUMNS = ["prefix", "owner_kind", "owner", "institution", "scopes", "rate_limit_per_min", "label", "revoked_at"]


@keys.command("create")
def create_key(staff: str = typer.Option(None, "--staff", help="Staff member id."),
               app: str = typer.Option(None, "--app", help="Partner app id."),
               operator: str = typer.Option(None, "--operator", help="Operator id."),
               scope: list[Scope] = typer.Option(None, "--scope", help="Repeat; default: all the owner may have."),
               rate: int = typer.Option(None, "--rate", help="Requests a minute."),
               label: str = typer.Option(None, "--label"), as_json: bool = JSON) -> None:
    """A key, printed this once (only its hash is kept)."""
    body = {"staff": staff, "app": app, "operator": operator, "scopes": [s.value for s in scope] if scope else None,
            "rate_limit_per_min": rate, "label": label}
    out = _run(lambda: call("POST", "/v1/admin/keys", json=body))
    if as_json:
        console.print_json(json.dumps(out))
        return
    console.print(f"key [bold]{out['key']}[/bold]\n[yellow]shown once: store it now[/yellow]")
    _show({**out, "scopes": ",".join(out["scopes"])}, False, KEY_COLUMNS)


@keys.command("list")
def list_keys(institution: str = typer.Option(None, "--institution"), as_json: bool = JSON) -> None:
    """Keys (never the keys themselves): operators all, admins their institution's."""
    params = {"institution": institution} if institution else {}
    data = _run(lambda: call("GET", "/v1/admin/keys", params=params))
    _show(data if as_json else [{**k, "scopes": ",".join(k["scopes"])} for k in data], as_json, KEY_COLUMNS)


@keys.command("revoke")
def revoke_key(prefix: str, as_json: bool = JSON) -> None:
    """Revoke a key: refused from the next request on."""
    _show(_run(lambda: call("DELETE", f"/v1/admin/keys/{prefix}")), as_json, ["prefix", "owner", "revoked_at"])


# -- grants ------------------------------------------------------------------------------------

GRANT_COLUMNS = ["id", "grantor", "grantee_kind", "grantee", "tier", "scope", "scope_value", "purpose",
                 "valid_until", "active"]


def _filters(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise typer.BadParameter(f"--filter takes name=value, not {pair!r}")
        out.setdefault(name, []).append(value)
    return {k: v[0] if k in {"year_from", "year_to", "reusable", "has_image"} else v for k, v in out.items()}


@grants.command("create")
def create_grant(to_institution: str = typer.Option(None, "--to-institution"),
                 to_region: str = typer.Option(None, "--to-region"), to_app: str = typer.Option(None, "--to-app"),
                 tier: Tier = typer.Option(..., "--tier"), purpose: Purpose = typer.Option(..., "--purpose"),
                 batch: str = typer.Option(None, "--batch", help="Scope: a batch id."),
                 category: str = typer.Option(None, "--category", help="Scope: a taxonomy category id."),
                 q: str = typer.Option(None, "--q", help="Scope: a saved query's words…"),
                 filters: list[str] = typer.Option(None, "--filter", help="… and filters, name=value (repeat)."),
                 until: str = typer.Option(None, "--until", help="End, ISO date or date-time (UTC)."),
                 note: str = typer.Option(None, "--note"), as_json: bool = JSON) -> None:
    """Grant another institution, a region or a partner app a tier on a set of your institution's assets."""
    grantees = [(GranteeKind.INSTITUTION, to_institution), (GranteeKind.REGION, to_region), (GranteeKind.APP, to_app)]
    given = [(k, v) for k, v in grantees if v]
    if len(given) != 1:
        raise typer.BadParameter("name exactly one of --to-institution, --to-region, --to-app")
    scopes = [(GrantScope.BATCH, batch), (GrantScope.CATEGORY, category),
              (GrantScope.QUERY, (q or filters) and {"q": q, "filters": _filters(filters or [])})]
    scoped = [(k, v) for k, v in scopes if v]
    if len(scoped) != 1:
        raise typer.BadParameter("name exactly one scope: --batch, --category, or --q/--filter")
    body: dict[str, Any] = {"grantee_kind": given[0][0].value, "grantee": given[0][1], "tier": tier.value,
                            "purpose": purpose.value, "scope": scoped[0][0].value, "note": note,
                            {"batch": "batch_id", "category": "category", "query": "query"}[scoped[0][0].value]:
                                scoped[0][1]}
    if until:
        body["valid_until"] = until if "T" in until else f"{until}T00:00:00Z"
    _show(_run(lambda: call("POST", "/v1/grants", json=body)), as_json, GRANT_COLUMNS)


@grants.command("list")
def list_grants(as_json: bool = JSON) -> None:
    """Grants your institution gave and holds."""
    _show(_run(lambda: call("GET", "/v1/grants")), as_json, GRANT_COLUMNS)


@grants.command("revoke")
def revoke_grant(grant_id: str, as_json: bool = JSON) -> None:
    """Revoke a grant: it stops working on the grantee's next request."""
    _show(_run(lambda: call("DELETE", f"/v1/grants/{grant_id}")), as_json, GRANT_COLUMNS)


# -- me, audit -----------------------------------------------------------------------------------

def me(as_json: bool = JSON) -> None:
    """Who your key acts as: institution, role, scopes, rate limit, grants."""
    out = _run(lambda: call("GET", "/v1/me", operator_fallback=False))
    _show(out if as_json else {**out, "scopes": ",".join(out["scopes"]), "grants": len(out["grants"])}, as_json,
          ["kind", "id", "name", "institution", "department", "region", "role", "scopes", "rate_limit_per_min",
           "grants"])


def audit(action: str = typer.Option(None, "--action"), asset: str = typer.Option(None, "--asset"),
          limit: int = typer.Option(50, "--limit"), as_json: bool = JSON) -> None:
    """The audit log of your institution (admins), newest first."""
    params: dict[str, Any] = {"limit": limit}
    params |= {k: v for k, v in (("action", action), ("asset_id", asset)) if v}
    out = _run(lambda: call("GET", "/v1/audit", params=params))
    _show(out if as_json else out["events"], as_json,
          ["at", "action", "outcome", "actor_kind", "actor_id", "actor_key", "asset_id", "subject", "tier", "basis"])


# -- server side ---------------------------------------------------------------------------------

@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the database to the newest migration."""
    from services.access.db import Database, upgrade

    settings = get_settings()
    upgrade(settings.db)
    database = Database(settings.db)
    console.print(f"database at revision {database.revision()}")
    database.close()


@admin.command("bootstrap")
def bootstrap(operator_id: str = typer.Option("operator", "--operator-id"),
              name: str = typer.Option("Platform operator", "--name")) -> None:
    """The first operator and its key, straight into the database (run on the server). Idempotent: an
    existing valid key in access.operator_key_file is kept."""
    print(bootstrap_operator(operator_id, name))


def bootstrap_operator(operator_id: str = "operator", name: str = "Platform operator") -> str:
    """Path of the operator key file, made if it holds no valid key."""
    from schemas.access import OPERATOR_SCOPES, PrincipalKind
    from services.access.audit import record
    from services.access.db import Database, upgrade
    from services.access.errors import InvalidKey
    from services.access.keys import authenticate, digest, new_key
    from services.access.models import ApiKey, utcnow
    from services.access.orgs import ensure_operator
    from services.access.principals import Principal

    settings = get_settings()
    path = settings.access.operator_key_file
    upgrade(settings.db)
    database = Database(settings.db)
    try:
        with database.session() as session:
            if path.exists():
                try:
                    authenticate(session, path.read_text(encoding="utf-8").strip(), utcnow())
                    return str(path)
                except InvalidKey:
                    pass
            ensure_operator(session, operator_id, name)
            key, prefix = new_key()
            session.add(ApiKey(prefix=prefix, digest=digest(key), owner_kind=PrincipalKind.OPERATOR.value,
                               operator_id=operator_id, label="bootstrap", scopes=sorted(OPERATOR_SCOPES),
                               rate_limit_per_min=settings.access.key_rate_per_min, created_by="bootstrap"))
            actor = Principal(kind=PrincipalKind.OPERATOR, id=operator_id, name="bootstrap (server command line)")
            record(session, actor, "key.create", subject=f"key {prefix}", owner_kind="operator", owner=operator_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(key + "\n")
        return str(path)
    finally:
        database.close()


def register(app: typer.Typer) -> None:
    app.add_typer(orgs, name="orgs")
    app.add_typer(keys, name="keys")
    app.add_typer(grants, name="grants")
    app.add_typer(db, name="db")
    app.add_typer(admin, name="admin")
    app.command("me")(me)
