"""Search queries: keyword (BM25), semantic (kNN), hybrid (reciprocal-rank fusion in Python), filters, facets.

Every function takes `visibility`: the filter of what the caller may see (issue 6 makes it from the
principal). It goes into every leg — the BM25 query's filter, `knn.filter`, the facet query — so
no result, count or facet bucket ever includes an asset the caller may not see, and nothing is
filtered afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

RRF_K = 60  # the constant of reciprocal-rank fusion (Cormack et al. 2009)

# Fields BM25 searches, with boosts; each language analysed by its own analyzer (indexing/analysis.py).
KEYWORD_FIELDS = ["title_zh^3", "title_en^3", "original_title^2", "description_zh", "description_en",
                  "creator^2", "period", "provenance", "ai.ocr_text^0.5"]
MINIMUM_SHOULD_MATCH = "2<70%"  # up to 2 terms: all; more: 70 % of them
HIGHLIGHT_FIELDS = ["title_zh", "title_en", "description_zh", "description_en", "ai.ocr_text"]
# Facets: name → field. Counts come from the same filtered query as the hits.
FACETS = {"category": "category_ids", "material": "material_ids", "institution": "institution", "region": "region",
          "department": "department", "licence": "licence.code", "reusable": "licence.reusable",
          "has_image": "has_image", "period": "period_norm.period_id"}
SOURCE_EXCLUDES = ["text_vector", "images.vector"]


class Mode(StrEnum):
    KEYWORD = "keyword"
    SEMANTIC = "semantic"
    HYBRID = "hybrid"


class Sort(StrEnum):
    RELEVANCE = "relevance"
    DATE_ASC = "date"
    DATE_DESC = "-date"


class Filters(BaseModel):
    """Filters a search may carry; each list is OR within itself, AND across filters."""

    category: list[str] = Field(default_factory=list, description="Taxonomy category ids.")
    material: list[str] = Field(default_factory=list, description="Taxonomy material ids.")
    institution: list[str] = Field(default_factory=list)
    region: list[str] = Field(default_factory=list, description="ISO 3166 codes of the holding institutions.")
    department: list[str] = Field(default_factory=list)
    licence: list[str] = Field(default_factory=list, description="Licence codes (CC0, CC-BY-4.0, InC…).")
    reusable: bool | None = Field(None, description="Only openly reusable licences (CC0, PDM, NoC-*, BY, BY-SA).")
    has_image: bool | None = None
    year_from: int | None = Field(None, description="Overlap with a year range: negative years are BCE.")
    year_to: int | None = None

    def clauses(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for name, path in (("category", "category_ids"), ("material", "material_ids"),
                           ("institution", "institution"), ("region", "region"), ("department", "department"),
                           ("licence", "licence.code")):
            if values := getattr(self, name):
                out.append({"terms": {path: values}})
        if self.reusable is not None:
            out.append({"term": {"licence.reusable": self.reusable}})
        if self.has_image is not None:
            out.append({"term": {"has_image": self.has_image}})
        if self.year_from is not None or self.year_to is not None:
            years = {k: v for k, v in (("gte", self.year_from), ("lte", self.year_to)) if v is not None}
            out.append({"range": {"period_norm.years": years | {"relation": "intersects"}}})
        return out

    def is_empty(self) -> bool:
        return not self.clauses()


def filter_clause(filters: Filters, visibility: dict[str, Any] | None) -> list[dict[str, Any]]:
    return filters.clauses() + ([visibility] if visibility else [])


def keyword_query(q: str | None, filters: Filters, visibility: dict[str, Any] | None) -> dict[str, Any]:
    must: list[dict[str, Any]] = []
    if q:
        # Most of a longer query's terms must match in one field: otherwise one shared character (元 of
        # 开元通宝 in a record dated 元) is a keyword match, and fusion ranks it above the right answer.
        must.append({"multi_match": {"query": q, "fields": KEYWORD_FIELDS, "type": "best_fields",
                                     "tie_breaker": 0.3, "minimum_should_match": MINIMUM_SHOULD_MATCH}})
    return {"bool": {"must": must or [{"match_all": {}}], "filter": filter_clause(filters, visibility)}}


def knn_clause(field_name: str, vector: Sequence[float], k: int, num_candidates: int, filters: Filters,
               visibility: dict[str, Any] | None) -> dict[str, Any]:
    clause: dict[str, Any] = {"field": field_name, "query_vector": list(vector), "k": k,
                              "num_candidates": max(num_candidates, k)}
    if flt := filter_clause(filters, visibility):
        clause["filter"] = flt
    return clause


def facet_aggs(size: int = 20) -> dict[str, Any]:
    return {name: {"terms": {"field": path, "size": size}} for name, path in FACETS.items()}


def facet_counts(aggregations: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for name in FACETS:
        buckets = aggregations.get(name, {}).get("buckets", [])
        out[name] = [{"value": b.get("key_as_string", b["key"]), "count": b["doc_count"]} for b in buckets]
    return out


@dataclass
class Fused:
    asset_id: str
    score: float
    ranks: dict[str, int] = field(default_factory=dict)  # leg → 1-based rank


def rrf(legs: Mapping[str, Sequence[str]], k: int = RRF_K) -> list[Fused]:
    """Reciprocal-rank fusion of ranked id lists: score = Σ 1 / (k + rank); ties broken by id."""
    fused: dict[str, Fused] = {}
    for leg, ids in legs.items():
        for rank, asset_id in enumerate(ids, start=1):
            item = fused.setdefault(asset_id, Fused(asset_id, 0.0))
            item.score += 1.0 / (k + rank)
            item.ranks[leg] = rank
    return sorted(fused.values(), key=lambda f: (-f.score, f.asset_id))
