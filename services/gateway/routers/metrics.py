"""/metrics: Prometheus' text format, for operators only.

The access middleware lets /metrics through without a rate limit (a scraper polls it), so the caller
is resolved here: no key, or a key without the `operate` scope, is a 403 problem; a bad key a 401.
Prometheus sends the key with `authorization: {credentials_file: …}` in its scrape config
(docs/OPERATIONS.md).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from schemas.access import Scope
from services.access.principals import ANONYMOUS, Principal
from services.gateway.errors import MissingScope
from services.gateway.metrics import exposition
from services.gateway.middleware import api_key


async def operator(request: Request) -> Principal:
    """The caller, if its key may operate the platform; a 403 otherwise (401 for a bad key)."""
    key = api_key(request.headers)
    state: Any = request.app.state
    principal: Principal = ANONYMOUS if key is None else await state.principals.principal(key)
    if not principal.can(Scope.OPERATE):
        raise MissingScope("/metrics is for operators: send an operator's key (Authorization: Bearer …)",
                           scope=Scope.OPERATE.value)
    return principal


router = APIRouter(tags=["health"], dependencies=[Depends(operator)])


@router.get("/metrics", include_in_schema=False)
async def read_metrics(request: Request) -> Response:
    """Every metric in Prometheus' text exposition format."""
    body = await asyncio.to_thread(exposition, request.app.state)  # the stack's gauges may read ES, S3, Airflow
    return Response(body, media_type=CONTENT_TYPE_LATEST)
