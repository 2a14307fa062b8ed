"""Search: keyword, semantic (cross-lingual) and hybrid, with filters, facets, highlights and cursors."""

from __future__ import annotations

import asyncio
import io
import warnings
from typing import Annotated, Any

import orjson
from elasticsearch import Elasticsearch
from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, Field, TypeAdapter

from indexing.encoders import image_encoder
from indexing.encoders.pixels import viewable
from indexing.query import Filters, Mode, Sort
from indexing.terms import default_analyzer
from schemas.access import Scope, Tier
from schemas.asset import AIRecord, AssetRecord
from schemas.licences import LICENCES
from services import assets
from services.access.db import Database
from services.access.names import OrgNames, names
from services.access.policy import Decision, visibility_filter
from services.access.principals import Principal
from services.access.seen import decisions_for
from services.gateway.deps import DbDep, EsDep, FiltersDep, LangDep, PageSize, PrincipalDep, SettingsDep, require
from services.gateway.errors import (
    BadRequest,
    InvalidRequest,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
)
from services.messages import LICENCE_ZH, Lang, localise_credit
from services.record_view import Credited, credit_of, media_href, stored_view
from services.search import CursorError, Searcher
from services.search import Query as SearchQuery
from services.settings import Settings

router = APIRouter(prefix="/v1", tags=["search"], dependencies=[Depends(require(Scope.SEARCH))])


class PageHit(BaseModel):
    page: int = Field(description="Page number, from 1 (images[].page).")
    fragment: str | None = Field(description="The matching text of that page, <em>-marked.")


class Hit(Credited):
    score: float | None = Field(description="BM25, cosine or fused (RRF) score, by mode.")
    ranks: dict[str, int | None] = Field(description="Rank in each leg a hybrid result came from.")
    highlight: dict[str, list[str]] = Field(description="Matching fragments, <em>-marked, per field.")
    pages: list[PageHit] = Field(default_factory=list, description="Pages of its documents where the words are, "
                                                                   "best first (at most 3).")


class Label(BaseModel):
    zh: str
    en: str


class Bucket(BaseModel):
    value: str | int | float | bool
    count: int
    label: Label | None = Field(None, description="The value's name in Chinese and English: institutions, regions "
                                                  "and licences (categories and materials: GET /v1/taxonomy).")


class SearchPage(BaseModel):
    total: int = Field(description="Matching assets (hybrid: keyword matches or the fused window, the larger).")
    hits: list[Hit]
    facets: dict[str, list[Bucket]] | None = Field(description="Counts per facet value; on the first page only.")
    next: str | None = Field(description="Cursor of the next page; absent on the last.")
    took_ms: int = Field(description="Elasticsearch's own time for this page, summed over its requests.")


# -- the answer, validated once ------------------------------------------------------------------

_AI: TypeAdapter[AIRecord] = TypeAdapter(AIRecord)


def _public_view(record: dict[str, Any]) -> dict[str, Any]:
    """The record as the API shows it (`AssetRecord.public_view`): the stored `_source` itself when it already has
    the model's shape (services/record_view.stored_view, and an `ai` that the model gives back unchanged), so a
    record the pipeline wrote is not validated again only to be dumped the same; otherwise what the model makes."""
    if "ai" in record:
        rest = {k: v for k, v in record.items() if k != "ai"}
        ai = record["ai"]
        if stored_view(rest) is rest and (ai is None or _AI.dump_python(_AI.validate_python(ai), mode="json") == ai):
            return record
    return AssetRecord.model_validate(record).public_view()


def _thumbnail(base: str, view: dict[str, Any], decision: Decision) -> str | None:
    """`services.record_view.thumbnail` of a public view."""
    if view["images"] and (decision.tier or Tier.METADATA).includes(Tier.THUMBNAIL):
        return media_href(base, view["asset_id"], 0, Tier.THUMBNAIL)
    return None


def credited_hits(es: Elasticsearch, settings: Settings, principal: Principal,
                  hits: list[dict[str, Any]], lang: Lang = "en") -> list[dict[str, Any]]:
    """Each hit as `Hit` / `ImageHit` serialise it (record_view.credited's output in the models' field order):
    its own fields (score, ranks, highlight) after the licence, credit line, the caller's tier and thumbnail."""
    decisions = decisions_for(es, settings, principal, [h["record"] for h in hits])
    base = settings.gateway.public_url
    out = []
    for hit in hits:
        view = _public_view(hit["record"])
        decision = decisions[str(hit["record"]["asset_id"])]
        out.append({"asset_id": hit["asset_id"], **localise_credit(credit_of(view, decision), lang),
                    "thumbnail": _thumbnail(base, view, decision), "record": view,
                    **{k: v for k, v in hit.items() if k not in ("asset_id", "record")}})
    return out


def labelled(facets: dict[str, list[dict[str, Any]]] | None, org: OrgNames) -> dict[str, list[dict[str, Any]]] | None:
    """The facets with the names of their institutions, regions and licences (`label`, as `Bucket` has it: None
    where there is no name)."""
    if facets is None:
        return None

    def label(facet: str, value: str) -> dict[str, str] | None:
        if facet == "licence":
            lic = LICENCES.get(value)
            return {"zh": LICENCE_ZH.get(value, lic.label), "en": lic.label} if lic else None
        name = org.institution(value) if facet == "institution" else org.region(value) if facet == "region" else None
        return name.as_json() if name else None

    return {facet: [b | {"label": label(facet, str(b["value"]))} for b in buckets] for facet, buckets in facets.items()}


def json_response(body: dict[str, Any]) -> Response:
    """The answer as orjson writes it: the route's response_model documents it, FastAPI does not validate it again."""
    return Response(orjson.dumps(body), media_type="application/json")


def searchable(q: str) -> bool:
    """Whether a query has anything to match once analysed (not only stop words and punctuation)."""
    return bool(default_analyzer().tokens(q))


@router.get("/search", response_model=SearchPage)
async def search(
    es: EsDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    filters: FiltersDep,
    db: DbDep,
    lang: LangDep,
    q: Annotated[str | None, Query(description="Words in Chinese, English or both (at most "
                                               "`WENYUAN_SEARCH__MAX_QUERY_CHARS` characters).")] = None,
    mode: Mode = Mode.HYBRID,
    sort: Sort = Sort.RELEVANCE,
    size: PageSize = 20,
    cursor: Annotated[str | None, Query(max_length=4000, description="`next` of the previous page.")] = None,
) -> Response:
    """Search the assets; walk every result by passing `next` back as `cursor` with the same parameters. Licence
    names and access bases are in the language of `Accept-Language` (zh or en)."""
    q = (q or "").strip() or None
    if q is None and filters.is_empty():
        raise InvalidRequest("give words to search for (q) or at least one filter", field="q")
    if q is not None and len(q) > settings.search.max_query_chars:
        raise InvalidRequest(f"q is {len(q)} characters long; at most {settings.search.max_query_chars} are searched",
                             field="q")
    query = SearchQuery(q=q, mode=mode, filters=filters, sort=sort, size=size, viewer=principal.fingerprint())
    return json_response(await asyncio.to_thread(_search, es, settings, principal, query, cursor, db, lang))


def _search(es: Elasticsearch, settings: Settings, principal: Principal, query: SearchQuery,
            cursor: str | None, db: Database, lang: Lang) -> dict[str, Any]:
    """The page as the route answers it: the query checked, searched and its hits credited, in one worker thread
    (each hop between the event loop and a thread costs a scheduling round on a busy machine)."""
    if query.q is not None and not searchable(query.q):
        raise InvalidRequest("q has no words to search for: only stop words, punctuation or symbols", field="q")
    try:
        page = Searcher(es, settings).search(query, cursor, visibility=visibility_filter(principal))
    except CursorError as exc:
        raise BadRequest(str(exc), field="cursor") from exc
    facets = labelled(page.facets, names(db)) if page.facets else page.facets
    return {"total": page.total, "hits": credited_hits(es, settings, principal, page.hits, lang), "facets": facets,
            "next": page.next, "took_ms": page.took_ms}


class ImageHit(Credited):
    score: float = Field(description="Elasticsearch's cosine score of the closest image, (1 + cos) / 2.")


class ImageResults(BaseModel):
    hits: list[ImageHit]


ACCEPTED_IMAGES = {"JPEG", "PNG", "WEBP"}


def _open_upload(data: bytes, max_pixels: int) -> Image.Image:
    """The upload as ingestion's derivatives show a file (`pixels.viewable`: upright, transparency on white, sRGB),
    so a query with the very file that was ingested reaches the encoder as the same picture."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ACCEPTED_IMAGES:
                raise UnsupportedMediaType(f"{image.format} images are not accepted: send a JPEG, PNG or WebP",
                                           field="file")
            if image.width * image.height > max_pixels:
                raise PayloadTooLarge(f"the image has {image.width}×{image.height} pixels, more than the "
                                      f"{max_pixels:,} accepted", field="file")
            image.load()
            return viewable(image)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombWarning) as exc:
        raise UnsupportedMediaType("the upload is not a readable image: send a JPEG, PNG or WebP file",
                                   field="file") from exc


@router.post("/search/image", response_model=ImageResults)
async def search_image(
    es: EsDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    filters: FiltersDep,
    lang: LangDep,
    file: Annotated[UploadFile | None, File(description="A JPEG, PNG or WebP picture.")] = None,
    asset_id: Annotated[str | None, Form(description="Or: search with this asset's image…")] = None,
    image: Annotated[int, Form(ge=0, description="… the n-th of its images (0 = the first).")] = 0,
    size: PageSize = 20,
) -> Response:
    """Assets whose images look like the uploaded picture, or like one of an asset's images."""
    if (file is None) == (asset_id is None):
        raise InvalidRequest("send either an image file (`file`) or an `asset_id`, not both", field="file")
    visibility = visibility_filter(principal)
    if file is not None:
        limit = settings.search.max_image_upload_bytes
        data = await file.read(limit + 1)
        if len(data) > limit:
            raise PayloadTooLarge(f"images for search are at most {limit // (1024 * 1024)} MiB", field="file")
        if not data:
            raise InvalidRequest("the uploaded file is empty", field="file")
        # Decoding and encoding a picture take tens of milliseconds of CPU: never on the event loop.
        return json_response(await asyncio.to_thread(_by_picture, es, settings, principal, data, filters, size,
                                                       lang))
    asset, _ = await asyncio.to_thread(assets.load_seen, es, settings, asset_id or "", principal, vectors=True)
    if image >= len(asset.images) or not asset.images[image].vector:
        raise InvalidRequest(f"asset {asset_id} has no indexed image number {image}", field="image")
    vector = asset.images[image].vector or []

    def neighbours() -> dict[str, Any]:
        hits = assets.neighbours_by_image(es, settings, vector, size, filters, asset.asset_id, visibility=visibility)
        return {"hits": credited_hits(es, settings, principal, hits, lang)}
    return json_response(await asyncio.to_thread(neighbours))


def _by_picture(es: Elasticsearch, settings: Settings, principal: Principal, data: bytes, filters: Filters,
                size: int, lang: Lang = "en") -> dict[str, Any]:
    """The answer to an uploaded picture, decoded, encoded, searched and credited in one worker thread."""
    if image_encoder(settings.models) is None:
        raise ServiceUnavailable("image search is off: no image encoder is configured "
                                 "(WENYUAN_MODELS__IMAGE_ENCODER)", field="file")
    picture = _open_upload(data, settings.ingest.max_image_pixels)
    hits = assets.search_by_image(es, settings, picture, filters, size, visibility=visibility_filter(principal))
    return {"hits": credited_hits(es, settings, principal, hits, lang)}
