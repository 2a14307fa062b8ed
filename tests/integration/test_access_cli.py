"""`wenyuan admin|orgs|keys|grants|audit|me` against the running gateway, as an operator and an admin use them."""

from __future__ import annotations

import json
import uuid

from typer.testing import CliRunner

from services.cli import app
from services.settings import Settings
from tests.cleanup import record


def run(*args: str) -> dict | list:  # type: ignore[type-arg]
    result = CliRunner().invoke(app, [*args, "--json"] if args[-1] != "bootstrap" else list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_an_operator_sets_up_an_institution_and_its_admin_grants_a_partner_app(settings: Settings) -> None:
    bootstrap = CliRunner().invoke(app, ["admin", "bootstrap"])
    assert bootstrap.exit_code == 0 and str(settings.access.operator_key_file) in bootstrap.output
    assert settings.access.operator_key_file.stat().st_mode & 0o077 == 0  # readable by its owner only
    suffix = uuid.uuid4().hex[:8]
    inst, app_id = f"cli-{suffix}", f"cli-app-{suffix}"
    record("institutions", [inst])  # removed when the module ends (tests.cleanup)
    record("apps", [app_id])

    run("orgs", "add-region", "CN-ZJ", "--zh", "浙江省", "--en", "Zhejiang") if not any(
        r["code"] == "CN-ZJ" for r in run("orgs", "regions")) else None
    run("orgs", "add-institution", inst, "--region", "CN-ZJ", "--zh", "浙江省博物馆", "--en", "Zhejiang Museum")
    run("orgs", "add-department", inst, "ceramics", "--zh", "陶瓷部", "--en", "Ceramics")
    admin = run("orgs", "add-staff", inst, "--name", "Chen", "--role", "admin", "--department", "ceramics")
    key = run("keys", "create", "--staff", admin["id"], "--label", "collections")  # type: ignore[call-overload]
    run("orgs", "add-app", app_id, "--name", "Atlas")
    me = run("--key", key["key"], "me")
    made = run("--key", key["key"], "grants", "create", "--to-app", app_id, "--tier", "preview", "--purpose",
               "education", "--category", "porcelain", "--until", "2030-01-01")
    listed = run("--key", key["key"], "grants", "list")
    revoked = run("--key", key["key"], "grants", "revoke", made["id"])  # type: ignore[call-overload]
    keys = run("--key", key["key"], "keys", "list")
    events = run("--key", key["key"], "audit")

    assert key["key"].startswith(key["prefix"] + ".") and key["institution"] == inst  # type: ignore[call-overload]
    assert (me["institution"], me["department"], me["role"], me["region"]) == (inst, "ceramics", "admin", "CN-ZJ")
    assert made["grantee"] == app_id and made["valid_until"].startswith("2030-01-01")  # type: ignore[call-overload]
    assert [g["id"] for g in listed] == [made["id"]]  # type: ignore[call-overload]
    assert revoked["active"] is False and revoked["revoked_at"]  # type: ignore[call-overload]
    assert [k["prefix"] for k in keys] == [key["prefix"]] and "key" not in keys[0]  # type: ignore[call-overload]
    actions = [e["action"] for e in events["events"]]  # type: ignore[call-overload]
    assert actions[:4] == ["grant.revoke", "grant.create", "key.create", "staff.create"]


def test_a_refused_admin_command_says_why_and_exits_non_zero() -> None:
    result = CliRunner().invoke(app, ["--key", "wy_00000000." + "x" * 43, "orgs", "add-region", "FR", "--zh", "法国",
                                      "--en", "France"])

    assert result.exit_code == 2
    assert "401" in result.output and "not valid" in result.output
