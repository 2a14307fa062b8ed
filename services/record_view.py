"""The record view: what every answer about an asset carries — its licence and credit line, the caller's
tier, and the delivery links that tier allows (each one resolves through
`GET /v1/assets/{id}/media/{image}/{tier}`). Search, assets, OAI-PMH and dumps all show a record this way."""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch
from pydantic import BaseModel, Field

from schemas.access import MEDIA_TIERS, Tier
from schemas.asset import AssetRecord
from services import assets
from services.access.policy import Decision
from services.access.principals import Principal
from services.access.seen import decisions_for
from services.settings import Settings


class LicenceView(BaseModel):
    code: str
    uri: str | None = Field(description="RightsStatements.org or Creative Commons URI; none when restricted.")
    label: str
    reusable: bool


class MediaLink(BaseModel):
    image: int = Field(description="Position of the image in the record (0 = first).")
    tier: Tier
    href: str = Field(description="Redirects (302) to a short-lived URL of the file.")


class Access(BaseModel):
    tier: Tier = Field(description="What the caller receives of this asset: metadata < thumbnail < preview < "
                                   "original.")
    basis: str = Field(description="What allows it: the licence and the caller's audience, or a grant.")


def media_href(base: str, asset_id: str, image: int, tier: Tier) -> str:
    return f"{base}/v1/assets/{asset_id}/media/{image}/{tier.value}"


def media_links(base: str, asset: AssetRecord, decision: Decision) -> list[MediaLink]:
    tier = decision.tier or Tier.METADATA
    return [MediaLink(image=n, tier=t, href=media_href(base, asset.asset_id, n, t))
            for n in range(len(asset.images)) for t in MEDIA_TIERS if tier.includes(t)]


def credit(asset: AssetRecord, decision: Decision) -> dict[str, Any]:
    """licence, attribution and access, as every hit and record carries them."""
    return {"licence": LicenceView.model_validate(asset.licence.model_dump()),
            "attribution": assets.attribution(asset),
            "access": Access(tier=decision.tier or Tier.METADATA, basis=decision.basis)}


def thumbnail(base: str, asset: AssetRecord, decision: Decision) -> str | None:
    if asset.images and (decision.tier or Tier.METADATA).includes(Tier.THUMBNAIL):
        return media_href(base, asset.asset_id, 0, Tier.THUMBNAIL)
    return None


class Credited(BaseModel):
    """What every result carries: the licence, the credit line, and what the caller receives of it."""

    asset_id: str
    licence: LicenceView
    attribution: str = Field(description="The credit line to give when reusing it.")
    access: Access
    thumbnail: str | None = Field(description="Link to the thumbnail, when the caller's tier includes it.")
    record: dict[str, Any] = Field(description="The asset record (vectors left out).")


def credited(es: Elasticsearch, settings: Settings, principal: Principal,
             hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each hit with its licence, attribution, the caller's tier and its thumbnail link."""
    decisions = decisions_for(es, settings, principal, [h["record"] for h in hits])
    base = settings.gateway.public_url
    out = []
    for hit in hits:
        asset = AssetRecord.model_validate(hit["record"])
        decision = decisions[asset.asset_id]
        # The record as the contract has it now (e.g. image ids filled in for records stored before them).
        record = asset.public_view()
        out.append(hit | credit(asset, decision) | {"thumbnail": thumbnail(base, asset, decision), "record": record})
    return out
