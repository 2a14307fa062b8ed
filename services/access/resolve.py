"""From an API key to the principal a request acts as: its owner, scopes, limit and the grants in force.

`principal_for_key` reads the store (a primary-key read and one indexed query, through the ORM).
The gateway asks `PrincipalCache` instead, which keeps each key's principal in the process and
reads the store only on a miss: an entry holds while the access store's generation
(services/access/generation.py: every commit that changes keys, grants or organisations moves it,
in this process and, through Redis, in every other) is the one it was made at, until the key or
one of its grants expires, and at most `access.principal_cache_s`. So a revoked key, a changed role
or a revoked grant still takes effect on the next request, in every gateway worker; a hit costs
one Redis GET (none where no Redis is configured) and no database read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime

import anyio
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from schemas.access import PrincipalKind, Role, Scope
from services.access import generation
from services.access.db import Database
from services.access.grants import active_for
from services.access.keys import allowed_scopes, authenticate, digest
from services.access.models import utcnow
from services.access.principals import ANONYMOUS, Principal
from services.settings import Settings

MAX_ENTRIES = 10_000  # keys a process keeps; past it the cache starts again empty


def principal_for_key(session: Session, key: str, now: datetime | None = None) -> Principal:
    return _principal(session, key, now or utcnow())[0]


def _principal(session: Session, key: str, now: datetime) -> tuple[Principal, datetime | None]:
    """The principal, and when it stops being what it is without any write to the store (the key's expiry or
    the end of one of its grants; None: never)."""
    row = authenticate(session, key, now)
    scopes = frozenset(Scope(s) for s in row.scopes) & allowed_scopes(row)
    base = Principal(kind=PrincipalKind.ANONYMOUS, key_prefix=row.prefix, rate_limit_per_min=row.rate_limit_per_min,
                     scopes=scopes)
    principal = ANONYMOUS
    if row.owner_kind == PrincipalKind.STAFF and row.staff is not None:
        member = row.staff
        inst = member.institution
        dept = member.department
        grants = active_for(session, institution_id=inst.id, region=inst.region_code, app_id=None, now=now)
        principal = replace(base, kind=PrincipalKind.STAFF, id=member.id, name=member.name, institution=inst.id,
                            department=dept.slug if dept else None, department_names=dept.names if dept else (),
                            region=inst.region_code, role=Role(member.role), grants=grants)
    elif row.owner_kind == PrincipalKind.APP and row.app is not None:
        grants = active_for(session, institution_id=None, region=None, app_id=row.app.id, now=now)
        principal = replace(base, kind=PrincipalKind.APP, id=row.app.id, name=row.app.name, grants=grants)
    elif row.owner_kind == PrincipalKind.OPERATOR and row.operator is not None:
        principal = replace(base, kind=PrincipalKind.OPERATOR, id=row.operator.id, name=row.operator.name)
    ends = [t for t in (row.expires_at, *(g.valid_until for g in principal.grants)) if t is not None]
    return principal, min(ends, default=None)


@dataclass(frozen=True)
class _Entry:
    principal: Principal
    local: int  # this process's generation when it was made
    shared: int | None  # Redis's (None: no Redis configured)
    until: float  # time.monotonic() past which it is read again
    ends: datetime | None  # the key's expiry or a grant's end, whichever is first


class PrincipalCache:
    """The principals of one gateway process, by the SHA-256 of their key (services/access/keys.digest)."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.ttl_s = settings.access.principal_cache_s
        self._entries: dict[str, _Entry] = {}
        generation.announce_to(settings)

    def _load(self, key: str) -> tuple[Principal, datetime | None]:
        with self.db.session() as session:
            return _principal(session, key, utcnow())

    async def principal(self, key: str) -> Principal:
        """The key's principal; InvalidKey (never cached) for a malformed, unknown, revoked or expired key."""
        if self.ttl_s <= 0:
            return (await anyio.to_thread.run_sync(self._load, key))[0]
        local = generation.local()  # read before the store: a change meanwhile makes the new entry stale at once
        try:
            shared = await generation.shared(self.settings)
        except RedisError:  # whether another worker changed the store is unknown: read it, keep nothing
            return (await anyio.to_thread.run_sync(self._load, key))[0]
        name = digest(key.strip())
        entry = self._entries.get(name)
        if (entry is not None and entry.local == local and entry.shared == shared and time.monotonic() < entry.until
                and (entry.ends is None or utcnow() < entry.ends)):
            return entry.principal
        principal, ends = await anyio.to_thread.run_sync(self._load, key)
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[name] = _Entry(principal, local, shared, time.monotonic() + self.ttl_s, ends)
        return principal

    def clear(self) -> None:
        self._entries.clear()
