"""The audit log: every delivery (and refusal) and every admin change, appended, never changed.

Admin changes are written in the same transaction as the change itself, so neither exists
without the other. `GET /v1/audit` shows an institution's admins the events about their own
institution only (`about_institution`): deliveries of its assets, and changes to its staff, keys,
departments and grants.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.access.models import AuditEvent, utcnow
from services.access.principals import Principal


def record(session: Session, actor: Principal, action: str, *, outcome: str = "done",
           about: str | None = None, asset_id: str | None = None, subject: str | None = None,
           tier: str | None = None, basis: str | None = None, **detail: Any) -> AuditEvent:
    event = AuditEvent(at=utcnow(), action=action, outcome=outcome, actor_kind=actor.kind.value, actor_id=actor.id,
                       actor_institution=actor.institution, actor_key=actor.key_prefix, about_institution=about,
                       asset_id=asset_id, subject=subject, tier=tier, basis=basis, detail=detail)
    session.add(event)
    return event


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
