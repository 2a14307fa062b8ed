"""OAI-PMH 2.0 at /oai, by GET (query string) or POST (application/x-www-form-urlencoded).

Every answer is HTTP 200 with the protocol's XML, protocol errors included (`<error code=…>`);
only failures outside the protocol (a bad key: 401, the rate limit: 429, a key without the search
scope: 403) are problem+json, as everywhere in the API. The caller's key decides what it harvests,
with the same rules as search.
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request, Response

from schemas.access import Scope
from services.gateway.deps import DbDep, EsDep, PrincipalDep, SettingsDep, require
from services.oai.envelope import MEDIA_TYPE
from services.oai.holders import names_from
from services.oai.verbs import Repository, respond

router = APIRouter(tags=["oai-pmh"], dependencies=[Depends(require(Scope.SEARCH))])

RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"text/xml": {}}, "description": "An OAI-PMH 2.0 response (errors included)."}}


async def _answer(pairs: list[tuple[str, str]], es: EsDep, settings: SettingsDep, principal: PrincipalDep,
                  db: DbDep) -> Response:
    repository = Repository(es, settings, principal, names_from(db))
    # Elasticsearch unreachable is no protocol condition: HTTP 503 (services/gateway/errors.py), as the protocol allows.
    body = await asyncio.to_thread(respond, repository, pairs)
    return Response(body, media_type=MEDIA_TYPE)


@router.get("/oai", response_class=Response, responses=RESPONSES)
async def oai_get(request: Request, es: EsDep, settings: SettingsDep, principal: PrincipalDep,
                  db: DbDep) -> Response:
    """The six verbs: Identify, ListMetadataFormats, ListSets, GetRecord, ListIdentifiers, ListRecords."""
    return await _answer(request.query_params.multi_items(), es, settings, principal, db)


@router.post("/oai", response_class=Response, responses=RESPONSES)
async def oai_post(request: Request, es: EsDep, settings: SettingsDep, principal: PrincipalDep,
                   db: DbDep) -> Response:
    """The same, with the arguments form-encoded in the body."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return await _answer(parse_qsl(body, keep_blank_values=True), es, settings, principal, db)
