"""Search queries: keyword (BM25), semantic (kNN), hybrid (reciprocal-rank fusion in Python), filters, facets.

Every function takes `visibility`: the filter of what the caller may see (issue 6 makes it from the
principal). It goes into every leg — the BM25 query's filter, `knn.filter`, the facet query — so
no result, count or facet bucket ever includes an asset the caller may not see, and nothing is
filtered afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from indexing.bridge import Bridge, default_bridge
from indexing.periods import normalise
from indexing.terms import CJK, Analyzer, default_analyzer
from schemas.media import MediaType
from schemas.periods import load_periods

RRF_K = 60  # the constant of reciprocal-rank fusion (Cormack et al. 2009)

# Fields BM25 searches, with boosts; each language analysed by its own analyzer (indexing/analysis.py).
KEYWORD_FIELDS = ["title_zh^3", "title_en^3", "original_title^2", "description_zh", "description_en",
                  "creator^2", "period", "provenance", "ai.ocr_text^0.5"]
MINIMUM_SHOULD_MATCH = "2<70%"  # up to 2 terms: all; more: 70 % of them
# The pre-analysed fields (indexing/terms.py): jieba words and Snowball stems, folded to simplified script.
TERM_FIELDS = ["terms.title^3", "terms.text"]
ANALYSED_BOOST = 1.0  # the analysed fields against the server-analysed ones (CJK bigrams, unstemmed English)
SERVER_ANALYSED_BOOST = 0.5
# A query that is a record's title, exactly (after folding): that record first. The clause is named, so fusion
# can tell the bonus from BM25's own score (services/search.py).
EXACT_TITLE = "exact_title"
EXACT_TITLE_BOOST = 100.0
# Of several exact matches, the one whose title is the query as written ("Blank", not "[blank]") goes first: a
# named clause that adds nothing to the score, only breaks the tie (indexing/fusion.py).
LITERAL_TITLE = "literal_title"
# Fields the translated query of the bridge leg is matched in: the analysed fields, and for Chinese words also the
# server's bigram fields as phrases (船 finds 帆船, which jieba keeps as one word).
BRIDGE_PHRASE_FIELDS = ["title_zh^3", "original_title^2", "description_zh"]
HIGHLIGHT_FIELDS = ["title_zh", "title_en", "description_zh", "description_en", "ai.ocr_text"]
# Highlighting analyses each hit's field text again at query time. Elasticsearch refuses (the whole search fails)
# a field longer than index.highlight.max_analyzed_offset (1,000,000 characters) unless the request bounds it; bounded,
# a longer field is highlighted in its first MAX_ANALYZED_OFFSET characters and still matched and returned whole.
MAX_ANALYZED_OFFSET = 100_000
# Facets: name → field. Counts come from the same filtered query as the hits.
FACETS = {"category": "category_ids", "material": "material_ids", "institution": "institution", "region": "region",
          "department": "department", "licence": "licence.code", "reusable": "licence.reusable",
          "has_image": "has_image", "period": "period_norm.period_id", "media_type": "media_types"}


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
    media_type: list[MediaType] = Field(default_factory=list, description="Kinds of media held: image, document, "
                                                                          "audio, video, model.")
    year_from: int | None = Field(None, description="Overlap with a year range: negative years are BCE.")
    year_to: int | None = None
    duration_from: float | None = Field(None, description="Audio or video at least this long, seconds.")
    duration_to: float | None = Field(None, description="… at most this long.")
    pages_from: int | None = Field(None, description="Documents of at least this many pages.")
    pages_to: int | None = Field(None, description="… at most this many.")

    def clauses(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for name, path in (("category", "category_ids"), ("material", "material_ids"),
                           ("institution", "institution"), ("region", "region"), ("department", "department"),
                           ("licence", "licence.code"), ("media_type", "media_types")):
            if values := getattr(self, name):
                out.append({"terms": {path: values}})
        if self.reusable is not None:
            out.append({"term": {"licence.reusable": self.reusable}})
        if self.has_image is not None:
            out.append({"term": {"has_image": self.has_image}})
        if self.year_from is not None or self.year_to is not None:
            years = {k: v for k, v in (("gte", self.year_from), ("lte", self.year_to)) if v is not None}
            out.append({"range": {"period_norm.years": years | {"relation": "intersects"}}})
        for path, low, high in (("duration_s", self.duration_from, self.duration_to),
                                ("page_count", self.pages_from, self.pages_to)):
            if low is not None or high is not None:
                out.append({"range": {path: {k: v for k, v in (("gte", low), ("lte", high)) if v is not None}}})
        return out

    def is_empty(self) -> bool:
        return not self.clauses()


def filter_clause(filters: Filters, visibility: dict[str, Any] | None) -> list[dict[str, Any]]:
    return filters.clauses() + ([visibility] if visibility else [])


def text_match(q: str, analyzer: Analyzer | None = None) -> dict[str, Any]:
    """BM25 in one language: the pre-analysed fields (words, stems, folded script) or the server's own analysis.

    Most of a longer query's terms must match in one field: otherwise one shared character (元 of 开元通宝 in
    a record dated 元) is a keyword match, and fusion ranks it above the right answer.
    """
    analyzer = analyzer or default_analyzer()
    legs: list[dict[str, Any]] = [{"multi_match": {"query": q, "fields": KEYWORD_FIELDS, "type": "best_fields",
                                                   "tie_breaker": 0.3, "minimum_should_match": MINIMUM_SHOULD_MATCH,
                                                   "boost": SERVER_ANALYSED_BOOST}}]
    if tokens := analyzer.tokens(q):
        legs.append({"multi_match": {"query": " ".join(tokens), "fields": TERM_FIELDS, "type": "best_fields",
                                     "tie_breaker": 0.3, "minimum_should_match": MINIMUM_SHOULD_MATCH,
                                     "boost": ANALYSED_BOOST}})
    return {"bool": {"should": legs, "minimum_should_match": 1}}


# The pages of a document that match the query, at most PAGE_HITS_SIZE per hit, with a fragment each: a clause
# that adds nothing to the score, only names the pages (`inner_hits`) so that a hit can say where it matched.
PAGE_HITS = "pages"
PAGE_HITS_SIZE = 3


def page_hits(q: str) -> dict[str, Any]:
    return {"nested": {"path": "images", "score_mode": "max", "boost": 0.0, "ignore_unmapped": True,
                       "query": {"match": {"images.text": {"query": q, "minimum_should_match": MINIMUM_SHOULD_MATCH}}},
                       "inner_hits": {"name": PAGE_HITS, "size": PAGE_HITS_SIZE, "_source": ["images.page"],
                                      "highlight": {"fields": {"images.text": {"number_of_fragments": 1,
                                                                               "fragment_size": 160}},
                                                    "max_analyzed_offset": MAX_ANALYZED_OFFSET}}}}


def pages_of(hit: dict[str, Any]) -> list[dict[str, Any]]:
    """The matching pages of a search hit: [{"page": 3, "fragment": "…<em>…</em>…"}], best first."""
    inner = hit.get("inner_hits", {}).get(PAGE_HITS, {}).get("hits", {}).get("hits", [])
    return [{"page": page, "fragment": (h.get("highlight", {}).get("images.text") or [None])[0]}
            for h in inner if (page := h.get("_source", {}).get("page")) is not None]


def exact_title(q: str, analyzer: Analyzer | None = None) -> dict[str, Any] | None:
    key = (analyzer or default_analyzer()).title_key(q)
    return {"term": {"terms.title_keys": {"value": key, "boost": EXACT_TITLE_BOOST, "_name": EXACT_TITLE}}} \
        if key else None


def keyword_query(q: str | None, filters: Filters, visibility: dict[str, Any] | None,
                  analyzer: Analyzer | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"must": [text_match(q, analyzer)] if q else [{"match_all": {}}],
                            "filter": filter_clause(filters, visibility)}
    if q and (exact := exact_title(q, analyzer)):
        body["should"] = [exact]
        if literal := (analyzer or default_analyzer()).literal_key(q):
            body["should"].append({"term": {"terms.title_keys": {"value": literal, "boost": 0.0,
                                                                 "_name": LITERAL_TITLE}}})
    return {"bool": body}


@cache
def period_names() -> frozenset[str]:
    """The Chinese names and aliases of every period, dynasty and reign (schemas/periods.json)."""
    return frozenset(name for p in load_periods() for name in (p.zh, *p.zh_aliases))


ERA_WORDS = re.compile(r"\b(dynasty|period|reign|era)\b", re.IGNORECASE)


def period_clause(q: str, analyzer: Analyzer | None = None) -> dict[str, Any] | None:
    """A period the query names (唐, 乾隆, Ming dynasty) as the years records must lie within, so 唐代骆驼 finds
    Tang camels whatever their record calls the period. Chinese: only a whole word that is a period's name
    (金 of 鎏金 is not the Jin dynasty); English names are common words too (Bird Song), so only with
    "dynasty", "period", "reign" or "era"."""
    analyzer = analyzer or default_analyzer()
    names = period_names()
    folded = analyzer.fold(q)
    # A one-character name (夏, 唐, 明) is also a common word (summer; 唐卡斯特 is Doncaster): only as the whole
    # query or with 代/朝 (唐代).
    words = [w for w in analyzer.zh_words(folded)
             if (w in names and (len(w) > 1 or w == folded.strip())) or (w.rstrip("代朝") in names and w[-1] in "代朝")
             or (w[:1] in names and w[1:] in names and len(w) > 2)]  # 唐代, 明永乐
    text = q if ERA_WORDS.search(q) else " ".join(words)
    if not text:
        return None
    period = normalise(text)
    if period.period_id is None or period.start is None:
        return None
    years: dict[str, Any] = {"gte": period.start, "relation": "within"}
    if period.end is not None:
        years["lte"] = period.end
    return {"range": {"period_norm.years": years}}


def bridge_query(q: str, filters: Filters, visibility: dict[str, Any] | None, analyzer: Analyzer | None = None,
                 bridge: Bridge | None = None) -> dict[str, Any] | None:
    """The query translated both ways (indexing/bridge.py): each source word one group of alternatives, most
    groups required. None when nothing in the query has a translation."""
    analyzer = analyzer or default_analyzer()
    bridge = bridge or default_bridge()
    folded = analyzer.fold(q)
    en = analyzer.stems(analyzer.en_words(CJK.sub(" ", folded)))
    groups: list[dict[str, Any]] = []
    for alternatives in bridge.to_en(analyzer.zh_words(folded)):  # Chinese words → English stems
        groups.append({"bool": {"should": [
            {"multi_match": {"query": " ".join(p), "fields": TERM_FIELDS, "operator": "and"}} for p in alternatives]}})
    for alternatives in bridge.to_zh(en):  # English stems → Chinese words
        groups.append({"bool": {"should": [
            clause for p in alternatives for clause in (
                {"multi_match": {"query": " ".join(p), "fields": TERM_FIELDS, "operator": "and"}},
                {"multi_match": {"query": "".join(p), "fields": BRIDGE_PHRASE_FIELDS, "type": "phrase"}})]}})
    if (period := period_clause(q)) is not None:
        groups.append(period)
    if not groups:
        return None
    return {"bool": {"should": groups, "minimum_should_match": MINIMUM_SHOULD_MATCH,
                     "filter": filter_clause(filters, visibility)}}


def knn_clause(field_name: str, vector: Sequence[float] | np.ndarray, k: int, num_candidates: int, filters: Filters,
               visibility: dict[str, Any] | None, *, exclude: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """The kNN search of every reader (search legs, similar assets, search by image): the filters and the
    caller's visibility in `knn.filter`, so the k nearest are k the caller may see; `exclude` leaves matches out
    (the asset itself, its own institution)."""
    # An array stays one (orjson writes it whole, in float32's shortest form); anything else becomes a list.
    query_vector = vector if isinstance(vector, np.ndarray) else list(vector)
    clause: dict[str, Any] = {"field": field_name, "query_vector": query_vector, "k": k,
                              "num_candidates": max(num_candidates, k)}
    flt = filter_clause(filters, visibility)
    if exclude:
        clause["filter"] = {"bool": {"filter": flt, "must_not": list(exclude)}}
    elif flt:
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
