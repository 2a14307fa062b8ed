"""Search as the gateway runs it: keyword, semantic and hybrid, with facets, highlights and cursors.

- **keyword**: BM25 over the zh/en fields (indexing/query.py), sorted by relevance or date.
- **semantic**: kNN on the text vector of the query (cross-lingual: a Chinese query finds English
  records), the top `search.semantic_window` results.
- **hybrid** (default): the top `semantic_window` of both legs fused by reciprocal-rank fusion, then
  the rest of the keyword matches, so a client can still walk every keyword match.

Pages are cursors: the cursor holds the position, a hash of the query (so it cannot be replayed
against another query) and, from the second page on, a point in time (PIT) that keeps the view
stable while a client walks. A first page reads the live index and opens no PIT, even when it hands
out a `next` cursor: most searches never ask for a second page, and a PIT per first page left
thousands of search contexts open under load. The second page opens the PIT the rest of the walk
reads; it lives `search.cursor_keep_alive` after each page and the last page closes it. A walk whose
PIT expired (a reader who paused) goes on from its position over the live index with a new PIT,
rather than failing: the position (search_after values, the offset in the ranked window) stays valid,
though records indexed or removed meanwhile may shift the pages. The PIT is
indexing/walk.PointInTime's, as for dumps and OAI-PMH.

Each page is as few round trips as its searches allow, each an `_msearch` whose searches
Elasticsearch runs side by side: a keyword page and its facets together; a ranked page's legs, then
its facets and records together (they need the fused window). `took_ms` is the sum of those round
trips' own `took` as Elasticsearch reports it for the whole `_msearch` (from its arrival to its last
search's end: searches that wait for a free search thread count, as they should).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from elasticsearch import Elasticsearch, NotFoundError

from indexing.aliases import assets_alias
from indexing.encoders import Encoder, image_encoder, text_encoder
from indexing.encoders.base import TextToImageEncoder, info
from indexing.fusion import Fused, LegHit, fuse
from indexing.query import (
    HIGHLIGHT_FIELDS,
    MAX_ANALYZED_OFFSET,
    Filters,
    Mode,
    Sort,
    bridge_query,
    facet_aggs,
    facet_counts,
    keyword_query,
    knn_clause,
    page_hits,
    pages_of,
)
from indexing.query_sense import gate as query_gate
from indexing.source import record_source
from indexing.walk import PointInTime
from services.search_timing import observe_took, timed
from services.settings import Settings, get_settings

HIGHLIGHT = {"fields": {f: {} for f in HIGHLIGHT_FIELDS}, "number_of_fragments": 2, "fragment_size": 120,
             "max_analyzed_offset": MAX_ANALYZED_OFFSET}  # a record of any length highlights (indexing/query.py)
# What fusion reads of a leg's answer (and the errors): no `_index`, `_shards` or `max_score` to parse.
LEG_FIELDS = ["took", "responses.took", "responses.hits.total", "responses.hits.hits._id", "responses.hits.hits._score",
              "responses.hits.hits.matched_queries", "responses.error", "responses.status"]


class PitGone(Exception):
    """The walk's point in time expired or was closed."""


class CursorError(ValueError):
    """A cursor that is malformed, expired, or belongs to another query."""


@dataclass
class Query:
    q: str | None
    mode: Mode
    filters: Filters
    sort: Sort
    size: int
    viewer: str = ""  # the principal's fingerprint: a cursor serves only the caller it was made for

    def fingerprint(self) -> str:
        data = json.dumps([self.q, self.mode, self.filters.model_dump(mode="json"), self.sort, self.viewer],
                          sort_keys=True)
        return hashlib.sha256(data.encode()).hexdigest()[:16]


# A cursor is `<payload>.<mac>`: base64url JSON of the position, and an HMAC of it under the service's key, so
# only cursors this service issued reach Elasticsearch (a forged point-in-time id or search_after value would make
# it fail the search). The key derives from s3.secret_key, which production requires to be real, so every worker
# of a deployment shares it.
CURSOR_MAC_BYTES = 16
CURSOR_MAX_AFTER = 4  # sort values a keyword leg's search_after holds (two today: a number and an asset id)
CURSOR_MAX_OFFSET = 1_000_000
NOT_ISSUED = "the cursor is not one this service issued: pass `next` from a previous page unchanged"


@functools.cache
def _cursor_key() -> bytes:
    secret = get_settings().s3.secret_key.get_secret_value()
    return hashlib.sha256(b"wenyuan-search-cursor\x1f" + secret.encode()).digest()


def _cursor_mac(payload: str) -> str:
    digest = hmac.new(_cursor_key(), payload.encode(), hashlib.sha256).digest()[:CURSOR_MAC_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _is_sort_value(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= 256
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _int(value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{value!r} is not an integer in [{low}, {high}]")
    return value


@dataclass
class Cursor:
    pit: str | None
    fingerprint: str
    offset: int = 0  # position in the fused / semantic window
    after: list[Any] | None = None  # search_after of the keyword leg (keyword mode, or the hybrid tail)
    tail: bool = False  # hybrid: the fused window is walked, the keyword tail goes on
    total: int = 0  # the first page's total, handed on to the next pages

    def encode(self) -> str:
        raw = json.dumps({"v": 1, "pit": self.pit, "fp": self.fingerprint, "o": self.offset, "a": self.after,
                          "t": self.tail, "n": self.total}, separators=(",", ":"))
        payload = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
        return f"{payload}.{_cursor_mac(payload)}"

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """The position a cursor stands for; CursorError for anything this service did not issue unchanged."""
        payload, _, mac = token.partition(".")
        if not payload or not mac or not hmac.compare_digest(mac.encode(), _cursor_mac(payload).encode()):
            raise CursorError(NOT_ISSUED)
        try:
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            if not isinstance(data, dict):
                raise TypeError("not an object")
            if data.get("v") != 1:
                raise CursorError("this cursor was made by another version of the service; start the search again")
            pit, fingerprint, after = data["pit"], data["fp"], data["a"]
            if not isinstance(pit, str | None) or not isinstance(fingerprint, str):
                raise TypeError("pit, fp")
            if after is not None and not (isinstance(after, list) and len(after) <= CURSOR_MAX_AFTER
                                          and all(_is_sort_value(v) for v in after)):
                raise TypeError("after")
            if not isinstance(data["t"], bool):
                raise TypeError("t")
            return cls(pit=pit or None, fingerprint=fingerprint, offset=_int(data["o"], 0, CURSOR_MAX_OFFSET),
                       after=after, tail=data["t"], total=_int(data.get("n", 0), 0, 2**53))
        except CursorError:
            raise
        except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError,
                RecursionError) as exc:
            raise CursorError(NOT_ISSUED) from exc


@dataclass
class Page:
    hits: list[dict[str, Any]]
    total: int
    facets: dict[str, list[dict[str, Any]]] | None
    next: str | None
    took_ms: int  # Elasticsearch's own time, summed over the requests of this page


class Searcher:
    """Searches of one process; the encoders default to the configured ones (loaded once per process).

    When the image encoder also encodes text (CLIP), text queries get a third leg: kNN on the image
    vectors, so a description finds pictures whose records do not say it.
    """

    def __init__(self, es: Elasticsearch, settings: Settings, *, text: Encoder | None = None,
                 image: Encoder | None = None) -> None:
        self.es = es
        self.settings = settings
        self.index = assets_alias(settings.es)
        self._text = text
        self._image = image
        self._vectors: dict[str, dict[str, np.ndarray]] = {}  # by query text: encoded once per search

    @property
    def text(self) -> Encoder:
        return self._text or text_encoder(self.settings.models)

    @property
    def text_to_image(self) -> TextToImageEncoder | None:
        image = self._image if self._image is not None else image_encoder(self.settings.models)
        return image if isinstance(image, TextToImageEncoder) else None

    # -- cursors ---------------------------------------------------------------------------------

    def _open(self, query: Query, cursor: str | None) -> Cursor:
        """The walk's state: a first page reads the live index; a second page opens the point in time the rest
        of the walk reads."""
        if cursor is None:
            return Cursor(pit=None, fingerprint=query.fingerprint())
        state = Cursor.decode(cursor)
        if state.fingerprint != query.fingerprint():
            raise CursorError("this cursor belongs to another query or caller: send the same q, mode, filters and "
                              "sort with the same key, or start again without a cursor")
        if state.pit is None:
            state.pit = self._pit(state).open()
        return state

    def _pit(self, state: Cursor) -> PointInTime:
        """The cursor's point in time; none on a first page, which reads the alias."""
        return PointInTime(self.es, self.index, self.settings.search.cursor_keep_alive, state.pit)

    def _target(self, state: Cursor) -> dict[str, Any]:
        """Where a request searches: the cursor's point in time, or the alias on a first page."""
        return self._pit(state).target()

    def _next(self, state: Cursor, **position: Any) -> str:
        """The cursor of the next page: the walk's point in time (none after a first page) and the position."""
        return Cursor(state.pit, state.fingerprint, total=state.total, **position).encode()

    def _close(self, state: Cursor) -> None:
        """The walk is over: free the point in time now rather than when it expires."""
        self._pit(state).close()

    # -- legs ------------------------------------------------------------------------------------

    def _sort(self, query: Query) -> list[Any]:
        if query.sort is Sort.RELEVANCE:
            return [{"_score": "desc"}, {"asset_id": "asc"}]
        order = "asc" if query.sort is Sort.DATE_ASC else "desc"
        return [{"period_norm.start": {"order": order, "missing": "_last"}}, {"asset_id": "asc"}]

    def _keyword(self, query: Query, state: Cursor, size: int, visibility: dict[str, Any] | None, *,
                 highlight: bool = True, exclude: list[str] | None = None, after: list[Any] | None = None
                 ) -> dict[str, Any]:
        """The search body of a page of keyword matches (an _msearch line), after the sort values `after`."""
        body_query = keyword_query(query.q, query.filters, visibility)
        if exclude:
            body_query["bool"]["must_not"] = [{"ids": {"values": exclude}}]
        body: dict[str, Any] = {"query": body_query, "size": size, "sort": self._sort(query),
                                "_source": record_source(), "track_total_hits": True, **self._target(state)}
        if highlight and query.q:
            body["highlight"] = HIGHLIGHT
            body_query["bool"].setdefault("should", []).append(page_hits(query.q))
        if after is not None:
            body["search_after"] = after
        return body

    def _query_vectors(self, query: Query) -> dict[str, np.ndarray]:
        """The query's vectors for the kNN legs: the text encoder's (title and text legs) and CLIP's (image leg).

        float32, as Elasticsearch reads them: orjson writes each in its shortest float32 form (~10 characters), half
        the bytes of the same values widened to Python floats, on a request that carries two or three of them."""
        if (known := self._vectors.get(query.q or "")) is not None:
            return known
        vectors = {"text": np.asarray(timed("text", self.text.encode, [query.q or ""])[0], dtype=np.float32)}
        if (clip := self.text_to_image) is not None:
            vectors["image"] = np.asarray(timed("clip_text", clip.encode_text, [query.q or ""])[0], dtype=np.float32)
        self._vectors[query.q or ""] = vectors
        return vectors

    def _leg_bodies(self, query: Query, state: Cursor, visibility: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
        """One search body per leg of a semantic or hybrid window: ids and scores only."""
        window, candidates = self.settings.search.semantic_window, self.settings.search.num_candidates
        vectors = self._query_vectors(query)
        common = {"size": window, "_source": False, **self._target(state)}
        bodies = {leg: common | {"knn": knn_clause(f, vectors[v], window, candidates, query.filters, visibility)}
                  for leg, f, v in (("title", "title_vector", "text"), ("text", "text_vector", "text"),
                                    ("image", "images.vector", "image")) if v in vectors}
        if query.mode is Mode.HYBRID and query.q:
            # No total: the page's total is the facets' count; without one Elasticsearch may skip what cannot
            # reach the top of the window.
            bodies["keyword"] = common | {"query": keyword_query(query.q, query.filters, visibility),
                                          "track_total_hits": False}
            if bridged := bridge_query(query.q, query.filters, visibility):
                bodies["bridge"] = common | {"query": bridged}
        return bodies

    def _msearch(self, state: Cursor, bodies: dict[str, dict[str, Any]], filter_path: list[str] | None = None
                 ) -> tuple[dict[str, dict[str, Any]], int]:
        """Several searches in one round trip (Elasticsearch runs them concurrently): each response by name, and
        Elasticsearch's own time for the whole request. The lines are encoded here with orjson (a kNN line carries
        a vector of hundreds of floats)."""
        lines: list[bytes] = []
        for body in bodies.values():
            body = dict(body)
            header = {"index": body.pop("index")} if "index" in body else {}
            lines += [orjson.dumps(header), orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)]
        # The client's NDJSON serializer sends lines that are bytes as they are.
        try:
            result = self.es.msearch(searches=lines, filter_path=filter_path)  # type: ignore[arg-type]
        except NotFoundError as exc:
            if state.pit is None or exc.error == "index_not_found_exception":
                raise  # no cursor involved: the index itself is missing
            raise PitGone(state.pit) from exc
        responses = result["responses"]
        out = {}
        for leg, resp in zip(bodies, responses, strict=True):
            if "error" in resp:
                if resp.get("status") == 404:
                    if state.pit is None or resp["error"].get("type") == "index_not_found_exception":
                        # no cursor involved: the index itself is missing
                        raise NotFoundError(str(resp["error"].get("type")), result.meta, resp)
                    raise PitGone(state.pit)
                raise RuntimeError(f"search leg {leg} failed: {resp['error']}")
            observe_took(leg, resp)
            out[leg] = resp
        return out, int(result["took"])

    def _hydrate(self, query: Query, state: Cursor, ids: list[str], visibility: dict[str, Any] | None
                 ) -> dict[str, Any]:
        """The search body of the records of one page, with keyword highlights, by id."""
        should = [*keyword_query(query.q, Filters(), None)["bool"]["must"], page_hits(query.q)] if query.q else []
        body = {"bool": {"filter": [{"ids": {"values": ids}}, *([visibility] if visibility else [])],
                         "should": should}}
        return {"query": body, "size": len(ids), "_source": record_source(), **self._target(state),
                **({"highlight": HIGHLIGHT} if query.q else {})}

    def _facets(self, query: Query, state: Cursor, visibility: dict[str, Any] | None,
                window: list[str] | None = None) -> dict[str, Any]:
        """The search body of the facet counts over what the search found: the keyword matches, the ranked
        window, or both (hybrid)."""
        body = keyword_query(query.q, query.filters, visibility)
        if window is not None:
            matched = [{"ids": {"values": window}}]
            if query.mode is Mode.HYBRID and query.q:
                matched.append({"bool": {"must": body["bool"]["must"]}})
            body = {"bool": {"filter": body["bool"]["filter"], "should": matched, "minimum_should_match": 1}}
        return {"query": body, "size": 0, "aggs": facet_aggs(), "track_total_hits": True, **self._target(state)}

    # -- pages -----------------------------------------------------------------------------------

    def search(self, query: Query, cursor: str | None = None, *, visibility: dict[str, Any] | None) -> Page:
        """One page. `visibility` is the caller's filter (services/access/policy.py); None only for the
        pipeline's and the benchmarks' own unrestricted reads."""
        state = self._open(query, cursor)
        try:
            page = self._page(query, state, visibility, first=cursor is None)
        except PitGone:  # expired or closed: the walk goes on from its position over a new point in time
            state.pit = None
            state.pit = self._pit(state).open()
            page = self._page(query, state, visibility, first=False)
        if page.next is None:
            self._close(state)
        return page

    def _page(self, query: Query, state: Cursor, visibility: dict[str, Any] | None, *, first: bool) -> Page:
        if query.mode is Mode.KEYWORD or not query.q:
            return self._keyword_page(query, state, visibility, first=first)
        return self._ranked_page(query, state, visibility, first=first)

    def _keyword_page(self, query: Query, state: Cursor, visibility: dict[str, Any] | None, *,
                      first: bool) -> Page:
        bodies = {"page": self._keyword(query, state, query.size, visibility, after=state.after)}
        if first:  # the facets in the same round trip
            bodies["facets"] = self._facets(query, state, visibility)
        responses, took = self._msearch(state, bodies)
        resp = responses["page"]
        hits = [self._hit(h, {"keyword": rank}) for rank, h in enumerate(resp["hits"]["hits"], start=1)]
        facets = facet_counts(responses["facets"]["aggregations"]) if first else None
        nxt = None
        if len(resp["hits"]["hits"]) == query.size:
            nxt = self._next(state, after=resp["hits"]["hits"][-1]["sort"])
        return Page(hits, resp["hits"]["total"]["value"], facets, nxt, took)

    def _window(self, query: Query, state: Cursor, visibility: dict[str, Any] | None
                ) -> tuple[list[str], dict[str, Fused], int]:
        """The ranked ids of the semantic or hybrid window that reach the relevance floor, each with its fused
        score and ranks, and Elasticsearch's time."""
        responses, took = self._msearch(state, self._leg_bodies(query, state, visibility), LEG_FIELDS)
        legs = {leg: [LegHit(h["_id"], float(h["_score"]), tuple(h.get("matched_queries", ())))
                      for h in resp.get("hits", {}).get("hits", [])] for leg, resp in responses.items()}
        fusion = self.settings.search.fusion
        # The gate: nothing for a non-word that matched no term, else everything down to the floor (query_sense).
        gate = query_gate(legs, self._query_vectors(query)["text"], info(self.text), fusion)
        fused = fuse(legs, fusion.weights(), fusion.floor, gate)
        return [f.asset_id for f in fused], {f.asset_id: f for f in fused}, took

    def _ranked_page(self, query: Query, state: Cursor, visibility: dict[str, Any] | None, *,
                     first: bool) -> Page:
        ids, by_id, took = self._window(query, state, visibility)
        facets, total = None, state.total
        page_ids = [] if state.tail else ids[state.offset: state.offset + query.size]
        bodies = {}  # the facets and the page's records in one round trip
        if first:
            bodies["facets"] = self._facets(query, state, visibility, window=ids)
        if page_ids:
            bodies["records"] = self._hydrate(query, state, page_ids, visibility)
        responses, records_took = self._msearch(state, bodies) if bodies else ({}, 0)
        took += records_took
        if first:
            agg = responses["facets"]
            facets = facet_counts(agg["aggregations"])
            total = state.total = int(agg["hits"]["total"]["value"])
        hits: list[dict[str, Any]] = []
        if not state.tail:
            records: dict[str, dict[str, Any]] = {}
            if page_ids:
                records = {h["_id"]: h for h in responses["records"]["hits"]["hits"]}
            hits = [self._hit(records[i], dict(by_id[i].ranks), by_id[i].score) for i in page_ids if i in records]
            offset = state.offset + len(page_ids)
            if offset < len(ids):
                return Page(hits, total, facets, self._next(state, offset=offset), took)
            if query.mode is Mode.SEMANTIC:
                return Page(hits, total, facets, None, took)
        # Hybrid, window walked: the rest of the keyword matches follow, in keyword order.
        need = query.size - len(hits)
        if need == 0:
            return Page(hits, total, facets, self._next(state, tail=True), took)
        tails, tail_took = self._msearch(state, {"tail": self._keyword(query, state, need, visibility, exclude=ids,
                                                                       after=state.after)})
        tail, took = tails["tail"], took + tail_took
        tail_hits = tail["hits"]["hits"]
        hits += [self._hit(h, {"keyword": None}) for h in tail_hits]
        nxt = None
        if len(tail_hits) == need:
            nxt = self._next(state, after=tail_hits[-1]["sort"], tail=True)
        return Page(hits, total, facets, nxt, took)

    @staticmethod
    def _hit(hit: dict[str, Any], ranks: dict[str, int | None] | None, score: float | None = None) -> dict[str, Any]:
        return {"asset_id": hit["_id"], "score": score if score is not None else hit.get("_score"),
                "ranks": ranks or {}, "highlight": hit.get("highlight", {}), "pages": pages_of(hit),
                "record": hit.get("_source", {})}
