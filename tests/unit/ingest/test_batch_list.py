"""The cursor of the batch listing: the position of a batch, written and read back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.ingest.batch_list import BadCursor, cursor_of, parse_cursor, position
from services.ingest.batches import BatchRecord


def test_a_cursor_reads_back_as_the_position_of_its_batch() -> None:
    batch = BatchRecord(batch_id="20261201-0123456789ab", institution="museum",
                        created_at=datetime(2026, 12, 1, 8, 30, 0, 123456, tzinfo=UTC))

    assert parse_cursor(cursor_of(batch)) == position(batch) == (1796113800123456, "20261201-0123456789ab")


@pytest.mark.parametrize("cursor", ["", "yesterday", "123", "123.", ".20261201-ab", "12.a/b", "1.a b"])
def test_anything_else_is_not_a_cursor(cursor: str) -> None:
    with pytest.raises(BadCursor):
        parse_cursor(cursor)
