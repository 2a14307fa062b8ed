"""Assets: one record with its licence and attribution, its neighbours, and curator decisions on AI labels."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from elasticsearch import ConflictError, Elasticsearch
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from indexing import labels
from schemas.asset import AILabel, AssetRecord, LabelStatus
from schemas.taxonomy import concept
from services import assets
from services.gateway.deps import EsDep, SettingsDep
from services.gateway.errors import AssetNotFound, Conflict, LabelNotFound
from services.settings import Settings

router = APIRouter(prefix="/v1/assets", tags=["assets"])


class LabelDecision(BaseModel):
    status: Literal[LabelStatus.ACCEPTED, LabelStatus.REJECTED] = Field(
        description="accepted: the label becomes curator data (category_ids / material_ids); "
                    "rejected: it is removed from them and marked rejected.")
    curator: str = Field(min_length=1, max_length=200, description="Who decides (kept with the decision).")


class AssetLabels(BaseModel):
    asset_id: str
    category_ids: list[str] = Field(description="Curator categories (taxonomy ids), accepted labels included.")
    material_ids: list[str] = Field(description="Curator materials (taxonomy ids), accepted labels included.")
    ai_labels: list[AILabel] = Field(description="What the models proposed, with confidence and status.")


class AlsoHeldBy(BaseModel):
    asset_id: str
    institution: str
    object_id: str
    title: str | None
    phash_distance: int = Field(description="Hamming distance of the perceptual hashes (of 64 bits).")
    similarity: float = Field(description="Cosine similarity of the image vectors.")


class AIView(BaseModel):
    """What models derived — shown as such, with the model and its confidence."""

    labels: list[AILabel]
    ocr_text: str | None
    models: dict[str, str | None] = Field(description="Encoders and OCR engine, name@version.")


class AssetView(BaseModel):
    asset_id: str
    record: dict[str, Any] = Field(description="The curator's record (vectors and AI data left out).")
    ai: AIView | None
    licence: dict[str, Any] = Field(description="Code, URI, label, whether reusable.")
    attribution: str = Field(description="The credit line to give when reusing it.")
    also_held_by: list[AlsoHeldBy] = Field(description="The same object held by other institutions.")


class Neighbour(BaseModel):
    asset_id: str
    score: float
    record: dict[str, Any]


class Similar(BaseModel):
    text: list[Neighbour] = Field(description="Nearest by the text vector (cross-lingual).")
    image: list[Neighbour] = Field(description="Nearest by the first image's vector.")


def _view(asset: AssetRecord, duplicates: list[dict[str, Any]]) -> AssetView:
    record = asset.model_dump(mode="json", exclude={"ai", "text_vector"})
    for image in record["images"]:
        image.pop("vector", None)
    ai = None
    if asset.ai is not None:
        models = {"text": f"{asset.ai.text_encoder.name}@{asset.ai.text_encoder.version}"
                  if asset.ai.text_encoder else None,
                  "image": f"{asset.ai.image_encoder.name}@{asset.ai.image_encoder.version}"
                  if asset.ai.image_encoder else None, "ocr": asset.ai.ocr_engine}
        ai = AIView(labels=asset.ai.labels, ocr_text=asset.ai.ocr_text, models=models)
    return AssetView(asset_id=asset.asset_id, record=record, ai=ai, licence=asset.licence.model_dump(mode="json"),
                     attribution=assets.attribution(asset),
                     also_held_by=[AlsoHeldBy.model_validate(d) for d in duplicates])


async def _load(es: Elasticsearch, settings: Settings, asset_id: str, *, vectors: bool = False) -> AssetRecord:
    try:
        return await asyncio.to_thread(assets.load, es, settings, asset_id, vectors=vectors)
    except assets.AssetNotFound as exc:
        raise AssetNotFound(f"no asset {asset_id!r}") from exc


@router.get("/{asset_id}", response_model=AssetView)
async def get_asset(asset_id: str, es: EsDep, settings: SettingsDep) -> AssetView:
    """The record, its AI labels (marked as such, with confidence), licence, attribution and near-duplicates."""
    asset = await _load(es, settings, asset_id, vectors=True)
    duplicates = await asyncio.to_thread(assets.also_held_by, es, settings, asset)
    return _view(asset, duplicates)


@router.get("/{asset_id}/similar", response_model=Similar)
async def similar(asset_id: str, es: EsDep, settings: SettingsDep,
                  size: Annotated[int, Query(ge=1, le=100)] = 10) -> Similar:
    """Neighbours by text (in any language) and by image."""
    asset = await _load(es, settings, asset_id, vectors=True)
    return Similar.model_validate(await asyncio.to_thread(assets.similar, es, settings, asset, size))


@router.patch("/{asset_id}/labels/{label}", response_model=AssetLabels)
async def decide_label(asset_id: str, label: str, decision: LabelDecision, es: EsDep,
                       settings: SettingsDep) -> AssetLabels:
    """Accept or reject a label (a taxonomy id) for an asset; effective at once and kept across reindexing."""
    try:
        concept(label)
    except KeyError as exc:
        raise LabelNotFound(f"{label!r} is not a category or material id of schemas/taxonomy.json") from exc
    try:
        asset = await asyncio.to_thread(labels.decide, es, settings.es, asset_id, label, decision.status,
                                        decision.curator)
    except labels.AssetNotFound as exc:
        raise AssetNotFound(f"no asset {asset_id!r}") from exc
    except ConflictError as exc:
        raise Conflict("the asset changed while the decision was applied; send it again") from exc
    return AssetLabels(asset_id=asset.asset_id, category_ids=asset.category_ids, material_ids=asset.material_ids,
                       ai_labels=asset.ai.labels if asset.ai else [])
