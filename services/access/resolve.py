"""From an API key to the principal a request acts as: its owner, scopes, limit and the grants in force.

Nothing is cached: a revoked key, a changed role or a revoked grant takes effect on the next
request. The lookups are a primary-key read and one indexed query, well under a millisecond on
SQLite (docs/BENCHMARKS.md).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from schemas.access import PrincipalKind, Role, Scope
from services.access.grants import active_for
from services.access.keys import allowed_scopes, authenticate
from services.access.models import utcnow
from services.access.principals import ANONYMOUS, Principal


def principal_for_key(session: Session, key: str, now: datetime | None = None) -> Principal:
    now = now or utcnow()
    row = authenticate(session, key, now)
    scopes = frozenset(Scope(s) for s in row.scopes) & allowed_scopes(row)
    base = Principal(kind=PrincipalKind.ANONYMOUS, key_prefix=row.prefix, rate_limit_per_min=row.rate_limit_per_min,
                     scopes=scopes)
    if row.owner_kind == PrincipalKind.STAFF and row.staff is not None:
        member = row.staff
        inst = member.institution
        dept = member.department
        grants = active_for(session, institution_id=inst.id, region=inst.region_code, app_id=None, now=now)
        return replace(base, kind=PrincipalKind.STAFF, id=member.id, name=member.name, institution=inst.id,
                       department=dept.slug if dept else None, department_names=dept.names if dept else (),
                       region=inst.region_code, role=Role(member.role), grants=grants)
    if row.owner_kind == PrincipalKind.APP and row.app is not None:
        grants = active_for(session, institution_id=None, region=None, app_id=row.app.id, now=now)
        return replace(base, kind=PrincipalKind.APP, id=row.app.id, name=row.app.name, grants=grants)
    if row.owner_kind == PrincipalKind.OPERATOR and row.operator is not None:
        return replace(base, kind=PrincipalKind.OPERATOR, id=row.operator.id, name=row.operator.name)
    return ANONYMOUS
