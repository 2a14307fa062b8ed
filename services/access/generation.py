"""The access store's generation: a counter that moves on every commit that changes what a principal is made of.

The gateway caches principals (services/access/resolve.PrincipalCache); an entry holds only while the
generation it was made at is still the current one, so a revoked key, a revoked grant or a changed role
takes effect on the next request.

- In each process: a counter, moved by an SQLAlchemy `after_commit` hook on every session whose flushes
  wrote anything but audit events (an audit row changes no principal, and deliveries write one each).
- Across processes (the gateway's workers, a CLI or test process writing to the same store): the same
  commit also increments `GENERATION_KEY` in Redis, which every cache reads per request. Where no Redis
  is configured only the process's own commits are seen (one gateway worker, its own admin routes); a
  cached principal also expires after `access.principal_cache_s` whatever happens.

The hook is registered when this module is imported; services/access/keys.py and resolve.py import it,
so every process that writes keys, grants or organisations, or resolves principals, has it.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from services.access.models import AuditEvent
from services.redis_store import redis_client, redis_sync_client
from services.settings import Settings, get_settings

log = logging.getLogger(__name__)

GENERATION_KEY = "wenyuan:access:generation"
_CHANGED = "wenyuan_access_changed"  # Session.info flag: this transaction wrote a principal's makings

_lock = threading.Lock()
_local = 0
_settings: list[Settings] = []  # the settings whose Redis a change is announced to (besides get_settings())


def local() -> int:
    """This process's own count of access-store commits."""
    return _local


def announce_to(settings: Settings) -> None:
    """Also announce changes to this settings' Redis (a gateway made with settings other than the process's)."""
    with _lock:
        if all(s.redis.url != settings.redis.url for s in _settings):
            _settings.append(settings)


def changed() -> None:
    """Every cached principal is stale now: move this process's counter and the shared one in Redis."""
    global _local
    with _lock:
        _local += 1
        targets = {s.redis.url: s for s in (get_settings(), *_settings) if s.redis.url}
    for settings in targets.values():
        client = redis_sync_client(settings)
        if client is None:
            continue
        try:
            client.incr(GENERATION_KEY)
        except RedisError as exc:  # the other workers' caches now hold until principal_cache_s at most
            log.warning("could not announce an access change to Redis: %s", exc)


async def shared(settings: Settings) -> int | None:
    """The shared generation in Redis (0 before any change); None when none is configured. RedisError when it is
    down: a caller then cannot know whether its cache holds."""
    client = redis_client(settings)
    if client is None:
        return None
    value = await client.get(GENERATION_KEY)
    return int(value) if value is not None else 0


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _context: Any) -> None:
    if any(not isinstance(obj, AuditEvent) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        changed()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)
