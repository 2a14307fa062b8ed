"""The audit log: every delivery (and refusal) and every admin change, appended, never changed.

Admin changes are written in the same transaction as the change itself, so neither exists
without the other. `GET /v1/audit` shows an institution's admins the events about their own
institution only (`about_institution`): deliveries of its assets, and changes to its staff, keys,
departments and grants.

The log is a hash chain, so a change made to it behind the service's back shows (the database
itself also refuses UPDATE and DELETE of its rows: the first migration). Each event stores the
previous event's hash (`prev_hash`; the first one's is GENESIS) and its own: the SHA-256 of a
canonical JSON of its fields and `prev_hash` (`canonical`). The chain's head, one row of
`audit_chain` (its length, its last event's id and hash), is locked by an UPDATE before an event is
appended and moved after, in the same transaction: writers in several gateway processes take turns
(PostgreSQL's row lock; SQLite's one writer), so the chain never forks. `verify` walks it and names
the first broken link (`wenyuan audit verify`). The chain starts at migration 0002: events written
before it carry no hashes and are counted apart. Events without hashes after it began (written by a
gateway of an older version still running during an upgrade, or put in by hand) are outside the chain:
verify counts them and names the first, and `--strict` fails on them.

A hash chain shows changes to and removals of the events in it; it cannot stop someone with write access
to the database from appending well-chained events of their own, or rewriting every event after a change
and the head (the hash has no secret key). Keep the head's hash that verify prints somewhere else (a log or
a ticket) and compare: a rewritten chain ends in a different one.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.access.models import AuditChain, AuditEvent, utcnow
from services.access.principals import Principal

GENESIS = "0" * 64
HEAD = 1  # the id of audit_chain's one row
HASHED = ("at", "action", "outcome", "actor_kind", "actor_id", "actor_institution", "actor_key", "about_institution",
          "asset_id", "subject", "tier", "basis", "detail", "prev_hash")


def canonical(event: AuditEvent) -> bytes:
    """What an event's hash is taken of: its fields (the id, given by the database, aside) and prev_hash as JSON
    with sorted keys, no spaces, UTF-8, the time in UTC to the microsecond."""
    doc: dict[str, Any] = {name: getattr(event, name) for name in HASHED}
    doc["at"] = event.at.astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def event_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical(event)).hexdigest()


def record(session: Session, actor: Principal, action: str, *, outcome: str = "done",
           about: str | None = None, asset_id: str | None = None, subject: str | None = None,
           tier: str | None = None, basis: str | None = None, **detail: Any) -> AuditEvent:
    # Lock the head and read it in one statement: the UPDATE waits for any other writer's transaction to end, and
    # then returns the hash that writer left (PostgreSQL re-reads a row it waited for; SQLite has one writer).
    prev = session.execute(update(AuditChain).where(AuditChain.id == HEAD).values(length=AuditChain.length + 1)
                           .returning(AuditChain.hash), execution_options={"synchronize_session": False}).scalar_one()
    event = AuditEvent(at=utcnow(), action=action, outcome=outcome, actor_kind=actor.kind.value, actor_id=actor.id,
                       actor_institution=actor.institution, actor_key=actor.key_prefix, about_institution=about,
                       asset_id=asset_id, subject=subject, tier=tier, basis=basis,
                       detail=json.loads(json.dumps(detail)),  # as it will read back from the JSON column
                       prev_hash=prev)
    event.hash = event_hash(event)
    session.add(event)
    session.flush()  # its id, for the head
    session.execute(update(AuditChain).where(AuditChain.id == HEAD).values(head_id=event.id, hash=event.hash),
                    execution_options={"synchronize_session": False})
    return event


def _in_order(session: Session, batch: int) -> Iterator[AuditEvent]:
    """Every event by id, `batch` at a time (pages by id, no cursor left open when the walk stops early)."""
    last = 0
    while page := list(session.scalars(select(AuditEvent).where(AuditEvent.id > last)
                                       .order_by(AuditEvent.id).limit(batch))):
        yield from page
        last = page[-1].id
        for event in page:  # flat memory over a long log
            session.expunge(event)


@dataclass(frozen=True)
class ChainReport:
    chained: int  # events of the chain checked
    before: int  # events written before the chain began (migration 0002), without hashes
    head_hash: str  # the hash of the last event checked (GENESIS for none)
    broken_at: int | None = None  # the id of the first event that breaks the chain (0: the head itself)
    reason: str | None = None
    unchained: int = 0  # events without hashes after the chain began: outside it, unprotected
    first_unchained: int | None = None

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def verify(session: Session, *, batch: int = 1000) -> ChainReport:
    """Walk the chain from its first event to the head; stop at the first broken link."""
    head = session.execute(select(AuditChain.length, AuditChain.head_id, AuditChain.hash)
                           .where(AuditChain.id == HEAD)).one_or_none()
    chained = before = unchained = 0
    prev, prev_id, first_unchained = GENESIS, None, None

    def broken(at: int | None, reason: str | None) -> ChainReport:
        return ChainReport(chained, before, prev, at, reason, unchained, first_unchained)

    if head is None:
        return broken(0, "the chain's head (the one row of audit_chain) is missing")
    for event in _in_order(session, batch):
        if event.hash is None:
            if prev_id is None:
                before += 1
                continue
            unchained += 1  # a gateway older than 0002 still running, or a row put in by hand: named, not a break
            first_unchained = first_unchained or event.id
            continue
        if event.prev_hash != prev:
            why = (f"event {prev_id} was changed, or events after it removed" if prev_id is not None
                   else "the chain's first events were removed")
            return broken(event.id, f"event {event.id} is not chained to the event before it: {why}")
        if event_hash(event) != event.hash:
            return broken(event.id, f"event {event.id} no longer matches its hash: it was changed after it was written")
        chained, prev, prev_id = chained + 1, event.hash, event.id
    if (chained, prev_id, prev) != (head.length, head.head_id, head.hash):
        return broken(0, f"the chain's head records {head.length} events ending at event {head.head_id}, but "
                         f"{chained} end at event {prev_id}: events were removed from its end, or the head was changed")
    return broken(None, None)


def _cursor(event_id: int) -> str:
    return base64.urlsafe_b64encode(str(event_id).encode()).decode().rstrip("=")


MAX_EVENT_ID = 2**31 - 1  # the id column is an INTEGER: a larger id is no cursor this log gave


def _after(cursor: str | None) -> int | None:
    """The id a cursor starts before; ValueError for anything `_cursor` did not write."""
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        if not text.isdigit() or not 0 < int(text) <= MAX_EVENT_ID:
            raise ValueError(text)
        return int(text)
    except ValueError as exc:  # binascii.Error and UnicodeDecodeError are ValueErrors too
        raise ValueError("the cursor is not one this service issued: pass `next` unchanged") from exc


def events(session: Session, institution: str | None, *, action: str | None = None, asset_id: str | None = None,
           since: datetime | None = None, limit: int = 100, cursor: str | None = None
           ) -> tuple[list[AuditEvent], str | None]:
    """Newest first; `institution` None means every event (operators)."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit + 1)
    if institution is not None:
        query = query.where(AuditEvent.about_institution == institution)
    if action:
        query = query.where(AuditEvent.action == action)
    if asset_id:
        query = query.where(AuditEvent.asset_id == asset_id)
    if since:
        query = query.where(AuditEvent.at >= since)
    if (before := _after(cursor)) is not None:
        query = query.where(AuditEvent.id < before)
    rows = list(session.scalars(query))
    nxt = _cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], nxt
