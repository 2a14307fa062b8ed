"""The derive part of ingest_batch's store step, one file at a time: what kind of file it is (its bytes decide:
services/ingest/media_kinds.py), its technical metadata and hashes, the original stored content-addressed,
its derivatives made.

A still image becomes one `ImageRecord` (thumbnail and preview). A document, a recording or a 3D model becomes
one `MediaRecord` (its web derivatives: poster, contact sheet, rendition, waveform, GLB, text) plus an
`ImageRecord` for each of its pages, keyframes or rendered views (`of_media` set), which go through the same
image path as an uploaded picture — so the Image API, image vectors and search by picture treat them alike.

Keys come from `AssetKeys` (services/ingest/keys.py): a file already stored, or whose derivatives exist, is not
written again, so a rerun changes nothing.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from schemas.asset import ImageRecord, image_id_for
from schemas.media import MediaDerivative, MediaRecord, media_id_for
from services.ingest.context import IngestContext
from services.ingest.keys import AssetKeys
from services.ingest.media import inspect_image, make_derivatives
from services.ingest.media_kinds import DeriveParams, Kind, MediaFacts, MediaLimits, Surrogate, sniff
from services.settings import Settings
from services.storage import stat

DERIVATIVES = ("thumbnail", "preview")

# Which module reads each kind (imported when first needed: an images-only deployment never loads PyAV or pdfium).
_READERS = {Kind.DOCUMENT: ("services.ingest.media_document", "document"),
            Kind.AV: ("services.ingest.media_av", "av"),
            Kind.MODEL: ("services.ingest.media_model", "model")}


def derive_file(ctx: IngestContext, institution: str, asset_id: str, batch_id: str, local: Path, path: str,
                label: str | None, work: Path, max_bytes: int) -> tuple[list[ImageRecord], MediaRecord | None]:
    """One downloaded file stored with its derivatives → its images and, for non-images, its media record
    (MediaRejected if refused). `max_bytes` caps any file; images and other media have their own limits below it."""
    kind = sniff(local, path)
    settings = ctx.settings
    if kind is Kind.IMAGE:
        image = derive_image(ctx, institution, asset_id, batch_id, local, path, label, work,
                             min(max_bytes, settings.ingest.max_file_bytes))
        return [image], None
    module_name, suffix = _READERS[kind]
    module = importlib.import_module(module_name)
    facts: MediaFacts = getattr(module, f"inspect_{suffix}")(local, media_limits(settings, max_bytes))
    asset_keys, bucket = AssetKeys(institution), settings.s3.bucket_assets
    key = asset_keys.original(facts.sha256, facts.format)
    if stat(ctx.s3, bucket, key) is None:
        ctx.s3.fput_object(bucket, key, str(local), content_type=facts.mime, part_size=settings.ingest.part_size_bytes,
                           metadata={"sha256": facts.sha256, "batch": batch_id})
    out = work / facts.sha256
    derived = getattr(module, f"derive_{suffix}")(local, facts, out, derive_params(settings))
    derivatives = []
    for made in derived.files:
        dkey = asset_keys.media_derivative(facts.sha256, made.name, made.path.suffix)
        if stat(ctx.s3, bucket, dkey) is None:
            ctx.s3.fput_object(bucket, dkey, str(made.path), content_type=made.mime,
                               part_size=settings.ingest.part_size_bytes)
        derivatives.append(MediaDerivative(name=made.name, key=dkey, mime=made.mime,
                                           size_bytes=made.path.stat().st_size, tier=made.tier, width=made.width,
                                           height=made.height))
    media_id = media_id_for(asset_id, facts.sha256)
    images = [_surrogate_image(ctx, institution, asset_id, batch_id, media_id, path, label, s, out)
              for s in derived.surrogates]
    media = MediaRecord(id=media_id, media_type=facts.media_type, sha256=facts.sha256, key=key, path=path, label=label,
                        format=facts.format, mime=facts.mime, size_bytes=facts.size_bytes, derivatives=derivatives,
                        **facts.technical)
    return images, media


def _surrogate_image(ctx: IngestContext, institution: str, asset_id: str, batch_id: str, media_id: str, path: str,
                     label: str | None, surrogate: Surrogate, work: Path) -> ImageRecord:
    """A page, keyframe or view stored like an uploaded image, and marked as made from its media file. Its path is
    the media file's with a fragment (`#page=3`, `#t=12.5`, `#view=front`)."""
    fragment, what = _fragment(surrogate)
    image = derive_image(ctx, institution, asset_id, batch_id, surrogate.path, f"{path}#{fragment}",
                         f"{label} · {what}" if label else what, work, ctx.settings.ingest.max_file_bytes)
    # Keyed by the media file and the place in it, not by the picture's bytes: a book's blank pages are the same
    # JPEG, and must stay two pages.
    update: dict[str, Any] = {"id": image_id_for(asset_id, f"{media_id}#{fragment}"), "of_media": media_id,
                              "page": surrogate.page, "time_s": surrogate.time_s,
                              "view": surrogate.view, "text": surrogate.text, "text_source": surrogate.text_source}
    return image.model_copy(update=update)


def _fragment(surrogate: Surrogate) -> tuple[str, str]:
    if surrogate.page is not None:
        return f"page={surrogate.page}", f"p. {surrogate.page}"
    if surrogate.time_s is not None:
        minutes, seconds = divmod(surrogate.time_s, 60)
        return f"t={surrogate.time_s:g}", f"{int(minutes)}:{seconds:04.1f}"
    return f"view={surrogate.view or 'default'}", surrogate.view or "view"


def media_limits(settings: Settings, max_bytes: int) -> MediaLimits:
    media = settings.media
    return MediaLimits(max_bytes=min(max_bytes, media.max_file_bytes), max_pixels=settings.ingest.max_image_pixels,
                       max_duration_s=media.max_duration_s, max_pages=media.max_pages, max_faces=media.max_faces)


def derive_params(settings: Settings) -> DeriveParams:
    media, ing = settings.media, settings.ingest
    return DeriveParams(thumbnail_px=ing.thumbnail_px, preview_px=ing.preview_px, page_px=media.page_px,
                        keyframes=media.keyframes, contact_sheet_columns=media.contact_sheet_columns,
                        rendition_height=media.rendition_height, video_bitrate=media.video_bitrate,
                        audio_bitrate=media.audio_bitrate, waveform_size=media.waveform_size,
                        model_views=tuple(media.model_views), view_px=media.view_px)


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
