"""Step 2 of ingest_batch, one chunk at a time: fetch each row's files, derive them (services/ingest/derive.py),
build the asset records.

Originals are content-addressed (sha256) under the institution, so identical files are stored
once and a rerun writes nothing new; derivatives sit under the original's hash. Files go
through a temporary directory, a few rows at a time (`ingest.store_threads`), so memory stays flat whatever
the batch size.
A row whose file is rejected (truncated, not an image, a decompression bomb, …) is rejected
whole, its files quarantined; the other rows of the chunk go on.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from indexing.enrich import derive
from schemas.asset import AssetRecord, ImageRecord, asset_id_for
from schemas.manifest import ManifestRow
from schemas.media import MediaRecord, MediaType
from services.ingest.batches import BatchRecord, load_batch
from services.ingest.context import IngestContext
from services.ingest.derive import derive_file
from services.ingest.errors import ErrorCode
from services.ingest.keys import BatchKeys, ChunkKeys
from services.ingest.manifest import RowError
from services.ingest.media import MediaRejected
from services.ingest.prepare import quarantine, rejection
from services.ingest.progress import StepDone
from services.storage import get_jsonl, put_jsonl, stat

log = logging.getLogger(__name__)


def store_chunk(ctx: IngestContext, batch_id: str, chunk_key: str) -> StepDone:
    """A chunk's rows stored → its `result` key, the rows and how many were stored (not rejected).

    Rows go through `ingest.store_threads` threads: most of a row's time is waiting on object storage."""
    s3 = ctx.settings.s3
    batch = load_batch(ctx.s3, s3, batch_id)
    items = get_jsonl(ctx.s3, s3.bucket_reports, chunk_key)
    with ThreadPoolExecutor(max(1, ctx.settings.ingest.store_threads)) as pool:
        results = list(pool.map(lambda item: _store_row(ctx, batch, item), items))
    key = ChunkKeys.of(chunk_key).result
    put_jsonl(ctx.s3, s3.bucket_reports, key, results)
    log.info("stored chunk", extra={"batch_id": batch_id, "chunk": chunk_key, "items": len(results)})
    return StepDone(key, len(results), sum(1 for r in results if r["status"] == "stored"))


def media_summary(images: list[ImageRecord], media_files: list[MediaRecord]) -> dict[str, Any]:
    """The asset-level facets of its files: which kinds it holds, its longest recording, its pages."""
    kinds = {MediaType.IMAGE} if any(im.of_media is None for im in images) else set()
    kinds |= {m.media_type for m in media_files}
    durations = [m.duration_s for m in media_files if m.duration_s is not None]
    pages = [m.page_count for m in media_files if m.page_count is not None]
    return {"media_files": media_files, "media_types": sorted(kinds),
            "duration_s": max(durations) if durations else None, "page_count": sum(pages) if pages else None}


def _store_row(ctx: IngestContext, batch: BatchRecord, item: dict[str, Any]) -> dict[str, Any]:
    """One row's files fetched, derived and stored → its result (the stored document, or the rejection)."""
    s3, batch_id, institution = ctx.settings.s3, batch.batch_id, batch.institution
    # The largest file any kind accepts; derive_file holds images and other media to their own limits below it.
    max_bytes = min(batch.max_file_bytes or 1 << 62,
                    max(ctx.settings.ingest.max_file_bytes, ctx.settings.media.max_file_bytes))
    row, record = item["row"], ManifestRow.model_validate(item["record"])
    asset_id = asset_id_for(institution, record.object_id)
    images: list[ImageRecord] = []
    media_files: list[MediaRecord] = []
    errors: list[RowError] = []
    with tempfile.TemporaryDirectory() as tmp:
        for ref in record.media:
            local = Path(tmp) / f"original{Path(ref.path).suffix.lower()}"  # readers may look at the suffix
            key = BatchKeys(batch_id).staged(ref.path)
            staged = stat(ctx.s3, s3.bucket_staging, key)
            size = staged.size or 0 if staged else 0
            if size > max_bytes:  # refuse before downloading it
                errors.append(RowError(row, "media", f"{ref.path}: {size} bytes is over the limit of {max_bytes} "
                                       "bytes for a file", ErrorCode.TOO_LARGE))
                continue
            ctx.s3.fget_object(s3.bucket_staging, key, str(local))
            work = Path(tmp) / "work"
            try:
                found, media = derive_file(ctx, institution, asset_id, batch_id, local, ref.path, ref.label, work,
                                           max_bytes)
                images += found
                media_files += [media] if media else []
            except MediaRejected as exc:
                errors.append(RowError(row, "media", f"{ref.path}: {exc.message}", exc.reason))
            local.unlink(missing_ok=True)
            shutil.rmtree(work, ignore_errors=True)
    if errors:
        paths = [m.path for m in record.media]
        quarantine(ctx, batch_id, paths)
        return rejection(row, record.object_id, errors, paths)
    asset = derive(AssetRecord(**record.model_dump(), asset_id=asset_id, institution=institution, region=batch.region,
                               batch_id=batch_id, images=images, has_image=bool(images), ingested_at=datetime.now(UTC),
                               **media_summary(images, media_files)))
    return {"row": row, "object_id": record.object_id, "status": "stored", "asset_id": asset.asset_id,
            "paths": [m.path for m in record.media], "document": asset.model_dump(mode="json")}
