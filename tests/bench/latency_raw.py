"""Search latency bench: the raw baseline. The gateway's Elasticsearch requests sent straight with the Python client,
and the gateway's Searcher called in-process (its Elasticsearch requests and Python work without HTTP and FastAPI)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import Elasticsearch

from indexing.aliases import assets_alias
from indexing.query import HIGHLIGHT_FIELDS, Mode, Sort, facet_aggs, keyword_query, knn_clause
from indexing.source import record_source
from services.access.policy import visibility_filter
from services.access.principals import ANONYMOUS
from services.search import Query, Searcher
from services.settings import Settings
from tests.bench.latency_data import PAGE_SIZE, _filters, _log
from tests.bench.latency_sequential import _ms


@dataclass
class Raw:
    name: str
    took: list[float] = field(default_factory=list)
    round_trip: list[float] = field(default_factory=list)
    note: str = ""


def _raw(name: str, items: Sequence[Any], call: Callable[[Any], Any], took: Callable[[Any], float | None],
         note: str = "") -> Raw:
    """call(item) for each item, timed; took(response) is Elasticsearch's time, if it reports one."""
    out = Raw(name, note=note)
    t_start = time.perf_counter()
    for item in items:
        t0 = time.perf_counter()
        resp = call(item)
        out.round_trip.append(_ms(t0))
        if (t := took(resp)) is not None:
            out.took.append(t)
    _log(f"raw: {name}: {len(items)} requests in {time.perf_counter() - t_start:.0f} s")
    return out


def raw_baseline(es: Elasticsearch, settings: Settings, qs: Sequence[str], text_vecs: Sequence[list[float]],
                 image_vecs: Sequence[list[float]]) -> list[Raw]:
    """The gateway's Elasticsearch requests, sent straight with the Python client (and the Searcher in-process)."""
    alias = assets_alias(settings.es)
    s = settings.search
    flt = _filters()
    window = s.semantic_window
    highlight = {"fields": {f: {} for f in HIGHLIGHT_FIELDS}, "number_of_fragments": 2, "fragment_size": 120}
    searcher = Searcher(es, settings)
    vis = visibility_filter(ANONYMOUS)  # the gateway's requests carry the caller's filter: the public's here
    pits: list[str] = []

    def es_took(resp: Any) -> float:
        return float(resp["took"])

    def page_took(page: Any) -> float:
        return float(page.took_ms)

    def no_took(_: Any) -> None:
        return None

    def open_pit(_: str) -> None:
        pits.append(es.open_point_in_time(index=alias, keep_alive="1m")["id"])

    def keyword_page(q: str) -> Any:
        return es.search(index=alias, query=keyword_query(q, flt, vis), size=PAGE_SIZE,
                         source=record_source(), highlight=highlight, track_total_hits=True)

    def facets(q: str) -> Any:
        return es.search(index=alias, query=keyword_query(q, flt, vis), size=0, aggs=facet_aggs(),
                         track_total_hits=True)

    def keyword_leg(q: str) -> Any:
        return es.search(index=alias, query=keyword_query(q, flt, vis), size=window, source=False,
                         track_total_hits=False)  # as the gateway's leg: the page's total comes from the facets

    def knn_leg(v: list[float]) -> Any:
        return es.search(index=alias, knn=knn_clause("text_vector", v, window, s.num_candidates, flt, vis),
                         size=window, source=False)

    def knn_page(v: list[float]) -> Any:
        return es.search(index=alias, knn=knn_clause("text_vector", v, PAGE_SIZE, s.num_candidates, flt, vis),
                         size=PAGE_SIZE, source=False)

    def image_knn(v: list[float]) -> Any:  # as services/assets._knn_neighbours builds it
        knn = knn_clause("images.vector", v, PAGE_SIZE, s.num_candidates, flt, vis)
        return es.search(index=alias, knn=knn, size=PAGE_SIZE, source=record_source())

    def searcher_page(mode: Mode) -> Callable[[str], Any]:
        def run(q: str) -> Any:
            return searcher.search(Query(q=q, mode=mode, filters=flt, sort=Sort.RELEVANCE, size=PAGE_SIZE),
                                   visibility=vis)
        return run

    rows = [_raw("open point in time (a walk's second page opens one; first pages open none)", qs, open_pit, no_took)]
    for pit in pits:  # the bench's own points in time, closed at once
        es.options(ignore_status=404).close_point_in_time(id=pit)
    rows += [
        _raw(f"keyword: top {PAGE_SIZE}, highlights, total", qs, keyword_page, es_took),
        _raw("facets: 8 terms aggregations, size 0", qs, facets, es_took),
        _raw(f"hybrid keyword leg: top {window}, ids only", qs, keyword_leg, es_took),
        _raw(f"hybrid kNN leg: text_vector k={window}, num_candidates {max(s.num_candidates, window)}, ids only",
             text_vecs, knn_leg, es_took),
        _raw(f"kNN text_vector k={PAGE_SIZE}, num_candidates {s.num_candidates} (for scale)", text_vecs, knn_page,
             es_took),
        _raw(f"image kNN: images.vector k={PAGE_SIZE}, num_candidates {max(s.num_candidates, PAGE_SIZE)}, records",
             image_vecs, image_knn, es_took),
        _raw("Searcher.search in-process, keyword page", qs, searcher_page(Mode.KEYWORD), page_took,
             "PIT + search + facets"),
        _raw("Searcher.search in-process, hybrid page", qs, searcher_page(Mode.HYBRID), page_took,
             "PIT + kNN + keyword leg + facets + total + hydrate; encoding included"),
    ]
    return rows
