"""Assets: one record with its licence, attribution and delivery links, its neighbours, licensed media
delivery, and curator decisions on AI labels."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal
from urllib.parse import quote

from elasticsearch import ConflictError
from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from indexing import labels
from schemas.access import Scope, Tier
from schemas.asset import AILabel, AssetRecord, LabelStatus, PeriodRecord
from services import assets
from services.access import audit
from services.access.db import Database
from services.access.delivery import authorise, authorise_file, record_delivery
from services.access.errors import AccessError
from services.access.names import names
from services.access.policy import Decision, require_curator_of, visibility_filter
from services.access.principals import Principal
from services.gateway.deps import (
    DbDep,
    EsDep,
    LangDep,
    NeighbourCount,
    PresignerDep,
    PrincipalDep,
    SettingsDep,
    VisibleAsset,
    VisibleAssetWithVectors,
    require,
)
from services.gateway.errors import Conflict, LabelNotFound
from services.gateway.routers.search import Label
from services.messages import licence_name, render
from services.record_view import (
    Access,
    Credited,
    FileLink,
    LicenceView,
    SizedMediaLink,
    credit,
    credited,
    file_links,
    sized_media_links,
)
from services.storage import presigned_get

router = APIRouter(prefix="/v1/assets", tags=["assets"])


class LabelDecision(BaseModel):
    status: Literal[LabelStatus.ACCEPTED, LabelStatus.REJECTED] = Field(
        description="accepted: the label becomes curator data (category_ids / material_ids; a period label fills "
                    "period_norm of an asset whose own period did not parse, flagged accepted-label); "
                    "rejected: it is removed from them and marked rejected.")


class AssetLabels(BaseModel):
    asset_id: str
    category_ids: list[str] = Field(description="Curator categories (taxonomy ids), accepted labels included.")
    material_ids: list[str] = Field(description="Curator materials (taxonomy ids), accepted labels included.")
    period_norm: PeriodRecord | None = Field(description="The normalised period, an accepted period label included.")
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


class Names(BaseModel):
    """Who holds it, by name: the record itself carries ids."""

    institution: Label | None
    department: Label | None
    region: Label | None


class AssetView(BaseModel):
    asset_id: str
    names: Names = Field(description="The names of its institution, department and region in Chinese and English.")
    record: dict[str, Any] = Field(description="The curator's record (vectors and AI data left out).")
    ai: AIView | None
    licence: LicenceView
    attribution: str = Field(description="The credit line to give when reusing it.")
    access: Access
    media: list[SizedMediaLink] = Field(description="The deliveries the caller's tier allows, per image, with "
                                                    "each file's size and format.")
    files: list[FileLink] = Field(description="The deliveries the caller's tier allows of its documents, "
                                              "recordings and 3D models.")
    also_held_by: list[AlsoHeldBy] = Field(description="The same object held by other institutions.")


class Neighbour(Credited):
    score: float


class Similar(BaseModel):
    text: list[Neighbour] = Field(description="Nearest by the text vector (cross-lingual).")
    image: list[Neighbour] = Field(description="Nearest by the first image's vector.")


def _record(asset: AssetRecord) -> dict[str, Any]:
    return asset.public_view(ai=False)


def _ai(asset: AssetRecord) -> AIView | None:
    if asset.ai is None:
        return None
    models = {"text": f"{asset.ai.text_encoder.name}@{asset.ai.text_encoder.version}"
              if asset.ai.text_encoder else None,
              "image": f"{asset.ai.image_encoder.name}@{asset.ai.image_encoder.version}"
              if asset.ai.image_encoder else None, "ocr": asset.ai.ocr_engine}
    return AIView(labels=asset.ai.labels, ocr_text=asset.ai.ocr_text, models=models)


@router.get("/{asset_id}", response_model=AssetView, dependencies=[Depends(require(Scope.SEARCH))])
async def get_asset(seen: VisibleAssetWithVectors, es: EsDep, settings: SettingsDep,
                    principal: PrincipalDep, db: DbDep, lang: LangDep) -> AssetView:
    """The record, its AI labels (marked as such, with confidence), licence, attribution, the caller's tier
    and delivery links, near-duplicates held elsewhere (those the caller may see), and the names of its holder.
    The licence's name and the access basis are in the language of `Accept-Language` (zh or en)."""
    asset = seen.asset
    duplicates = await asyncio.to_thread(assets.also_held_by, es, settings, asset,
                                         visibility=visibility_filter(principal))
    record = _record(asset)
    holder = Names.model_validate((await asyncio.to_thread(names, db)).of_record(record))
    view = AssetView(asset_id=asset.asset_id, names=holder, record=record, ai=_ai(asset),
                     media=sized_media_links(settings.gateway.public_url, asset, seen.decision,
                                             thumbnail_px=settings.ingest.thumbnail_px,
                                             preview_px=settings.ingest.preview_px),
                     files=file_links(settings.gateway.public_url, asset, seen.decision),
                     also_held_by=[AlsoHeldBy.model_validate(d) for d in duplicates], **credit(asset, seen.decision))
    view.licence.label = licence_name(asset.licence.code, asset.licence.label, lang)
    view.access.basis = render(seen.decision.basis, lang)
    return view


@router.get("/{asset_id}/similar", response_model=Similar, dependencies=[Depends(require(Scope.SEARCH))])
async def similar(seen: VisibleAssetWithVectors, es: EsDep, settings: SettingsDep, principal: PrincipalDep,
                  size: NeighbourCount = 10) -> Similar:
    """Neighbours by text (in any language) and by image, among the assets the caller may see."""
    found = await asyncio.to_thread(assets.similar, es, settings, seen.asset, size,
                                    visibility=visibility_filter(principal))
    text = await asyncio.to_thread(credited, es, settings, principal, found["text"])
    image = await asyncio.to_thread(credited, es, settings, principal, found["image"])
    return Similar(text=[Neighbour.model_validate(h) for h in text], image=[Neighbour.model_validate(h) for h in image])


@router.get("/{asset_id}/media/{image}/{tier}", status_code=302, dependencies=[Depends(require(Scope.DELIVER))],
            responses={302: {"description": "Redirect to a short-lived URL of the file."},
                       403: {"description": "The licence and the caller's grants allow a lower tier; the "
                                            "problem says which licence or grant would allow it."}})
async def deliver_media(seen: VisibleAsset, image: int, tier: Tier, principal: PrincipalDep, db: DbDep,
                        settings: SettingsDep, presigner: PresignerDep) -> RedirectResponse:
    """One image at one tier (thumbnail, preview, original), as far as the licence and grants allow."""
    asset, decision = seen.asset, seen.decision
    try:
        key = authorise(asset, decision, image, tier)
    except AccessError as exc:
        await asyncio.to_thread(_audit, db, principal, asset, decision, image, tier, False, exc.detail)
        raise
    await asyncio.to_thread(_audit, db, principal, asset, decision, image, tier, True, None)
    url = await asyncio.to_thread(presigned_get, presigner, settings.s3.bucket_assets, key, settings.s3.presign_ttl_s)
    return RedirectResponse(url, status_code=302, headers=_delivery_headers(asset, tier))


@router.get("/{asset_id}/files/{n}/{name}", status_code=302, dependencies=[Depends(require(Scope.DELIVER))],
            responses={200: {"description": "With `?as=json`: the short-lived URL, its tier and media type."},
                       302: {"description": "Redirect to a short-lived URL of the file."},
                       403: {"description": "The licence and the caller's grants allow a lower tier; the "
                                            "problem says which licence or grant would allow it."}})
async def deliver_file(seen: VisibleAsset, n: int, name: str, principal: PrincipalDep, db: DbDep,
                       settings: SettingsDep, presigner: PresignerDep,
                       as_: Annotated[Literal["redirect", "json"], Query(alias="as")] = "redirect") -> Response:
    """A document's, recording's or 3D model's original or one of its web derivatives (poster, contact-sheet,
    rendition, waveform, glb, text), as far as the licence and grants allow. Players that cannot send an
    Authorization header (<video>, <audio>, <model-viewer>) ask with `?as=json` and use the URL they get."""
    asset, decision = seen.asset, seen.decision
    subject = f"file {n} {name}"
    try:
        key, tier, mime = authorise_file(asset, decision, n, name)
    except AccessError as exc:
        refused = Tier.ORIGINAL if name == "original" else Tier.PREVIEW
        await asyncio.to_thread(_audit, db, principal, asset, decision, subject, refused, False, exc.detail)
        raise
    await asyncio.to_thread(_audit, db, principal, asset, decision, subject, tier, True, None)
    url = await asyncio.to_thread(presigned_get, presigner, settings.s3.bucket_assets, key, settings.s3.presign_ttl_s)
    headers = _delivery_headers(asset, tier)
    if as_ == "json":
        return JSONResponse({"href": url, "tier": tier.value, "mime": mime,
                             "expires_in": settings.s3.presign_ttl_s}, headers=headers)
    return RedirectResponse(url, status_code=302, headers=headers)


def _delivery_headers(asset: AssetRecord, tier: Tier) -> dict[str, str]:
    """What every delivery answers with: not cached, its tier, the credit line (RFC 8187 encoding: titles are often
    Chinese) and the licence."""
    headers = {"Cache-Control": "no-store", "X-Wenyuan-Tier": tier.value,
               "Attribution": "UTF-8''" + quote(assets.attribution(asset), safe="")}
    if asset.licence.uri:
        headers["Link"] = f'<{asset.licence.uri}>; rel="license"'
    return headers


def _audit(db: Database, principal: Principal, asset: AssetRecord, decision: Decision, image: int | str, tier: Tier,
           allowed: bool, reason: str | None) -> None:
    with db.session() as session:
        record_delivery(session, principal, asset, decision, image, tier, allowed=allowed, reason=reason)


@router.delete("/{asset_id}", dependencies=[Depends(require(Scope.CURATE))])
async def withdraw_asset(seen: VisibleAsset, es: EsDep, settings: SettingsDep, principal: PrincipalDep,
                         db: DbDep) -> dict[str, Any]:
    """Withdraw one of your institution's records: from now on no search or delivery finds it, and OAI-PMH
    harvesters are told it was deleted. Ingesting the object again brings it back."""
    require_curator_of(principal, seen.asset.institution, "withdraw its records")
    asset = await asyncio.to_thread(assets.withdraw, es, settings, seen.asset)
    await asyncio.to_thread(_audit_withdrawal, db, principal, asset)
    return {"asset_id": asset.asset_id, "deleted_at": asset.deleted_at}


def _audit_withdrawal(db: Database, principal: Principal, asset: AssetRecord) -> None:
    with db.session() as session:
        audit.record(session, principal, "asset.withdraw", about=asset.institution, asset_id=asset.asset_id,
                     subject=f"asset {asset.object_id}")


def _audit_label(db: Database, principal: Principal, asset: AssetRecord, label: str, status: LabelStatus) -> None:
    with db.session() as session:
        audit.record(session, principal, f"label.{status.value}", about=asset.institution, asset_id=asset.asset_id,
                     subject=f"label {label}")


@router.patch("/{asset_id}/labels/{label}", response_model=AssetLabels, dependencies=[Depends(require(Scope.CURATE))])
async def decide_label(seen: VisibleAsset, label: str, decision: LabelDecision, es: EsDep, settings: SettingsDep,
                       principal: PrincipalDep, db: DbDep) -> AssetLabels:
    """Accept or reject a label (a taxonomy id, or a period id of schemas/periods.json) for one of your
    institution's assets; effective at once and kept across reindexing. The curator recorded is the caller."""
    require_curator_of(principal, seen.asset.institution, "decide its labels")
    try:
        labels.label_kind(label)
    except KeyError as exc:
        raise LabelNotFound(f"{label!r} is not a category or material id of schemas/taxonomy.json "
                            "nor a period id of schemas/periods.json") from exc
    try:
        asset = await asyncio.to_thread(labels.decide, es, settings.es, seen.asset.asset_id, label, decision.status,
                                        f"{principal.name} ({principal.id})")
    except ConflictError as exc:
        raise Conflict("the asset changed while the decision was applied; send it again") from exc
    await asyncio.to_thread(_audit_label, db, principal, asset, label, decision.status)
    return AssetLabels(asset_id=asset.asset_id, category_ids=asset.category_ids, material_ids=asset.material_ids,
                       period_norm=asset.period_norm, ai_labels=asset.ai.labels if asset.ai else [])
