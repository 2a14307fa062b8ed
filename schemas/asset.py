"""An asset: one object as Wenyuan stores and indexes it — the museum's fields plus what ingestion adds.

`AssetRecord` extends `ManifestRow` (the curator's data, as uploaded) with identity, provenance
in the pipeline, and the stored images. The Elasticsearch mapping is generated from it
(indexing/mappings.py). Enrichment (vectors, AI labels) is kept apart from curator fields.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from schemas.manifest import ManifestRow

# Asset ids derive from the institution and its own object id, so re-ingesting updates in place.
ASSET_NAMESPACE = uuid.UUID("5f0c7c34-3f5e-4b1a-9a57-7c1d0b8e2a11")


def asset_id_for(institution: str, object_id: str) -> str:
    return uuid.uuid5(ASSET_NAMESPACE, f"{institution}\x1f{object_id}").hex


class ImageRecord(BaseModel):
    """One stored image of an asset: the original (content-addressed) and its derivatives."""

    sha256: str = Field(description="SHA-256 of the original file: its identity and storage key.")
    key: str = Field(description="Object key of the original in the assets bucket.")
    path: str = Field(description="Path of the file in the uploaded batch.")
    label: str | None = Field(None, description="View label from the manifest.")
    format: str = Field(description="Image format as decoded (JPEG, PNG, TIFF, WEBP…).")
    mime: str = Field(description="Media type of the original.")
    width: int = Field(description="Width of the original, pixels.")
    height: int = Field(description="Height of the original, pixels.")
    mode: str = Field(description="Colour mode (RGB, L, CMYK, RGBA…).")
    size_bytes: int = Field(description="Size of the original, bytes.")
    exif: dict[str, str] = Field(default_factory=dict, description="A readable subset of EXIF tags.")
    phash: str = Field(description="Perceptual hash (64-bit pHash, hex) for near-duplicate detection.")
    thumbnail_key: str = Field(description="Object key of the thumbnail (longest side ≤ 400 px).")
    preview_key: str = Field(description="Object key of the preview (longest side ≤ 1600 px).")


class YearRange(BaseModel):
    """Inclusive years (negative = BCE, no year 0); an open end while a period continues."""

    gte: int | None = None
    lte: int | None = None


class PeriodRecord(BaseModel):
    """The period and date text normalised (indexing/periods.py); the text itself stays in period/date."""

    source: str = Field(description="The text that was normalised (period and date together).")
    period_id: str | None = Field(None, description="Most specific entry of schemas/periods.json, e.g. qing-qianlong.")
    start: int | None = Field(None, description="First year (negative = BCE).")
    end: int | None = Field(None, description="Last year; none while the period continues.")
    years: YearRange | None = Field(None, json_schema_extra={"es": "integer_range"},
                                    description="start–end as a range, for overlap queries.")
    parsed: bool = Field(description="False when the text named no period or date; never guessed.")
    flag: str | None = Field(None, description="Why it was not parsed: empty, unknown, unrecognised, ambiguous…")


class AssetRecord(ManifestRow):
    asset_id: str = Field(description="uuid5 of institution and object id, hex.")
    institution: str = Field(description="Id of the holding institution.")
    batch_id: str = Field(description="The batch that last wrote this record.")
    images: list[ImageRecord] = Field(default_factory=list, description="Stored images, in manifest order.")
    has_image: bool = Field(False, description="Whether at least one image was stored.")
    period_norm: PeriodRecord | None = Field(None, description="period/date normalised to years and a period id.")
    ingested_at: datetime = Field(description="When this version of the record was stored.")
