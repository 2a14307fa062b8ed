"""Grants: an institution lets another institution, a region or a partner app see a set of its assets
(a batch, a category or a saved query) at a tier, for a purpose, until a date.

A grant takes effect on the grantee's next request and ends the moment it is revoked or expires:
principals are made per request with the grants in force then (`active_for`). Only the grantor's
admins make and revoke its grants; the grantee sees the grants it holds.

A grant's scope becomes a clause of every search its grantee makes (services/access/policy.grant_clause), so a
saved query is checked against the search filter model when the grant is made (`scope_errors`: an unknown
filter, a wrong type, a query that selects everything are 422). A grant stored malformed all the same (before
this check, or by hand) is left out of the principal and logged, never fatal to the grantee's requests; it is
still listed, and its grantor's admins can revoke it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from indexing.query import Filters
from schemas.access import GranteeKind, GrantScope, Purpose, Tier
from schemas.organisations import GrantIn, GrantOut
from services.access import audit
from services.access.errors import InvalidGrant, NotAllowed, UnknownEntity
from services.access.models import Grant, Region, utcnow
from services.access.orgs import app, institution, require_admin_of
from services.access.principals import ActiveGrant, Principal

log = logging.getLogger(__name__)

Reason = tuple[str, str]  # (field of the grant, what is wrong with it)


def _filter_errors(filters: Any) -> list[Reason]:
    if filters is None:
        return []
    if not isinstance(filters, dict):
        return [("query.filters", "must be an object of search filters, as GET /v1/search takes them")]
    known = Filters.model_fields
    out = [(f"query.filters.{name}", f"not a search filter; one of {', '.join(known)}")
           for name in filters if name not in known]
    try:
        Filters.model_validate({k: v for k, v in filters.items() if k in known})
    except ValidationError as exc:
        out += [("query.filters." + ".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]
    return out


def scope_errors(scope: GrantScope, value: Any) -> list[Reason]:
    """Why a grant's scope value could not become a search clause; empty when it can."""
    if not isinstance(value, dict):
        return [("scope_value", "must be an object")]
    if scope is GrantScope.BATCH or scope is GrantScope.CATEGORY:
        name = "batch_id" if scope is GrantScope.BATCH else "category"
        ok = isinstance(value.get(name), str) and value[name]
        return [] if ok else [(name, f"scope {scope.value} needs {name}, a non-empty string")]
    q, filters = value.get("q"), value.get("filters")
    out = [] if q is None or isinstance(q, str) else [("query.q", "must be text")]
    out += _filter_errors(filters)
    if not out and not (q or "").strip() and Filters.model_validate(filters or {}).is_empty():
        out.append(("query", "a saved query needs words (q) or at least one filter that selects something"))
    return out


def _active(row: Grant, now: datetime) -> bool:
    return row.revoked_at is None and (row.valid_until is None or row.valid_until > now)


def grant_out(row: Grant, now: datetime | None = None) -> GrantOut:
    return GrantOut(id=row.id, grantor=row.grantor_id, grantee_kind=GranteeKind(row.grantee_kind),
                    grantee=row.grantee_id, tier=Tier(row.tier), scope=GrantScope(row.scope),
                    scope_value=row.scope_value, purpose=Purpose(row.purpose), note=row.note,
                    valid_until=row.valid_until, created_at=row.created_at, created_by=row.created_by,
                    revoked_at=row.revoked_at, revoked_by=row.revoked_by, active=_active(row, now or utcnow()))


def _check_grantee(session: Session, kind: GranteeKind, grantee: str) -> None:
    if kind is GranteeKind.INSTITUTION:
        institution(session, grantee)
    elif kind is GranteeKind.REGION:
        if session.get(Region, grantee) is None:
            raise UnknownEntity(f"no region {grantee!r}")
    else:
        app(session, grantee)


def create_grant(session: Session, actor: Principal, body: GrantIn) -> GrantOut:
    """A grant from the actor's own institution."""
    if not actor.is_staff or actor.institution is None:
        raise NotAllowed("grants are made by an admin of the institution that holds the assets")
    require_admin_of(actor, actor.institution)
    _check_grantee(session, body.grantee_kind, body.grantee)
    if body.grantee_kind is GranteeKind.INSTITUTION and body.grantee == actor.institution:
        raise NotAllowed("an institution needs no grant for its own assets")
    if body.valid_until is not None and body.valid_until <= utcnow():
        raise NotAllowed("valid_until is in the past: a grant must end in the future")
    if errors := scope_errors(body.scope, body.scope_value()):
        raise InvalidGrant("; ".join(f"body.{f}: {r}" for f, r in errors), field=f"body.{errors[0][0]}",
                           errors=[{"field": f"body.{f}", "reason": r} for f, r in errors])
    row = Grant(id=uuid.uuid4().hex, grantor_id=actor.institution, grantee_kind=body.grantee_kind.value,
                grantee_id=body.grantee, tier=body.tier.value, scope=body.scope.value, scope_value=body.scope_value(),
                purpose=body.purpose.value, note=body.note, valid_until=body.valid_until, created_by=actor.id)
    session.add(row)
    session.flush()
    audit.record(session, actor, "grant.create", about=actor.institution, subject=f"grant {row.id}",
                 tier=row.tier, grantee_kind=row.grantee_kind, grantee=row.grantee_id, scope=row.scope,
                 scope_value=row.scope_value, purpose=row.purpose,
                 valid_until=row.valid_until.isoformat() if row.valid_until else None)
    return grant_out(row)


def revoke_grant(session: Session, actor: Principal, grant_id: str) -> GrantOut:
    row = session.get(Grant, grant_id)
    if row is None:
        raise UnknownEntity(f"no grant {grant_id!r}")
    require_admin_of(actor, row.grantor_id)
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by = utcnow(), actor.id
        audit.record(session, actor, "grant.revoke", about=row.grantor_id, subject=f"grant {row.id}")
    return grant_out(row)


def _grantee_clause(institution_id: str | None, region: str | None,
                    app_id: str | None) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if institution_id:
        clauses.append(and_(Grant.grantee_kind == GranteeKind.INSTITUTION.value, Grant.grantee_id == institution_id))
    if region:
        clauses.append(and_(Grant.grantee_kind == GranteeKind.REGION.value, Grant.grantee_id == region))
    if app_id:
        clauses.append(and_(Grant.grantee_kind == GranteeKind.APP.value, Grant.grantee_id == app_id))
    return clauses


def list_grants(session: Session, actor: Principal) -> list[GrantOut]:
    """Grants the actor's institution gave (its admins) and those it or its region holds."""
    clauses = _grantee_clause(actor.institution, actor.region, actor.id if not actor.is_staff else None)
    if actor.is_staff and actor.institution:
        clauses.append(Grant.grantor_id == actor.institution)
    if not clauses:
        return []
    now = utcnow()
    return [grant_out(r, now) for r in session.scalars(select(Grant).where(or_(*clauses)).order_by(Grant.created_at))]


def active_for(session: Session, *, institution_id: str | None, region: str | None, app_id: str | None,
               now: datetime) -> tuple[ActiveGrant, ...]:
    clauses = _grantee_clause(institution_id, region, app_id)
    if not clauses:
        return ()
    rows = session.scalars(select(Grant).where(or_(*clauses), Grant.revoked_at.is_(None),
                                               or_(Grant.valid_until.is_(None), Grant.valid_until > now))
                           .order_by(Grant.id))
    return tuple(g for r in rows if (g := _in_force(r)) is not None)


def _in_force(row: Grant) -> ActiveGrant | None:
    """The grant as a principal carries it; None (logged) for one stored malformed: its grantee's requests go on
    without it rather than fail."""
    try:
        scope = GrantScope(row.scope)
        errors = scope_errors(scope, row.scope_value)
        if not errors:
            return ActiveGrant(id=row.id, grantor=row.grantor_id, grantee_kind=GranteeKind(row.grantee_kind),
                               grantee=row.grantee_id, tier=Tier(row.tier), scope=scope, value=row.scope_value,
                               purpose=Purpose(row.purpose), valid_until=row.valid_until)
    except ValueError as exc:  # a kind, tier, scope or purpose outside the vocabularies
        errors = [("grant", str(exc))]
    log.warning("grant %s of %s to %s %s is malformed and left out: %s", row.id, row.grantor_id, row.grantee_kind,
                row.grantee_id, "; ".join(f"{f}: {r}" for f, r in errors),
                extra={"grant": row.id, "grantor": row.grantor_id})
    return None
