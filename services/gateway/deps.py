"""Dependencies of the routes: the clients made in the lifespan, the caller, what it may see (assets,
images, batches), and the parameters several routes share (search filters, page size). Every
`Annotated[..., Depends(...)]` alias of the gateway is here."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from elasticsearch import Elasticsearch
from fastapi import Depends, Query, Request
from minio import Minio

from indexing.query import Filters
from schemas.access import Scope
from schemas.asset import AssetRecord
from schemas.media import MediaType
from services import assets
from services.access.db import Database
from services.access.policy import Decision, may_see_batch
from services.access.principals import ANONYMOUS, Principal
from services.gateway.errors import (
    BadImageRequest,
    BatchNotFound,
    ImageNotFound,
    InvalidRequest,
    MissingScope,
    request_lang,
)
from services.iiif import delivery, image
from services.iiif.cache import SourceCache
from services.ingest.batches import BatchRecord, load_batch
from services.messages import Lang
from services.settings import Settings
from services.storage import ObjectNotFound
from services.workflows import AirflowClient


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_es(request: Request) -> Elasticsearch:
    es: Elasticsearch = request.app.state.es
    return es


def get_s3(request: Request) -> Minio:
    s3: Minio = request.app.state.s3
    return s3


def get_airflow(request: Request) -> AirflowClient:
    airflow: AirflowClient = request.app.state.airflow
    return airflow


def get_presigner(request: Request) -> Minio:
    """The S3 client that signs delivery URLs for the address clients reach (s3.public_url)."""
    s3: Minio = request.app.state.presigner
    return s3


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_principal(request: Request) -> Principal:
    """The caller, as the access middleware made it (anonymous without a key)."""
    principal: Principal = getattr(request.state, "principal", ANONYMOUS)
    return principal


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
EsDep = Annotated[Elasticsearch, Depends(get_es)]
S3Dep = Annotated[Minio, Depends(get_s3)]
PresignerDep = Annotated[Minio, Depends(get_presigner)]
AirflowDep = Annotated[AirflowClient, Depends(get_airflow)]
DbDep = Annotated[Database, Depends(get_db)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
LangDep = Annotated[Lang, Depends(request_lang)]  # the language of the answer's words (Accept-Language)


def require(scope: Scope) -> Callable[[Principal], Principal]:
    """A guard: the caller's key must carry `scope` (the public has search and deliver)."""
    def guard(principal: PrincipalDep) -> Principal:
        if not principal.can(scope):
            raise MissingScope(f"this needs the scope {scope.value!r}; the caller has "
                               f"{sorted(s.value for s in principal.scopes) or 'none'}", scope=scope.value)
        return principal
    return guard


@dataclass
class SeenAsset:
    """An asset the caller may see, and what it receives of it (services/access/policy.decide)."""

    asset: AssetRecord
    decision: Decision


def _visible(vectors: bool) -> Callable[..., Coroutine[Any, Any, SeenAsset]]:
    async def visible_asset(asset_id: str, es: EsDep, settings: SettingsDep, principal: PrincipalDep) -> SeenAsset:
        """Fetch, 404, decide: an asset the caller may not see is not found, exactly like one that does not exist."""
        asset, decision = await asyncio.to_thread(assets.load_seen, es, settings, asset_id, principal,
                                                  vectors=vectors)
        return SeenAsset(asset, decision)
    return visible_asset


VisibleAsset = Annotated[SeenAsset, Depends(_visible(vectors=False))]
VisibleAssetWithVectors = Annotated[SeenAsset, Depends(_visible(vectors=True))]


def page_size(default: int) -> Callable[[Settings, int], int]:
    """`size`, at most `WENYUAN_SEARCH__MAX_PAGE_SIZE` (a limit read from the settings, never a literal)."""
    def size_within(settings: SettingsDep, size: Annotated[int, Query(
            ge=1, description="Results per page (at most `WENYUAN_SEARCH__MAX_PAGE_SIZE`).")] = default) -> int:
        limit = settings.search.max_page_size
        if size > limit:
            raise InvalidRequest(f"size: at most {limit} results a page", field="size",
                                 errors=[{"field": "query.size", "reason": f"must be at most {limit}"}])
        return size
    return size_within


PageSize = Annotated[int, Depends(page_size(20))]
NeighbourCount = Annotated[int, Depends(page_size(10))]


# -- search filters ------------------------------------------------------------------------------

def search_filters(
    category: Annotated[list[str], Query(description="Taxonomy category ids (repeat for OR).")] = [],  # noqa: B006
    material: Annotated[list[str], Query(description="Taxonomy material ids.")] = [],  # noqa: B006
    institution: Annotated[list[str], Query()] = [],  # noqa: B006
    region: Annotated[list[str], Query(description="ISO 3166 codes: CN, CN-BJ, GB…")] = [],  # noqa: B006
    department: Annotated[list[str], Query()] = [],  # noqa: B006
    licence: Annotated[list[str], Query(description="Licence codes: CC0, CC-BY-4.0, InC…")] = [],  # noqa: B006
    reusable: Annotated[bool | None, Query(description="Only openly reusable licences.")] = None,
    has_image: bool | None = None,
    media_type: Annotated[list[MediaType], Query(description="image, document, audio, video, model (repeat for "
                                                             "OR).")] = [],  # noqa: B006
    year_from: Annotated[int | None, Query(description="Period overlaps from this year (negative: BCE).")] = None,
    year_to: Annotated[int | None, Query(description="… to this year.")] = None,
    duration_from: Annotated[float | None, Query(ge=0, description="Audio or video at least this long, s.")] = None,
    duration_to: Annotated[float | None, Query(ge=0, description="… at most this long, s.")] = None,
    pages_from: Annotated[int | None, Query(ge=0, description="Documents of at least this many pages.")] = None,
    pages_to: Annotated[int | None, Query(ge=0, description="… at most this many pages.")] = None,
) -> Filters:
    """The filters every search route takes, as query parameters."""
    if year_from is not None and year_to is not None and year_from > year_to:
        raise InvalidRequest(f"year_to ({year_to}) is before year_from ({year_from}): give the earlier year first",
                             field="year_to")
    return Filters(category=category, material=material, institution=institution, region=region,
                   department=department,
                   licence=licence, reusable=reusable, has_image=has_image, media_type=media_type,
                   year_from=year_from, year_to=year_to, duration_from=duration_from, duration_to=duration_to,
                   pages_from=pages_from, pages_to=pages_to)


FiltersDep = Annotated[Filters, Depends(search_filters)]


# -- batches -------------------------------------------------------------------------------------

def _batch(s3: S3Dep, settings: SettingsDep, batch_id: str, principal: PrincipalDep) -> BatchRecord:
    """The batch, if the caller is staff of its institution or an operator; 404 otherwise, as for no batch."""
    try:
        batch = load_batch(s3, settings.s3, batch_id)
    except ObjectNotFound as exc:
        raise BatchNotFound(f"no batch {batch_id!r}", batch_id=batch_id) from exc
    if not may_see_batch(principal, batch.institution):
        raise BatchNotFound(f"no batch {batch_id!r}", batch_id=batch_id)
    return batch


BatchDep = Annotated[BatchRecord, Depends(_batch)]


Uploader = Annotated[Principal, Depends(require(Scope.UPLOAD))]


# -- IIIF images ---------------------------------------------------------------------------------

_sources_lock = threading.Lock()


def _sources(request: Request) -> SourceCache:
    """The decoded-source cache of this app (made on first use: one per gateway process)."""
    state = request.app.state
    with _sources_lock:
        if not isinstance(getattr(state, "iiif_sources", None), SourceCache):
            state.iiif_sources = SourceCache(state.settings.iiif.source_cache_mb * 1024 * 1024)
    cache: SourceCache = state.iiif_sources
    return cache


def parsed_request(region: str, size: str, rotation: str, quality: str, format: str) -> image.ImageRequest:
    try:
        return image.parse(region, size, rotation, f"{quality}.{format}")
    except image.InvalidImageRequest as exc:
        raise BadImageRequest(str(exc)) from exc


async def seen_image(image_id: str, es: EsDep, settings: SettingsDep, principal: PrincipalDep) -> delivery.SeenImage:
    """Fetch, 404, decide: an image of an asset the caller may not see is not found, like one that does not exist."""
    try:
        return await asyncio.to_thread(delivery.find_image, es, settings, image_id, principal)
    except delivery.ImageNotFound as exc:
        raise ImageNotFound(f"no image {image_id!r}") from exc


ParsedRequest = Annotated[image.ImageRequest, Depends(parsed_request)]
SeenImage = Annotated[delivery.SeenImage, Depends(seen_image)]
Sources = Annotated[SourceCache, Depends(_sources)]
