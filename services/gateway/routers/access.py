"""The caller's own view of access: who it is (`/v1/me`), its grants and the audit of its institution,
the grants it gives, and the licence × audience tier table everything is decided by."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BeforeValidator

from schemas.access import PrincipalKind, table_rows
from schemas.organisations import AuditOut, AuditPage, GrantIn, GrantOut, Me
from services.access import audit, grants
from services.access.errors import NotAllowed
from services.access.orgs import require_admin_of
from services.gateway.deps import DbDep, PrincipalDep
from services.gateway.errors import BadRequest

router = APIRouter(prefix="/v1", tags=["access"])


@router.get("/me")
def read_me(principal: PrincipalDep) -> Me:
    """Who the key acts as: kind, institution, department, region, role, scopes, limit and grants in force."""
    return Me(kind=principal.kind, id=principal.id, name=principal.name, institution=principal.institution,
              department=principal.department, region=principal.region, role=principal.role,
              scopes=sorted(principal.scopes), key=principal.key_prefix,
              rate_limit_per_min=principal.rate_limit_per_min,
              grants=[{"id": g.id, "grantor": g.grantor, "tier": g.tier.value, "scope": g.scope.value,
                       "scope_value": g.value, "purpose": g.purpose.value,
                       "valid_until": g.valid_until.isoformat() if g.valid_until else None}
                      for g in principal.grants])


@router.get("/access/table")
def read_access_table() -> dict[str, Any]:
    """The default delivery tier of each licence class per audience (schemas/access.json)."""
    from schemas.access import access_table

    table = access_table()
    return {"tiers": ["metadata", "thumbnail", "preview", "original"],
            "policies": {p.value: [a.value for a in who] for p, who in table.policies.items()},
            "classes": table_rows()}


@router.post("/grants", status_code=status.HTTP_201_CREATED)
def create_grant(body: GrantIn, db: DbDep, principal: PrincipalDep) -> GrantOut:
    """An admin of your institution grants another institution, a region or a partner app a tier on a set of
    your assets (a batch, a category or a saved query), for a purpose, until a date. Effective at once."""
    with db.session() as session:
        return grants.create_grant(session, principal, body)


@router.get("/grants")
def list_grants(db: DbDep, principal: PrincipalDep) -> list[GrantOut]:
    """The grants your institution gave, and those it (or its region, or your app) holds."""
    with db.session() as session:
        return grants.list_grants(session, principal)


@router.delete("/grants/{grant_id}")
def revoke_grant(grant_id: str, db: DbDep, principal: PrincipalDep) -> GrantOut:
    """Revoke a grant your institution gave: it stops working on the grantee's next request."""
    with db.session() as session:
        return grants.revoke_grant(session, principal, grant_id)


def _date_time_text(value: object) -> object:
    """A date and time as the schema says (ISO 8601), not a bare number (which pydantic reads as Unix time)."""
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*", value):
        raise ValueError("a date and time, ISO 8601 (2026-01-31T12:00:00Z), not a number")
    return value


@router.get("/audit")
def read_audit(db: DbDep, principal: PrincipalDep,
               action: Annotated[str | None, Query(description="deliver, grant.create, key.revoke, …")] = None,
               asset_id: str | None = None,
               since: Annotated[datetime | None, BeforeValidator(_date_time_text),
                                Query(description="ISO 8601 date and time (UTC when no offset).")] = None,
               limit: Annotated[int, Query(ge=1, le=500)] = 100,
               cursor: Annotated[str | None, Query(max_length=100)] = None) -> AuditPage:
    """Newest first: deliveries of your institution's assets (allowed and refused) and changes to its staff,
    keys, departments and grants. Admins see their own institution's only; operators everything."""
    institution: str | None
    if principal.kind is PrincipalKind.OPERATOR:
        require_admin_of(principal, "")
        institution = None
    elif principal.institution:
        require_admin_of(principal, principal.institution)
        institution = principal.institution
    else:
        raise NotAllowed("the audit log is for an institution's admins")
    with db.session() as session:
        try:
            rows, nxt = audit.events(session, institution, action=action, asset_id=asset_id, since=since,
                                     limit=limit, cursor=cursor)
        except ValueError as exc:
            raise BadRequest(str(exc), field="cursor") from exc
        return AuditPage(events=[AuditOut.model_validate(r) for r in rows], next=nxt)
