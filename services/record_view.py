"""The record view: what every answer about an asset carries — its licence and credit line, the caller's
tier, and the delivery links that tier allows (each one resolves through
`GET /v1/assets/{id}/media/{image}/{tier}`). Search, assets, OAI-PMH and dumps all show a record this way.

Bulk readers (dumps, OAI-PMH) read thousands of records a second, and validating each stored `_source`
into an `AssetRecord` only to dump it again costs more than Elasticsearch's own read. `stored_view`
takes the trusted shortcut: a `_source` that indexing wrote from the current model (every field and
nested field present, nothing extra, datetimes in the form the model writes) already *is* the
record's public view, and is used as it is; anything else (a record stored before a field existed,
images without ids, a datetime written by another writer) goes through the model. The `*_of`
functions are the plain-dict twins of `credit`, `media_links` and `services.assets.attribution`
(tests/unit/test_record_view.py holds them to the same output).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from elasticsearch import Elasticsearch
from pydantic import BaseModel, Field

from schemas.access import MEDIA_TIERS, Tier
from schemas.asset import SEARCH_ONLY_PATHS, AssetRecord, ImageRecord, PeriodRecord, YearRange
from schemas.licences import Licence
from schemas.manifest import MediaRef
from services import assets
from services.access.policy import Decision
from services.access.principals import Principal
from services.access.seen import decisions_for
from services.iiif.info import source_size
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


class SizedMediaLink(MediaLink):
    """A delivery of an image with what the file holds, for a download menu: its pixel size and format."""

    width: int = Field(description="Width of the file delivered at this tier, pixels.")
    height: int = Field(description="Height of the file delivered at this tier, pixels.")
    mime: str = Field(description="Its media type: image/jpeg for the thumbnail and preview, the original's own.")


class FileLink(BaseModel):
    file: int = Field(description="Position of the document, recording or 3D model in `media_files` (0 = first).")
    name: str = Field(description="original, or a derivative: poster, contact-sheet, rendition, waveform, glb, text.")
    tier: Tier = Field(description="The tier this delivery needs.")
    mime: str
    href: str = Field(description="Redirects (302) to a short-lived URL of the file; `?as=json` gives the URL.")


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


def sized_media_links(base: str, asset: AssetRecord, decision: Decision, *, thumbnail_px: int,
                      preview_px: int) -> list[SizedMediaLink]:
    """`media_links` with each file's size and format (the derivatives are JPEGs bounded as ingestion made them)."""
    out = []
    for link in media_links(base, asset, decision):
        image = asset.images[link.image]
        width, height = source_size(image, link.tier, thumbnail_px, preview_px)
        mime = image.mime if link.tier is Tier.ORIGINAL else "image/jpeg"
        out.append(SizedMediaLink(**link.model_dump(), width=width, height=height, mime=mime))
    return out


def file_href(base: str, asset_id: str, n: int, name: str) -> str:
    return f"{base}/v1/assets/{asset_id}/files/{n}/{name}"


def file_links(base: str, asset: AssetRecord, decision: Decision) -> list[FileLink]:
    """The deliveries of the asset's documents, recordings and 3D models that the caller's tier allows."""
    tier = decision.tier or Tier.METADATA
    links = []
    for n, media in enumerate(asset.media_files):
        offered = [(d.name, d.tier, d.mime) for d in media.derivatives] + [("original", Tier.ORIGINAL, media.mime)]
        links += [FileLink(file=n, name=name, tier=need, mime=mime, href=file_href(base, asset.asset_id, n, name))
                  for name, need, mime in offered if tier.includes(need)]
    return links


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


# -- the trusted shortcut for bulk readers ----------------------------------------------------------

def _fields(model: type[BaseModel], leave_out: tuple[str, ...] = ()) -> frozenset[str]:
    return frozenset(name for name in model.model_fields if name not in leave_out)


_TOP_LEVEL = [p for p in SEARCH_ONLY_PATHS if "." not in p]
_RECORD = _fields(AssetRecord, (*_TOP_LEVEL, "ai"))
_IMAGE = _fields(ImageRecord, ("vector",))
_LICENCE, _PERIOD, _YEARS, _MEDIA = _fields(Licence), _fields(PeriodRecord), _fields(YearRange), _fields(MediaRef)
# How the model writes a UTC datetime (mode="json"), and a date.
_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.(?!000000)\d{6})?Z")
_DATE = re.compile(r"\d{4}-\d\d-\d\d")


def _canonical(source: Mapping[str, Any]) -> bool:
    """Whether `source` (a `_source` without vectors, search-only fields and `ai`) has the exact shape the model
    dumps: then validating and dumping it again would give it back unchanged."""
    if source.keys() != _RECORD:
        return False
    images, licence, period, media = source["images"], source["licence"], source["period_norm"], source["media"]
    if not (isinstance(images, list) and isinstance(licence, dict) and licence.keys() == _LICENCE
            and isinstance(media, list)):
        return False
    if any(not isinstance(im, dict) or im.keys() != _IMAGE or not im["id"] for im in images):
        return False
    if any(not isinstance(m, dict) or m.keys() != _MEDIA for m in media):
        return False
    if period is not None and not (isinstance(period, dict) and period.keys() == _PERIOD and (
            period["years"] is None or (isinstance(period["years"], dict) and period["years"].keys() == _YEARS))):
        return False
    for name in ("ingested_at", "changed_at", "deleted_at"):
        value = source[name]
        if value is None and name != "ingested_at":
            continue
        if not (isinstance(value, str) and _DATETIME.fullmatch(value)):
            return False
    embargo = source["embargo_until"]
    return embargo is None or (isinstance(embargo, str) and _DATE.fullmatch(embargo) is not None)


def stored_view(source: dict[str, Any]) -> dict[str, Any]:
    """The public view (no `ai`) of a record read with `record_source(ai=False)`: `source` itself when it is in
    the model's shape, otherwise what the model makes of it (`AssetRecord.public_view(ai=False)`)."""
    if _canonical(source):
        return source
    return AssetRecord.model_validate(source).public_view(ai=False)


def attribution_of(view: Mapping[str, Any]) -> str:
    """`services.assets.attribution` of a public view."""
    title_zh, title_en, object_id = view["title_zh"], view["title_en"], view["object_id"]
    title = title_en or title_zh or object_id
    if title_zh and title_en:
        title = f"{title_zh} ({title_en})"
    parts = [title, view["creator"], view["period"], f"{view['institution']}, {object_id}"]
    licence = view["licence"]
    text = licence["label"] + (f" ({licence['uri']})" if licence["uri"] else "")
    return ". ".join(p for p in parts if p) + f". {text}"


_MEDIA_OF = {tier: [t.value for t in MEDIA_TIERS if tier.includes(t)] for tier in Tier}


def media_links_of(base: str, view: Mapping[str, Any], decision: Decision) -> list[dict[str, Any]]:
    """`media_links` of a public view, as JSON."""
    tiers = _MEDIA_OF[decision.tier or Tier.METADATA]
    asset_id = view["asset_id"]
    return [{"image": n, "tier": t, "href": f"{base}/v1/assets/{asset_id}/media/{n}/{t}"}
            for n in range(len(view["images"])) for t in tiers]


def credit_of(view: Mapping[str, Any], decision: Decision) -> dict[str, Any]:
    """`credit` of a public view, as JSON."""
    licence = view["licence"]
    return {"licence": {"code": licence["code"], "uri": licence["uri"], "label": licence["label"],
                        "reusable": licence["reusable"]},
            "attribution": attribution_of(view),
            "access": {"tier": (decision.tier or Tier.METADATA).value, "basis": decision.basis}}
