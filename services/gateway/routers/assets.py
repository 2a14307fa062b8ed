"""Assets: curator decisions on AI labels. (Reading and searching assets come with the search gateway.)"""

from __future__ import annotations

import asyncio
from typing import Literal

from elasticsearch import ConflictError
from fastapi import APIRouter
from pydantic import BaseModel, Field

from indexing import labels
from schemas.asset import AILabel, LabelStatus
from schemas.taxonomy import concept
from services.gateway.deps import EsDep, SettingsDep
from services.gateway.errors import AssetNotFound, Conflict, LabelNotFound

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
