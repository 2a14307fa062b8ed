"""Organisations and keys for tests, made through the real access store (the database of Settings.db)."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass

from schemas.access import OPERATOR_SCOPES, GranteeKind, GrantScope, PrincipalKind, Purpose, Role, Tier
from schemas.organisations import AppIn, DepartmentIn, GrantIn, InstitutionIn, KeyIn, RegionIn, StaffIn
from services.access import grants, keys, orgs
from services.access.db import Database
from services.access.errors import AlreadyExists
from services.access.principals import Principal
from services.access.resolve import principal_for_key
from tests.cleanup import record

OPERATOR = Principal(kind=PrincipalKind.OPERATOR, id="test-operator", name="test operator", scopes=OPERATOR_SCOPES)
RATE = 100_000  # tests are not about the limit unless they say so


@dataclass(frozen=True)
class Member:
    key: str
    staff_id: str
    institution: str
    role: Role
    department: str | None


def ensure_region(db: Database, code: str) -> None:
    record("regions", [code])  # removed after the module only when a test made it (tests.cleanup.TEST_REGION)
    with db.session() as s, contextlib.suppress(AlreadyExists):
        orgs.create_region(s, OPERATOR, RegionIn(code=code, name_zh=f"{code}区", name_en=f"Region {code}"))


def make_institution(db: Database, region: str, departments: tuple[str, ...] = (), *,
                     institution: str | None = None) -> str:
    """A new institution (a unique id unless given) in `region`, with departments named `<id>` / `<id>部`."""
    ensure_region(db, region)
    inst = institution or f"t-{uuid.uuid4().hex[:10]}"
    record("institutions", [inst])
    with db.session() as s:
        orgs.create_institution(s, OPERATOR, InstitutionIn(id=inst, name_zh=f"{inst}馆", name_en=f"{inst} museum",
                                                            region=region))
        for dept in departments:
            orgs.create_department(s, OPERATOR, inst, DepartmentIn(id=dept, name_zh=f"{dept}部", name_en=dept.title()))
    return inst


def staff_key(db: Database, institution: str, role: Role = Role.CURATOR, department: str | None = None,
              rate: int = RATE) -> Member:
    with db.session() as s:
        member = orgs.create_staff(s, OPERATOR, institution, StaffIn(name=f"{role} of {institution}", role=role,
                                                                       department=department))
        created = keys.create_key(s, OPERATOR, KeyIn(staff=member.id, rate_limit_per_min=rate), RATE)
    return Member(created.key, member.id, institution, role, department)


def app_key(db: Database, app_id: str | None = None, rate: int = RATE) -> tuple[str, str]:
    """(key, app id) of a new partner app."""
    app_id = app_id or f"app-{uuid.uuid4().hex[:10]}"
    record("apps", [app_id])
    with db.session() as s:
        orgs.create_app(s, OPERATOR, AppIn(id=app_id, name=f"App {app_id}"))
        created = keys.create_key(s, OPERATOR, KeyIn(app=app_id, rate_limit_per_min=rate), RATE)
    return created.key, app_id


def principal(db: Database, key: str) -> Principal:
    with db.session() as s:
        return principal_for_key(s, key)


def grant(db: Database, admin: Member, grantee_kind: GranteeKind, grantee: str, tier: Tier, scope: GrantScope,
          value: dict[str, object], purpose: Purpose = Purpose.RESEARCH) -> str:
    """A grant from `admin`'s institution (admin must be an admin); returns its id."""
    body = GrantIn.model_validate({"grantee_kind": grantee_kind, "grantee": grantee, "tier": tier, "scope": scope,
                                   "purpose": purpose, **value})
    with db.session() as s:
        return grants.create_grant(s, principal_for_key(s, admin.key), body).id
