"""A writer of audit events in a process of its own, as a gateway worker is (tests/integration/test_audit_chain.py):
imports only what appending needs, so a spawned process starts quickly."""

from __future__ import annotations

from typing import Any

from schemas.access import OPERATOR_SCOPES, PrincipalKind
from services.access import audit
from services.access.db import Database
from services.access.principals import Principal
from services.settings import DatabaseSettings

OPERATOR = Principal(kind=PrincipalKind.OPERATOR, id="ops", name="ops", scopes=OPERATOR_SCOPES)


def write(url: str, n: int, tag: str, start: Any) -> None:
    """`n` deliveries, each its own transaction, after every writer is ready (`start`, a Barrier)."""
    db = Database(DatabaseSettings(url=url))
    start.wait()
    try:
        for i in range(n):
            with db.session() as s:
                audit.record(s, OPERATOR, "deliver", outcome="allowed", about="palace", asset_id=f"{tag}-{i}",
                             subject="image 0 preview", tier="preview", basis="CC-BY-4.0", n=i)
    finally:
        db.close()
