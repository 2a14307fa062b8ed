"""An asset: one object as Wenyuan stores and indexes it — the museum's fields plus what ingestion adds.

`AssetRecord` extends `ManifestRow` (the curator's data, as uploaded) with identity, provenance
in the pipeline, and the stored images. The Elasticsearch mapping is generated from it
(indexing/mappings.py). Enrichment (vectors, AI labels) is kept apart from curator fields.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from schemas.manifest import TEXT_ZH, ManifestRow
from schemas.media import MediaRecord, MediaType, TextSource

# Asset ids derive from the institution and its own object id, so re-ingesting updates in place.
ASSET_NAMESPACE = uuid.UUID("5f0c7c34-3f5e-4b1a-9a57-7c1d0b8e2a11")


def asset_id_for(institution: str, object_id: str) -> str:
    return uuid.uuid5(ASSET_NAMESPACE, f"{institution}\x1f{object_id}").hex


def image_id_for(asset_id: str, sha256: str) -> str:
    """The identifier of one image of one asset (its IIIF Image API identifier): stable across re-ingests."""
    return str(uuid.uuid5(ASSET_NAMESPACE, f"image\x1f{asset_id}\x1f{sha256}"))


def vector_hint(modality: Literal["text", "image"]) -> dict[str, Any]:
    """Index hint: a dense_vector whose length is the configured encoder's (indexing/mappings.py)."""
    return {"es": "dense_vector", "modality": modality}


class EncoderInfo(BaseModel):
    """What produced a vector: kept beside it, so a model change is visible and re-embeddable."""

    name: str = Field(description="Encoder name, e.g. use-multilingual-v3, efficientnet-lite0, st:clip-ViT-B-32.")
    version: str = Field(description="Version of the weights (package version or a hash of the weights).")
    dimension: int = Field(description="Length of the vectors.")


class ImageRecord(BaseModel):
    """One stored image of an asset: the original (content-addressed) and its derivatives."""

    id: str = Field(description="Identifier of this image of this asset (IIIF Image API identifier), a UUID.")
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
    vector: list[float] | None = Field(None, json_schema_extra=vector_hint("image"),
                                       description="Image embedding (ai.image_encoder), unit length.")
    of_media: str | None = Field(None, description="Id of the media file (media_files[].id) this image was made "
                                                   "from: a document's page, a video's keyframe, a 3D model's view. "
                                                   "None for an uploaded image.")
    page: int | None = Field(None, description="Page number (from 1) of a document's page image.")
    time_s: float | None = Field(None, description="Time of a video's keyframe, seconds from the start.")
    view: str | None = Field(None, description="Which rendered view of a 3D model (front, side, top, three-quarter).")
    text: str | None = Field(None, json_schema_extra=TEXT_ZH,
                             description="Text of a document's page: its text layer, or OCR of the page image.")
    text_source: TextSource | None = Field(None, description="layer or ocr: where `text` came from.")


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


class LabelKind(StrEnum):
    CATEGORY = "category"
    MATERIAL = "material"
    PERIOD = "period"  # a dynasty of schemas/periods.json, suggested for assets whose own period did not parse


class LabelStatus(StrEnum):
    SUGGESTED = "suggested"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class AILabel(BaseModel):
    """A label a model proposed, with its confidence; a curator may accept or reject it."""

    id: str = Field(description="Concept id in schemas/taxonomy.json (category, material) or period id in "
                                "schemas/periods.json (period).")
    kind: LabelKind = Field(description="category, material or period.")
    confidence: float = Field(ge=0, le=1, description="The model's probability for this label.")
    method: str = Field(description="zero-shot, knn (curator-labelled neighbours) or zero-shot+knn.")
    model: str = Field(description="Encoder name and version whose vectors the decision used.")
    status: LabelStatus = Field(LabelStatus.SUGGESTED, description="suggested, accepted or rejected by a curator.")
    decided_by: str | None = Field(None, description="Who accepted or rejected it.")
    decided_at: datetime | None = Field(None, description="When.")


class AIRecord(BaseModel):
    """Everything a model derived, kept apart from curator fields and marked with the model that made it."""

    text_encoder: EncoderInfo | None = Field(None, description="Encoder of text_vector.")
    image_encoder: EncoderInfo | None = Field(None, description="Encoder of images[].vector.")
    labels: list[AILabel] = Field(default_factory=list, description="Proposed categories and materials.")
    ocr_text: str | None = Field(None, json_schema_extra=TEXT_ZH, description="Text read from the images by OCR.")
    ocr_engine: str | None = Field(None, description="OCR engine and version.")
    ocr_confidence: float | None = Field(None, description="Mean recognition score of the OCR lines.")
    enriched_at: datetime | None = Field(None, description="When these were derived.")


TERMS: dict[str, Any] = {"es": "terms"}  # pre-analysed tokens, indexed with the whitespace analyzer


class SearchTerms(BaseModel):
    """The record's text analysed in the pipeline (indexing/terms.py), matched by the same analysis of a query.

    Chinese words (folded to simplified script, segmented by jieba) and English Snowball stems, space-separated.
    """

    title: str | None = Field(None, json_schema_extra=TERMS, description="Tokens of the titles (zh, en, original).")
    text: str | None = Field(None, json_schema_extra=TERMS,
                             description="Tokens of the descriptions, creator, period, provenance and materials.")
    title_keys: list[str] = Field(default_factory=list, description="Each title normalised for exact matching "
                                  "(folded, lowercased, without punctuation or spaces).")


# What a record as the API shows it leaves out: vectors and the search-only fields derived from the text, as dotted
# paths of the stored document. The one list: `public_view` drops them from a model, and every Elasticsearch read
# leaves them out of `_source` (indexing/source.py).
SEARCH_ONLY_PATHS = ("text_vector", "title_vector", "terms", "images.vector")


def _model_exclude(paths: tuple[str, ...]) -> dict[str, Any]:
    """Dotted paths as pydantic's `exclude`: `images.vector` drops `vector` from every image."""
    exclude: dict[str, Any] = {}
    for path in paths:
        head, _, rest = path.partition(".")
        if rest:
            exclude.setdefault(head, {"__all__": set()})["__all__"].add(rest)
        else:
            exclude[head] = True
    return exclude


class AssetRecord(ManifestRow):
    asset_id: str = Field(description="uuid5 of institution and object id, hex.")
    institution: str = Field(description="Id of the holding institution.")
    region: str | None = Field(None, description="Region of the holding institution (ISO 3166: CN, CN-BJ, GB…).")
    batch_id: str = Field(description="The batch that last wrote this record.")
    images: list[ImageRecord] = Field(default_factory=list, description="Stored images, in manifest order.")
    has_image: bool = Field(False, description="Whether at least one image was stored.")
    media_files: list[MediaRecord] = Field(default_factory=list,
                                           description="Stored documents, recordings and 3D models, in manifest order "
                                                       "(their pages, keyframes and views are in `images`).")
    media_types: list[MediaType] = Field(default_factory=list, description="Kinds of media the asset holds (image, "
                                                                           "document, audio, video, model): a facet.")
    duration_s: float | None = Field(None, description="Longest duration of the asset's audio or video, seconds.")
    page_count: int | None = Field(None, description="Pages of the asset's documents, together.")
    period_norm: PeriodRecord | None = Field(None, description="period/date normalised to years and a period id.")
    category_ids: list[str] = Field(default_factory=list, description="Taxonomy categories: the curator's "
                                    "category through schemas/taxonomy.json, plus AI labels a curator accepted.")
    material_ids: list[str] = Field(default_factory=list, description="Taxonomy materials: the curator's "
                                    "materials through schemas/taxonomy.json, plus AI labels a curator accepted.")
    text_vector: list[float] | None = Field(None, json_schema_extra=vector_hint("text"),
                                            description="Text embedding of the whole record: titles, descriptions, "
                                                        "creator, period, materials (ai.text_encoder).")
    title_vector: list[float] | None = Field(None, json_schema_extra=vector_hint("text"),
                                             description="Text embedding of the titles alone (ai.text_encoder): a "
                                                         "short title is not drowned by a long description.")
    terms: SearchTerms | None = Field(None, description="Pre-analysed text for keyword search (indexing/terms.py).")
    ai: AIRecord | None = Field(None, description="Model-derived data: encoders, labels, OCR.")
    ingested_at: datetime = Field(description="When this version of the record was stored.")
    changed_at: datetime = Field(None, validate_default=True,  # None: ingested_at
                                 description="When the record last changed (ingest, curator decision, deletion): "
                                             "the OAI-PMH datestamp.")
    deleted_at: datetime | None = Field(None, description="When the holder withdrew it; a withdrawn record is a "
                                                          "tombstone that no search returns (OAI-PMH reports it "
                                                          "deleted).")

    def public_view(self, *, ai: bool = True) -> dict[str, Any]:
        """The record as the API shows it: without vectors and search-only fields (and without `ai` if asked)."""
        exclude = _model_exclude(SEARCH_ONLY_PATHS)
        if not ai:
            exclude["ai"] = True
        return self.model_dump(mode="json", exclude=exclude)

    @model_validator(mode="before")
    @classmethod
    def _image_ids(cls, data: Any) -> Any:
        """Records stored before images had ids get the id they would get now."""
        if isinstance(data, dict) and data.get("asset_id") and isinstance(data.get("images"), list):
            images = [im if not isinstance(im, dict) or im.get("id") else
                      im | {"id": image_id_for(str(data["asset_id"]), str(im.get("sha256", "")))}
                      for im in data["images"]]
            return data | {"images": images}
        return data

    @field_validator("changed_at", mode="before")
    @classmethod
    def _changed_at(cls, value: object, info: ValidationInfo) -> object:
        return info.data.get("ingested_at") if value is None else value
