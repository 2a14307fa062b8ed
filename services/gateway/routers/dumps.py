"""Bulk dumps: every record the caller may see, gzip-compressed NDJSON, streamed (services/dumps.py)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from schemas.access import Scope
from services.dumps import FILENAME, Dump
from services.gateway.deps import EsDep, PrincipalDep, SettingsDep, require

router = APIRouter(prefix="/v1/dumps", tags=["dumps"], dependencies=[Depends(require(Scope.SEARCH))])


@router.get(f"/{FILENAME}", response_class=StreamingResponse,
            responses={200: {"content": {"application/gzip": {}},
                             "description": "gzip of NDJSON: one record a line with its licence, attribution, "
                                            "the caller's tier and the media links that tier allows."}})
async def read_dump(es: EsDep, settings: SettingsDep, principal: PrincipalDep) -> StreamingResponse:
    """Every record the caller may see (the same rules as search), streamed; no Content-Length."""
    dump = await asyncio.to_thread(Dump(es, settings, principal).open)
    return StreamingResponse(iter(dump), media_type="application/gzip",
                             headers={"Content-Disposition": f'attachment; filename="{FILENAME}"',
                                      "Cache-Control": "no-store"})
