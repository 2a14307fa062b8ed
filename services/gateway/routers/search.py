"""Search: keyword, semantic (cross-lingual) and hybrid, with filters, facets, highlights and cursors."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from indexing.query import Filters, Mode, Sort
from services.gateway.deps import EsDep, SettingsDep
from services.gateway.errors import BadRequest, InvalidRequest
from services.search import CursorError, Searcher
from services.search import Query as SearchQuery

router = APIRouter(prefix="/v1", tags=["search"])


class Hit(BaseModel):
    asset_id: str
    score: float | None = Field(description="BM25, cosine or fused (RRF) score, by mode.")
    ranks: dict[str, int | None] = Field(description="Rank in each leg a hybrid result came from.")
    highlight: dict[str, list[str]] = Field(description="Matching fragments, <em>-marked, per field.")
    record: dict[str, Any] = Field(description="The asset record (vectors left out).")


class Bucket(BaseModel):
    value: str | int | float | bool
    count: int


class SearchPage(BaseModel):
    total: int = Field(description="Matching assets (hybrid: keyword matches or the fused window, the larger).")
    hits: list[Hit]
    facets: dict[str, list[Bucket]] | None = Field(description="Counts per facet value; on the first page only.")
    next: str | None = Field(description="Cursor of the next page; absent on the last.")
    took_ms: int = Field(description="Elasticsearch's own time for this page, summed over its requests.")


@router.get("/search", response_model=SearchPage)
async def search(
    es: EsDep,
    settings: SettingsDep,
    q: Annotated[str | None, Query(max_length=1000, description="Words in Chinese, English or both.")] = None,
    mode: Mode = Mode.HYBRID,
    category: Annotated[list[str], Query(description="Taxonomy category ids (repeat for OR).")] = [],  # noqa: B006
    material: Annotated[list[str], Query(description="Taxonomy material ids.")] = [],  # noqa: B006
    institution: Annotated[list[str], Query()] = [],  # noqa: B006
    department: Annotated[list[str], Query()] = [],  # noqa: B006
    licence: Annotated[list[str], Query(description="Licence codes: CC0, CC-BY-4.0, InC…")] = [],  # noqa: B006
    reusable: Annotated[bool | None, Query(description="Only openly reusable licences.")] = None,
    has_image: bool | None = None,
    year_from: Annotated[int | None, Query(description="Period overlaps from this year (negative: BCE).")] = None,
    year_to: Annotated[int | None, Query(description="… to this year.")] = None,
    sort: Sort = Sort.RELEVANCE,
    size: Annotated[int, Query(ge=1, le=100, description="Results per page (at most 100).")] = 20,
    cursor: Annotated[str | None, Query(max_length=4000, description="`next` of the previous page.")] = None,
) -> SearchPage:
    """Search the assets; walk every result by passing `next` back as `cursor` with the same parameters."""
    filters = Filters(category=category, material=material, institution=institution, department=department,
                      licence=licence, reusable=reusable, has_image=has_image, year_from=year_from, year_to=year_to)
    q = (q or "").strip() or None
    if q is None and filters.is_empty():
        raise InvalidRequest("give words to search for (q) or at least one filter", field="q")
    if size > settings.search.max_page_size:
        raise InvalidRequest(f"size is at most {settings.search.max_page_size}", field="size")
    query = SearchQuery(q=q, mode=mode, filters=filters, sort=sort, size=size)
    try:
        page = await asyncio.to_thread(Searcher(es, settings).search, query, cursor)
    except CursorError as exc:
        raise BadRequest(str(exc), field="cursor") from exc
    return SearchPage.model_validate(page, from_attributes=True)
