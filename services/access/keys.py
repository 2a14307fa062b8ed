"""API keys: made here, shown once, kept only as a SHA-256 digest, named by a prefix, revocable.

A key reads `wy_<8 hex>.<43 url-safe characters>`: the part before the dot is its prefix — stored
in clear to find the row and to name the key in lists and in the audit log; the whole key is
hashed. The secret has 256 bits, so a plain SHA-256 is the right hash (a slow password hash
buys nothing against a guess that size and would cost every request); digests are compared in
constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.access import (
    APP_SCOPES,
    OPERATOR_SCOPES,
    ROLE_SCOPES,
    PrincipalKind,
    Role,
    Scope,
)
from schemas.organisations import KeyCreated, KeyIn, KeyOut
from services.access import audit
from services.access import generation as _generation  # noqa: F401  (its commit hook ends cached principals)
from services.access.errors import InvalidKey, NotAllowed, UnknownEntity
from services.access.models import ApiKey, Operator, Staff, utcnow
from services.access.orgs import app, require_admin_of, require_operator, staff_member
from services.access.principals import Principal
from services.messages import Message

KEY_PATTERN = re.compile(r"^(wy_[0-9a-f]{8})\.([A-Za-z0-9_-]{43})$")


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> tuple[str, str]:
    """(key, prefix)."""
    prefix = f"wy_{secrets.token_hex(4)}"
    return f"{prefix}.{secrets.token_urlsafe(32)}", prefix


def allowed_scopes(row: ApiKey) -> frozenset[Scope]:
    """What the key's owner may do now (a demoted staff member's old keys shrink with the role)."""
    if row.owner_kind == PrincipalKind.STAFF and row.staff is not None:
        return ROLE_SCOPES[Role(row.staff.role)]
    if row.owner_kind == PrincipalKind.APP:
        return APP_SCOPES
    if row.owner_kind == PrincipalKind.OPERATOR:
        return OPERATOR_SCOPES
    return frozenset()


def key_out(row: ApiKey) -> KeyOut:
    owner = row.staff_id or row.app_id or row.operator_id or ""
    return KeyOut(prefix=row.prefix, owner_kind=PrincipalKind(row.owner_kind), owner=owner,
                  institution=row.staff.institution_id if row.staff else None,
                  scopes=[Scope(s) for s in row.scopes], rate_limit_per_min=row.rate_limit_per_min, label=row.label,
                  created_at=row.created_at, expires_at=row.expires_at, revoked_at=row.revoked_at)


def create_key(session: Session, actor: Principal, body: KeyIn, default_rate: int) -> KeyCreated:
    about: str | None = None
    if body.staff is not None:
        member = staff_member(session, body.staff)
        require_admin_of(actor, member.institution_id)
        kind, allowed, about = PrincipalKind.STAFF, ROLE_SCOPES[Role(member.role)], member.institution_id
    elif body.app is not None:
        require_operator(actor)
        app(session, body.app)
        kind, allowed = PrincipalKind.APP, APP_SCOPES
    else:
        require_operator(actor)
        if session.get(Operator, body.operator) is None:
            raise UnknownEntity(f"no operator {body.operator!r}")
        kind, allowed = PrincipalKind.OPERATOR, OPERATOR_SCOPES
    scopes = set(body.scopes) if body.scopes is not None else set(allowed)
    if extra := scopes - allowed:
        raise NotAllowed(f"a {kind.value} key cannot have the scopes {sorted(s.value for s in extra)}; "
                         f"it may have {sorted(s.value for s in allowed)}")
    key, prefix = new_key()
    row = ApiKey(prefix=prefix, digest=digest(key), owner_kind=kind.value, staff_id=body.staff, app_id=body.app,
                 operator_id=body.operator, label=body.label, scopes=sorted(s.value for s in scopes),
                 rate_limit_per_min=body.rate_limit_per_min or default_rate, created_by=actor.id,
                 expires_at=body.expires_at)
    session.add(row)
    session.flush()
    session.refresh(row)
    audit.record(session, actor, "key.create", about=about, subject=f"key {prefix}", owner_kind=kind.value,
                 owner=body.staff or body.app or body.operator, scopes=row.scopes)
    return KeyCreated(key=key, **key_out(row).model_dump())


def _institution_of(row: ApiKey) -> str | None:
    return row.staff.institution_id if row.staff else None


def list_keys(session: Session, actor: Principal, institution: str | None = None) -> list[KeyOut]:
    """An operator sees every key (or one institution's); an admin the keys of its institution's staff."""
    if actor.kind is PrincipalKind.OPERATOR:
        require_operator(actor)
    else:
        institution = actor.institution or ""
        require_admin_of(actor, institution)
    query = select(ApiKey).order_by(ApiKey.created_at)
    if institution is not None:
        query = query.join(Staff, ApiKey.staff_id == Staff.id).where(Staff.institution_id == institution)
    return [key_out(r) for r in session.scalars(query).unique()]


def revoke_key(session: Session, actor: Principal, prefix: str) -> KeyOut:
    row = session.get(ApiKey, prefix)
    if row is None:
        raise UnknownEntity(f"no key {prefix!r}")
    institution = _institution_of(row)
    if institution is not None:
        require_admin_of(actor, institution)
    else:
        require_operator(actor)
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by = utcnow(), actor.id
        audit.record(session, actor, "key.revoke", about=institution, subject=f"key {prefix}")
    return key_out(row)


def authenticate(session: Session, key: str, now: datetime) -> ApiKey:
    """The key's row; InvalidKey for a malformed, unknown, revoked or expired key (one message for all but
    the format, so a caller cannot tell an unknown prefix from a wrong secret)."""
    match = KEY_PATTERN.fullmatch(key.strip())
    if match is None:
        raise InvalidKey(Message("key.malformed"))
    row = session.get(ApiKey, match.group(1))
    wanted = row.digest if row is not None else digest("wy_00000000." + "0" * 43)  # same work for unknown keys:
    matches = hmac.compare_digest(wanted, digest(key.strip()))  # compared before `row is None` is looked at
    if row is None or not matches:
        raise InvalidKey(Message("key.invalid"))
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        raise InvalidKey(Message("key.invalid"))
    return row
