"""Step 1 of ingest_batch: read the manifest, validate every row, check files, cut into chunks.

Valid rows go to chunk files (`work/chunk-00001.jsonl` …, `ingest.chunk_size` rows each) whose
keys are returned for the mapped tasks. Every rejected row, and every staged file that no row
lists, goes to `work/rejected.jsonl` with row, field and reason, and its files are copied to
quarantine. A valid row with something not understood (a date that names no years) gets warnings
in `work/warnings.jsonl`, which finalize adds to its item in the report. Deterministic: rerunning
writes the same keys with the same content.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from minio.commonconfig import CopySource

from indexing.periods import PeriodFlag, period_record
from schemas.columns import field_for
from schemas.manifest import ManifestRow
from services.ingest.batches import BatchProgress, BatchState, load_batch, save_batch
from services.ingest.context import IngestContext
from services.ingest.errors import ErrorCode
from services.ingest.keys import BatchKeys
from services.ingest.manifest import ManifestError, ParsedRow, RowError, read_manifest
from services.storage import list_keys, put_jsonl

log = logging.getLogger(__name__)


def rejection(row: int | None, object_id: str | None, errors: list[RowError], paths: list[str]) -> dict[str, Any]:
    return {"row": row, "object_id": printable(object_id), "status": "rejected", "paths": [printable(p) for p in paths],
            "errors": [{"field": printable(e.field), "code": e.code.value, "reason": printable(e.reason)}
                       for e in errors]}


def printable(text: str | None) -> Any:
    """`text` as UTF-8 can carry it: bytes that were not UTF-8, and lone surrogates a JSON line may hold
    ("\\ud800"), are written as escapes (\\udcb4) instead of failing the report."""
    return None if text is None else text.encode("utf-8", "backslashreplace").decode("utf-8")


def quarantine(ctx: IngestContext, batch_id: str, paths: list[str]) -> None:
    s3 = ctx.settings.s3
    for path in paths:
        key = BatchKeys(batch_id).staged(path)
        ctx.s3.copy_object(s3.bucket_quarantine, key, CopySource(s3.bucket_staging, key))


def _media_column(parsed: ParsedRow) -> str:
    return next((c for c in parsed.cells if field_for(c) == "media"), "media")


UNREAD_DATES = {PeriodFlag.UNRECOGNISED, PeriodFlag.AMBIGUOUS, PeriodFlag.INCONSISTENT}  # not "unknown": 不详 is meant


def warnings_of(parsed: ParsedRow, record: ManifestRow) -> list[dict[str, Any]]:
    """What a valid row says that was not understood: a date or period that names no years."""
    period = period_record(record.period, record.date)
    if period is None or period.parsed or period.flag not in UNREAD_DATES:
        return []
    target = "date" if record.date else "period"
    column = next((c if c == target else f"{c} ({target})" for c in parsed.cells if field_for(c) == target), target)
    return [{"field": column, "code": ErrorCode.DATE_UNPARSED.value,
             "reason": f"{period.source!r} could not be read as years ({period.flag}): the object is stored, but "
                       "period filters and date sorting will not find it; write years (1736–1795), a century "
                       "(18世纪) or a period name (清乾隆)"}]


def prepare(ctx: IngestContext, batch_id: str) -> list[str]:
    s3 = ctx.settings.s3
    batch = load_batch(ctx.s3, s3, batch_id)
    batch.state, batch.error = BatchState.RUNNING, None
    batch.progress = BatchProgress(started_at=datetime.now(UTC))
    save_batch(ctx.s3, s3, batch)
    keys = BatchKeys(batch_id)
    for old in list(list_keys(ctx.s3, s3.bucket_reports, keys.progress())):  # a rerun counts from zero
        ctx.s3.remove_object(s3.bucket_reports, old.object_name or "")
    prefix = keys.staged()
    staged = {o.object_name[len(prefix):] for o in list_keys(ctx.s3, s3.bucket_staging, prefix) if o.object_name}
    manifests = [o.object_name for o in list_keys(ctx.s3, s3.bucket_staging, keys.manifest())]
    if len(manifests) != 1 or manifests[0] is None:
        return _fail(ctx, batch_id, f"expected one manifest in the batch, found {len(manifests)}")

    rejected: list[dict[str, Any]] = []
    warned: list[dict[str, Any]] = []
    chunk: list[dict[str, Any]] = []
    chunk_keys: list[str] = []
    listed: set[str] = set()
    received = valid = 0

    def flush() -> None:
        if chunk:
            key = keys.chunk(len(chunk_keys) + 1).chunk
            put_jsonl(ctx.s3, s3.bucket_reports, key, chunk)
            chunk_keys.append(key)
            chunk.clear()

    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / Path(manifests[0]).name
        ctx.s3.fget_object(s3.bucket_staging, manifests[0], str(local))
        try:
            for parsed in read_manifest(local, max_rows=ctx.settings.ingest.max_manifest_rows,
                                        limits=ctx.settings.ingest):
                received += 1
                record = parsed.record
                paths = parsed.media_paths
                listed.update(paths)
                missing = [p for p in paths if p not in staged]
                errors = parsed.errors + [RowError(parsed.row, _media_column(parsed),
                                                   f"file {p!r} is listed but was not uploaded with the batch",
                                                   ErrorCode.MEDIA_MISSING) for p in missing]
                if record is None or errors:
                    present = [p for p in paths if p in staged]
                    rejected.append(rejection(parsed.row, parsed.object_id, errors, present))
                    quarantine(ctx, batch_id, present)
                    continue
                valid += 1
                if warnings := warnings_of(parsed, record):
                    warned.append({"row": parsed.row, "warnings": warnings})
                chunk.append({"row": parsed.row, "record": record.model_dump(mode="json")})
                if len(chunk) >= ctx.settings.ingest.chunk_size:
                    flush()
        except ManifestError as exc:
            return _fail(ctx, batch_id, f"manifest {Path(manifests[0]).name}: {exc}")
        flush()

    for path in sorted(staged - listed):
        received += 1
        rejected.append(rejection(None, None, [RowError(None, "media", f"file {path!r} is in the batch but no "
                                                        "manifest row lists it", ErrorCode.MEDIA_UNLISTED)], [path]))
        quarantine(ctx, batch_id, [path])
    put_jsonl(ctx.s3, s3.bucket_reports, keys.warnings, warned)
    put_jsonl(ctx.s3, s3.bucket_reports, keys.rejected, rejected)

    batch = load_batch(ctx.s3, s3, batch_id)
    batch.counts.received, batch.counts.valid, batch.counts.rejected = received, valid, len(rejected)
    batch.progress.validated = valid
    save_batch(ctx.s3, s3, batch)
    log.info("prepared batch", extra={"batch_id": batch_id, "received": received, "valid": valid,
                                      "chunks": len(chunk_keys)})
    return chunk_keys


def _fail(ctx: IngestContext, batch_id: str, reason: str) -> list[str]:
    """A manifest that cannot be read at all fails the batch with the reason (nothing is ingested)."""
    batch = load_batch(ctx.s3, ctx.settings.s3, batch_id)
    batch.state, batch.error = BatchState.FAILED, reason
    save_batch(ctx.s3, ctx.settings.s3, batch)
    put_jsonl(ctx.s3, ctx.settings.s3.bucket_reports, BatchKeys(batch_id).rejected, [])
    return []
