"""One institution's batches, newest first, a page at a time, read from the batch records in S3.

Batch records are `batches/{batch_id}/batch.json` in the reports bucket, of every institution together;
there is no index of them. Batch ids begin with their UTC day (`20261201-…`, services/ingest/batches.py),
so the day prefixes are listed (names only, paged by the client's list_objects) from the newest day back,
and only the records of the days a page reaches are read. Within a day, batches are ordered by
`created_at`. The cursor is the position of the last batch returned: its creation time and its id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import groupby

from minio import Minio

from services.ingest.batches import BatchRecord, load_batch
from services.settings import S3Settings
from services.storage import ObjectNotFound

PREFIX = "batches/"
CURSOR = re.compile(r"^([0-9]{1,18})\.([0-9A-Za-z-]{1,64})$")
LATEST_MICROS = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999Z: the last instant a datetime can hold

Position = tuple[int, str]  # (created_at in microseconds since the epoch, batch id)


class BadCursor(ValueError):
    """The `before` cursor is not one this listing gave."""


def position(batch: BatchRecord) -> Position:
    return round(batch.created_at.timestamp() * 1_000_000), batch.batch_id


def cursor_of(batch: BatchRecord) -> str:
    micros, batch_id = position(batch)
    return f"{micros}.{batch_id}"


def parse_cursor(cursor: str) -> Position:
    match = CURSOR.fullmatch(cursor)
    if not match:
        raise BadCursor(f"not a cursor of this listing: {cursor[:100]!r}")
    micros = int(match[1])
    if micros > LATEST_MICROS:  # a day past year 9999 would not even be a date to start from
        raise BadCursor(f"not a cursor of this listing: {cursor[:100]!r}")
    return micros, match[2]


def _day(batch_id: str) -> str:
    return batch_id.split("-", 1)[0]


def _batch_ids(s3: Minio, bucket: str) -> list[str]:
    ids = []
    for obj in s3.list_objects(bucket, prefix=PREFIX):  # one common prefix per batch: batches/{id}/
        name = (obj.object_name or "").removeprefix(PREFIX).rstrip("/")
        if obj.is_dir and name:
            ids.append(name)
    return sorted(ids, reverse=True)


def _records(s3: Minio, s3_settings: S3Settings, ids: list[str]) -> Iterator[BatchRecord]:
    for batch_id in ids:
        try:
            yield load_batch(s3, s3_settings, batch_id)
        except ObjectNotFound:  # a prefix without its record (being written, or a stray object)
            continue


def list_batches(s3: Minio, s3_settings: S3Settings, institution: str, *, limit: int,
                 before: str | None = None) -> tuple[list[BatchRecord], str | None]:
    """Up to `limit` batches of `institution` older than the cursor `before`, newest first; and the next cursor."""
    start = parse_cursor(before) if before else None
    start_day = datetime.fromtimestamp(start[0] / 1_000_000, UTC).strftime("%Y%m%d") if start else None
    page: list[BatchRecord] = []
    for day, ids in groupby(_batch_ids(s3, s3_settings.bucket_reports), key=_day):
        if start_day is not None and day > start_day and day.isdigit():
            continue  # newer than the cursor: not read
        batches = sorted((b for b in _records(s3, s3_settings, list(ids)) if b.institution == institution),
                         key=position, reverse=True)
        page += [b for b in batches if start is None or position(b) < start]
        if len(page) > limit:
            break
    more = len(page) > limit
    page = page[:limit]
    return page, cursor_of(page[-1]) if more and page else None
