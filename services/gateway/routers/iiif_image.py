"""IIIF Image API 3.0, level 2: `/iiif/3/{image_id}` (303 to info.json), `…/info.json`, and
`…/{region}/{size}/{rotation}/{quality}.{format}`.

The image id is a UUID with dashes, matched by its own path convertor, so none of these paths can
match a Presentation path (`/iiif/3/{asset_id}/manifest`: 32 hex characters without dashes;
`/iiif/3/collections/…`), whatever the order the routers are registered in.

Every answer of this router, errors included, carries `Access-Control-Allow-Origin: *` (the route
class below renders errors with the app's one problem+json handler and adds the CORS headers);
`OPTIONS` answers CORS preflights (a browser viewer that sends an API key needs one). What a caller
receives is decided as for every delivery (services/iiif/delivery.py); info.json is audited like a
media delivery, and so is every refusal; the tiles a viewer then fetches are not (one audit row per
tile would cost more than the tile).

A warm tile is served from memory where the process has it (services/iiif/cache.TileCache), without
leaving the event loop; otherwise the cached object is read from S3, or the tile is made, in a worker
thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.convertors import Convertor, register_url_convertor

from schemas.access import Scope
from services import assets
from services.access import audit
from services.access.db import Database
from services.access.errors import TierRefused
from services.access.principals import Principal
from services.gateway.deps import DbDep, ParsedRequest, PrincipalDep, S3Dep, SeenImage, SettingsDep, Sources, require
from services.gateway.errors import BadImageRequest, ImageNotFound
from services.iiif import delivery, image, info
from services.iiif.cache import TileCache
from services.settings import Settings
from services.storage import ObjectNotFound

CORS = {"Access-Control-Allow-Origin": "*"}
PREFLIGHT = CORS | {"Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
                    "Access-Control-Allow-Headers": "Authorization, X-API-Key, Accept",
                    "Access-Control-Expose-Headers": "Link, X-Wenyuan-Tier, X-Wenyuan-Cache, Attribution",
                    "Access-Control-Max-Age": "86400"}
JSON_LD = f'application/ld+json;profile="{info.CONTEXT}"'
PROFILE_LINK = f'<{info.PROFILE_URI}>;rel="profile"'
VARY = "Authorization, X-API-Key"
_tiles_lock = threading.Lock()


async def _tiles(request: Request) -> TileCache:
    """The made-image cache of this app (made on first use: one per gateway process). Async: no worker-thread hop."""
    state = request.app.state
    with _tiles_lock:
        if not isinstance(getattr(state, "iiif_tiles", None), TileCache):
            state.iiif_tiles = TileCache(state.settings.iiif.tile_cache_mb * 1024 * 1024)
    cache: TileCache = state.iiif_tiles
    return cache


class ImageIdConvertor(Convertor[str]):
    """An image id: a UUID with dashes (schemas.asset.image_id_for), compared in lower case."""

    regex = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

    def convert(self, value: str) -> str:
        return value.lower()

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("iiif_image_id", ImageIdConvertor())


class CorsRoute(APIRoute):
    """Adds the CORS header to every answer, errors rendered by the app's own handlers included."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_cors(request: Request) -> Response:
            try:
                response = await handler(request)
            except Exception as exc:
                render = next((request.app.exception_handlers[k] for k in type(exc).__mro__
                               if k in request.app.exception_handlers), None)
                if render is None:
                    raise
                response = await render(request, exc)
            response.headers.update(CORS)
            return response

        return with_cors


router = APIRouter(prefix="/iiif/3", tags=["iiif"], route_class=CorsRoute,
                   dependencies=[Depends(require(Scope.DELIVER))])
BASE = "/{image_id:iiif_image_id}"
IMAGE = BASE + "/{region}/{size}/{rotation}/{quality}.{format}"


def _service_id(settings: Settings, image_id: str) -> str:
    return f"{settings.gateway.public_url}/iiif/3/{image_id}"


def _cache_control(settings: Settings, principal: Principal) -> str:
    # What a keyed caller receives may be more than the public does: only its own cache may keep it.
    return f"{'private' if principal.key_prefix else 'public'}, max-age={settings.iiif.max_age_s}"


def _audit(db: Database, principal: Principal, seen: delivery.SeenImage, subject: str, *,
           allowed: bool, reason: str | None = None) -> None:
    tier = seen.decision.tier if allowed else None
    with db.session() as session:
        audit.record(session, principal, "deliver", outcome="allowed" if allowed else "denied", subject=subject,
                     reason=reason, **delivery.audit_detail(seen, tier))


async def _refused(db: Database, principal: Principal, seen: delivery.SeenImage, subject: str,
                   exc: TierRefused) -> TierRefused:
    await asyncio.to_thread(_audit, db, principal, seen, subject, allowed=False, reason=exc.detail)
    return exc


@router.head(BASE, status_code=303, include_in_schema=False)
@router.get(BASE, status_code=303, responses={303: {"description": "See the image information document (info.json)."}})
async def redirect_to_info(image_id: str, settings: SettingsDep) -> RedirectResponse:
    """The image service's base URI: a 303 to its info.json."""
    return RedirectResponse(f"{_service_id(settings, image_id)}/info.json", status_code=303)


@router.head(BASE + "/info.json", include_in_schema=False)
@router.get(BASE + "/info.json",
            responses={200: {"content": {"application/ld+json": {}}},
                       403: {"description": "The caller's tier holds no image of this asset; the problem "
                                            "says which licence, audience or grant would."}})
async def read_image_info(request: Request, seen: SeenImage, settings: SettingsDep, principal: PrincipalDep,
                          db: DbDep) -> JSONResponse:
    """Image information for this caller: `maxWidth`/`maxHeight` are what its tier serves."""
    subject = f"iiif {seen.image.id} info.json"
    try:
        tier = delivery.media_tier(seen)
    except TierRefused as exc:
        raise await _refused(db, principal, seen, subject, exc) from None
    limits = delivery.caller_limits(settings, seen.image, tier)
    doc = info.info_document(_service_id(settings, seen.image.id), seen.image, limits, seen.asset.licence,
                             settings.iiif.tile_size)
    await asyncio.to_thread(_audit, db, principal, seen, subject, allowed=True)
    accept = request.headers.get("accept", "")
    plain = "application/json" in accept and "application/ld+json" not in accept
    headers = {"Link": PROFILE_LINK, "Cache-Control": _cache_control(settings, principal),
               "Vary": f"Accept, {VARY}", "X-Wenyuan-Tier": tier.value}
    return JSONResponse(doc, media_type="application/json" if plain else JSON_LD, headers=headers)


@router.head(IMAGE, response_class=Response, include_in_schema=False)
@router.get(IMAGE, response_class=Response,
            responses={200: {"content": {f.media_type: {} for f in image.Format}},
                       400: {"description": "Bad syntax, an empty or outside region, or upscaling without ^."},
                       403: {"description": "More pixels than the caller's tier serves (or no image at all); "
                                            "the problem says which tier, licence or grant would serve them."}})
async def read_image(request: ParsedRequest, seen: SeenImage, settings: SettingsDep, principal: PrincipalDep,
                     s3: S3Dep, db: DbDep, sources: Sources, tiles: Annotated[TileCache, Depends(_tiles)]) -> Response:
    """The region, at the size, rotation, quality and format asked for, within the caller's tier."""
    try:
        made = delivery.in_memory(settings, tiles, seen, request)
        if made is None:
            made = await asyncio.to_thread(delivery.make, s3, settings, sources, seen, request, tiles)
    except TierRefused as exc:
        raise await _refused(db, principal, seen, f"iiif {seen.image.id} image", exc) from None
    except image.InvalidImageRequest as exc:
        raise BadImageRequest(str(exc)) from exc
    except ObjectNotFound as exc:
        raise ImageNotFound(f"the stored file of image {seen.image.id!r} is missing ({exc})") from exc
    canonical = f"{_service_id(settings, seen.image.id)}/{made.plan.canonical(made.limits)}"
    links = [f'<{canonical}>;rel="canonical"', PROFILE_LINK]
    if seen.asset.licence.uri:
        links.append(f'<{seen.asset.licence.uri}>;rel="license"')
    headers = {"Link": ", ".join(links), "Cache-Control": _cache_control(settings, principal), "Vary": VARY,
               "X-Wenyuan-Tier": made.tier.value, "X-Wenyuan-Cache": "hit" if made.cached else "miss",
               # The credit line travels with the image (RFC 8187 encoding: titles are often Chinese).
               "Attribution": "UTF-8''" + quote(assets.attribution(seen.asset), safe="")}
    return Response(made.body, media_type=made.plan.format.media_type, headers=headers)


@router.options(BASE, include_in_schema=False)
@router.options(BASE + "/{rest:path}", include_in_schema=False)
async def preflight() -> Response:
    return Response(status_code=204, headers=PREFLIGHT)
