"""The derive part of ingest_batch's store step, one file at a time: technical metadata and hashes
(services/ingest/media.py), the original stored content-addressed, thumbnail and preview made.

Keys come from `AssetKeys` (services/ingest/keys.py): a file already stored, or whose derivatives
exist, is not written again, so a rerun is cheap and changes nothing.
"""

from __future__ import annotations

from pathlib import Path

from schemas.asset import ImageRecord, image_id_for
from services.ingest.context import IngestContext
from services.ingest.keys import AssetKeys
from services.ingest.media import inspect_image, make_derivatives
from services.storage import stat

DERIVATIVES = ("thumbnail", "preview")


def derive_image(ctx: IngestContext, institution: str, asset_id: str, batch_id: str, local: Path, path: str,
                 label: str | None, work: Path, max_bytes: int) -> ImageRecord:
    """Inspect one downloaded file, store it and its derivatives → its image record (MediaRejected if refused)."""
    ing, bucket = ctx.settings.ingest, ctx.settings.s3.bucket_assets
    asset_keys = AssetKeys(institution)
    info = inspect_image(local, max_bytes=max_bytes, max_pixels=ing.max_image_pixels)
    key = asset_keys.original(info.sha256, info.format)
    if stat(ctx.s3, bucket, key) is None:
        ctx.s3.fput_object(bucket, key, str(local), content_type=info.mime, part_size=ing.part_size_bytes,
                           metadata={"sha256": info.sha256, "batch": batch_id})
    keys = {name: asset_keys.derivative(info.sha256, name) for name in DERIVATIVES}
    if any(stat(ctx.s3, bucket, k) is None for k in keys.values()):
        for d in make_derivatives(local, work, thumbnail_px=ing.thumbnail_px, preview_px=ing.preview_px):
            ctx.s3.fput_object(bucket, keys[d.name], str(d.path), content_type=d.mime)
    return ImageRecord(id=image_id_for(asset_id, info.sha256), sha256=info.sha256, key=key, path=path, label=label,
                       format=info.format, mime=info.mime,
                       width=info.width, height=info.height, mode=info.mode, size_bytes=info.size_bytes,
                       exif=info.exif, phash=info.phash, thumbnail_key=keys["thumbnail"],
                       preview_key=keys["preview"])
