"""IIIF Presentation API 3.0: a manifest per asset, collections per batch and per institution.

Paths, none of which the Image API's (`/iiif/3/{image-id}`, `…/info.json`,
`…/{region}/{size}/{rotation}/{quality}.{format}`) can match, whatever the order the routers are
registered in: a manifest is two segments after `/iiif/3/` and ends in `manifest` (an asset id is 32
lower-case hex characters, an image id a UUID with dashes); a collection is three segments under
`/iiif/3/collections/`, where the Image API has one or five. The caller sees what it sees everywhere
else: an asset it may not see is a 404 like a missing one, and collections list only visible assets.
The builder is services/iiif/presentation.py; the members of a collection come from services/iiif/members.py.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse

from schemas.access import Scope
from services.access.db import Database
from services.access.errors import UnknownEntity
from services.access.orgs import institution
from services.gateway.deps import DbDep, EsDep, PrincipalDep, SettingsDep, VisibleAsset, require
from services.gateway.errors import NotFound
from services.iiif import members, presentation
from services.iiif.members import CollectionKind
from services.iiif.presentation import LangMap, Site, lang
from services.settings import Settings

router = APIRouter(prefix="/iiif/3", tags=["iiif"], dependencies=[Depends(require(Scope.SEARCH))])

ASSET_ID = r"^[0-9a-f]{32}$"
# What a caller sees depends on its key, so shared caches must keep answers apart by it.
HEADERS = {"Access-Control-Allow-Origin": "*", "Vary": "Authorization, X-API-Key"}
PREFLIGHT = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, OPTIONS",
             "Access-Control-Allow-Headers": "Authorization, X-API-Key, Accept", "Access-Control-Max-Age": "86400"}
After = Annotated[str | None, Query(pattern=ASSET_ID, description="Where this part of the collection starts: "
                                                                  "the last asset id of the part before.")]


class PresentationResponse(JSONResponse):
    media_type = presentation.MEDIA_TYPE


def _answer(doc: dict[str, Any]) -> PresentationResponse:
    return PresentationResponse(doc, headers=HEADERS)


def _site(settings: Settings) -> Site:
    return Site(settings.gateway.public_url.rstrip("/"), settings.ingest.thumbnail_px, settings.ingest.preview_px,
                settings.iiif.max_area)


@router.get("/{asset_id}/manifest", response_class=PresentationResponse,
            responses={200: {"description": "A Presentation 3.0 Manifest (JSON-LD)."}})
async def read_manifest(seen: VisibleAsset, settings: SettingsDep) -> PresentationResponse:
    """The asset as a IIIF Manifest: zh/en labels, metadata, rights, the credit line, and a canvas per image
    with what the caller's tier allows (nothing painted at metadata, thumbnails at thumbnail, the image at
    preview or original size above)."""
    return _answer(presentation.manifest(_site(settings), seen.asset, seen.decision))


async def _collection(kind: CollectionKind, value: str, label: LangMap, after: str | None, es: EsDep,
                      settings: Settings, principal: PrincipalDep) -> PresentationResponse:
    part = await asyncio.to_thread(members.part, es, settings, principal, kind, value, after=after,
                                   size=settings.iiif.collection_page_size)
    if not part.members and part.next_after is None:
        # Nothing visible looks exactly like nothing at all.
        raise NotFound(f"no {kind.value} {value!r} with assets you may see" + (f" after {after}" if after else ""))
    return _answer(presentation.collection(_site(settings), kind.value, value, label, part))


@router.get("/collections/batch/{batch_id}", response_class=PresentationResponse,
            responses={200: {"description": "A Presentation 3.0 Collection (JSON-LD)."}})
async def read_batch_collection(batch_id: str, es: EsDep, settings: SettingsDep, principal: PrincipalDep,
                                after: After = None) -> PresentationResponse:
    """The assets a batch wrote that the caller may see, as a IIIF Collection of manifests, in parts of
    `iiif.collection_page_size`; each part but the last ends with a reference to the next."""
    label = lang(f"批次 {batch_id}", f"Batch {batch_id}")
    return await _collection(CollectionKind.BATCH, batch_id, label, after, es, settings, principal)


def _institution_label(db: Database, institution_id: str) -> LangMap:
    try:
        with db.session() as session:
            found = institution(session, institution_id)
            return lang(found.name_zh, found.name_en)
    except UnknownEntity:  # records of an institution the access store does not know (yet)
        return lang(f"机构 {institution_id}", f"Institution {institution_id}")


@router.get("/collections/institution/{institution_id}", response_class=PresentationResponse,
            responses={200: {"description": "A Presentation 3.0 Collection (JSON-LD)."}})
async def read_institution_collection(institution_id: str, es: EsDep, db: DbDep, settings: SettingsDep,
                                      principal: PrincipalDep, after: After = None) -> PresentationResponse:
    """The assets an institution holds that the caller may see, as a IIIF Collection of manifests, in parts
    like a batch's."""
    label = await asyncio.to_thread(_institution_label, db, institution_id)
    return await _collection(CollectionKind.INSTITUTION, institution_id, label, after, es, settings, principal)


@router.options("/{asset_id}/manifest", include_in_schema=False)
@router.options("/collections/{kind}/{value}", include_in_schema=False)
async def preflight() -> Response:
    """CORS preflight: a viewer in a browser that sends an API key asks first."""
    return Response(status_code=204, headers=PREFLIGHT)
