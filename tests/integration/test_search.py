"""Search on the real Elasticsearch: keyword, cross-lingual semantic, hybrid, filters, facets and cursors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from elasticsearch import Elasticsearch, NotFoundError
from PIL import Image

from indexing.aliases import assets_alias, ensure_assets_index
from indexing.bulk import index_documents
from indexing.encoders import Modality, build_encoder
from indexing.encoders.base import info
from indexing.enrich import Enricher
from indexing.query import Filters, Mode, Sort
from schemas.asset import AssetRecord
from services.search import Cursor, CursorError, Page, Query, Searcher
from services.settings import Settings
from tests.factories import build_tiny_clip, image_record, make_asset, make_image
from tests.helpers import assert_problem

RECORDS = [  # (object id, title_zh, title_en, category (survey name), period, licence)
    ("S-1", "青花缠枝莲纹梅瓶", None, "瓷器", "明永乐", "CC0"),
    ("S-2", None, "Blue-and-white porcelain jar with dragons", "瓷器", "Ming dynasty", "CC-BY-4.0"),
    ("S-3", "兽面纹青铜鼎", None, "铜器", "商", "InC"),
    ("S-4", None, "Bronze ritual wine vessel (jue)", "铜器", "Shang dynasty", "CC0"),
    ("S-5", "白玉螭龙纹杯", None, "玉石器、宝石", "清乾隆", "CC0"),
    ("S-6", None, "Jade disc (bi) with grain pattern", "玉石器、宝石", "Warring States", "InC-EDU"),
    ("S-7", "行书七言诗轴", None, "书法", "清", "CC0"),
    ("S-8", None, "Landscape handscroll in ink on paper", "书法、绘画", "Song dynasty", "CC-BY-NC-4.0"),
]


@pytest.fixture(scope="module")
def scoped(settings: Settings, es: Elasticsearch, enricher: Enricher) -> Iterator[Settings]:
    """A small bilingual index of its own, enriched with the real text encoder."""
    import uuid

    es_settings = settings.es.model_copy(update={"index_prefix": f"test-search-{uuid.uuid4().hex[:8]}"})
    search = settings.search.model_copy(update={"semantic_window": 5})
    scoped = settings.model_copy(update={"es": es_settings, "search": search})
    alias = ensure_assets_index(es, scoped, enricher.encoders)
    assets = [AssetRecord.model_validate(make_asset(object_id=o, title_zh=zh, title_en=en, category=c, period=p,
                                                    licence=lic, institution="search-museum",
                                                    region="CN-BJ" if zh else "GB-LND"))
              for o, zh, en, c, p, lic in RECORDS]
    enriched = Enricher(scoped, None, None, text=enricher.text, image=enricher.image, use_ocr=False).enrich(assets)
    index_documents(es, alias, [(a.asset_id, a.model_dump(mode="json")) for a in enriched])
    es.indices.refresh(index=alias)
    yield scoped
    es.indices.delete(index=f"{alias}-v*", allow_no_indices=True)


def _ids(page: Page) -> list[str]:
    return [h["record"]["object_id"] for h in page.hits]


def _search(es: Elasticsearch, settings: Settings, q: str | None, mode: Mode = Mode.HYBRID, size: int = 10,
            **filters: object) -> Page:
    return Searcher(es, settings).search(Query(q, mode, Filters.model_validate(filters), Sort.RELEVANCE, size),
                                         visibility=None)


def test_keyword_search_matches_words_in_either_language_and_highlights_them(
    es: Elasticsearch, scoped: Settings
) -> None:
    zh = _search(es, scoped, "青铜鼎", Mode.KEYWORD)
    en = _search(es, scoped, "porcelain", Mode.KEYWORD)

    assert _ids(zh)[0] == "S-3"
    assert "<em>" in "".join(zh.hits[0]["highlight"]["title_zh"])
    assert _ids(en) == ["S-2"]
    assert "text_vector" not in en.hits[0]["record"]


def test_a_chinese_query_finds_the_english_only_record_semantically_and_keyword_search_does_not(
    es: Elasticsearch, scoped: Settings
) -> None:
    keyword = _search(es, scoped, "玉璧", Mode.KEYWORD)
    hybrid = _search(es, scoped, "玉璧", Mode.HYBRID, size=3)
    reverse = _search(es, scoped, "bronze ritual cauldron", Mode.SEMANTIC, size=3)

    assert "S-6" not in _ids(keyword)  # "Jade disc (bi)" shares no word with 玉璧
    assert _ids(hybrid)[0] == "S-6" and "bridge" in hybrid.hits[0]["ranks"]  # 玉璧 → jade disc, bi
    assert "S-3" in _ids(reverse)[:2]  # 兽面纹青铜鼎, Chinese only


def test_hybrid_fuses_both_legs_and_records_the_rank_in_each(es: Elasticsearch, scoped: Settings) -> None:
    page = _search(es, scoped, "青花瓷 blue-and-white porcelain")

    assert set(_ids(page)[:2]) == {"S-1", "S-2"}
    assert all(h["ranks"].keys() <= {"keyword", "bridge", "title", "text"} and h["ranks"] for h in page.hits[:2])
    assert page.hits[0]["score"] > page.hits[-1]["score"]


def test_filters_and_facets_count_the_same_filtered_set(es: Elasticsearch, scoped: Settings) -> None:
    page = _search(es, scoped, None, Mode.KEYWORD, reusable=True)
    bronze = _search(es, scoped, None, Mode.KEYWORD, category=["bronze"], year_from=-1300, year_to=-1100)

    assert sorted(_ids(page)) == ["S-1", "S-2", "S-4", "S-5", "S-7"]
    assert page.total == 5
    facets = {f: {b["value"]: b["count"] for b in buckets} for f, buckets in (page.facets or {}).items()}
    assert facets["licence"] == {"CC0": 4, "CC-BY-4.0": 1}
    assert facets["category"]["porcelain"] == 2
    assert sorted(_ids(bronze)) == ["S-3", "S-4"]  # 商 and "Shang dynasty" both overlap −1300…−1100
    assert facets["region"] == {"CN-BJ": 3, "GB-LND": 2}
    assert sorted(_ids(_search(es, scoped, None, Mode.KEYWORD, region=["GB-LND"], reusable=True))) == ["S-2", "S-4"]


def test_semantic_facets_count_what_the_search_found(es: Elasticsearch, scoped: Settings) -> None:
    page = _search(es, scoped, "玉璧", Mode.SEMANTIC, size=3)

    walked = Searcher(es, scoped).search(Query("玉璧", Mode.SEMANTIC, Filters(), Sort.RELEVANCE, 100), visibility=None)

    counts = {b["value"]: b["count"] for b in (page.facets or {})["institution"]}
    # What passed the floor within the window (5), not all 8 records: exactly what a walk returns.
    assert counts == {"search-museum": page.total} and page.total == len(walked.hits) <= 5


def test_a_hybrid_walk_returns_the_fused_window_then_every_other_keyword_match_once(
    es: Elasticsearch, scoped: Settings
) -> None:
    searcher = Searcher(es, scoped)
    query = Query("vessel 瓷 jar 玉 ink", Mode.HYBRID, Filters(), Sort.RELEVANCE, 2)
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        page = searcher.search(query, cursor, visibility=None)
        seen += _ids(page)
        cursor = page.next
        if cursor is None:
            break
    keyword = _search(es, scoped, query.q, Mode.KEYWORD, size=100)

    assert len(seen) == len(set(seen))
    assert set(_ids(keyword)) <= set(seen)
    assert len(seen) >= 5  # the semantic window (5) is walked too


def test_with_a_clip_image_encoder_text_queries_also_search_the_image_vectors(
    es: Elasticsearch, settings: Settings, enricher: Enricher, tmp_path: Path, unique: str
) -> None:
    clip = build_encoder(f"st:{build_tiny_clip(tmp_path / 'clip')}", Modality.IMAGE, settings.models)
    # The floor is calibrated for the packaged text encoder; a tiny random CLIP has no meaningful scale.
    fusion = settings.search.fusion.model_copy(update={"floor": -10.0, "gate": -10.0})
    scoped = settings.model_copy(update={"es": settings.es.model_copy(update={"index_prefix": f"test-{unique}"}),
                                         "search": settings.search.model_copy(update={"fusion": fusion})})
    alias = ensure_assets_index(es, scoped, {"text": info(enricher.text), "image": info(clip)})
    paths = [make_image(tmp_path / f"p{i}.jpg", seed=200 + i) for i in range(6)]
    vectors = clip.encode([Image.open(p) for p in paths])
    docs = [make_asset(object_id=f"C-{i}", title_zh=None, title_en="Untitled", has_image=True,
                       images=[image_record(p, [float(x) for x in v])]) for i, (p, v) in enumerate(zip(
                           paths, vectors, strict=True))]
    query = "a round red vase"
    nearest = int(np.argmax(vectors @ clip.encode_text([query])[0]))  # exact, in numpy
    try:
        index_documents(es, alias, [(str(d["asset_id"]), d) for d in docs])
        es.indices.refresh(index=alias)
        page = Searcher(es, scoped, text=enricher.text, image=clip).search(
            Query(query, Mode.SEMANTIC, Filters(), Sort.RELEVANCE, 10), visibility=None)
    finally:
        es.indices.delete(index=f"{alias}-v*", allow_no_indices=True)

    # These records have no text vectors: everything found came through the image leg, queried with the
    # CLIP text vector, and its first result is the exact nearest image.
    assert page.hits[0]["record"]["object_id"] == f"C-{nearest}"
    assert page.hits[0]["ranks"] == {"image": 1}
    assert len(page.hits) == 6


def test_cursors_that_are_malformed_or_from_another_query_are_refused(es: Elasticsearch, scoped: Settings) -> None:
    searcher = Searcher(es, scoped)
    first = searcher.search(Query(None, Mode.KEYWORD, Filters(institution=["search-museum"]), Sort.RELEVANCE, 2),
                            visibility=None)
    assert first.next

    with pytest.raises(CursorError, match="not one this service issued"):
        searcher.search(Query(None, Mode.KEYWORD, Filters(institution=["search-museum"]), Sort.RELEVANCE, 2),
                        "not-a-cursor", visibility=None)
    with pytest.raises(CursorError, match="another query"):
        searcher.search(Query(None, Mode.KEYWORD, Filters(reusable=True), Sort.RELEVANCE, 2), first.next,
                        visibility=None)


def _walk_pits(searcher: Searcher, query: Query, cursor: str | None = None) -> tuple[list[str], list[str | None]]:
    """Every hit of a walk (from `cursor`, or the first page), and the point in time each page's cursor carries."""
    seen: list[str] = []
    pits: list[str | None] = []
    for _ in range(50):
        page = searcher.search(query, cursor, visibility=None)
        seen += _ids(page)
        if (cursor := page.next) is None:
            break
        pits.append(Cursor.decode(cursor).pit)
    return seen, pits


@pytest.mark.parametrize("mode", [Mode.KEYWORD, Mode.HYBRID])
def test_a_first_page_opens_no_point_in_time_and_a_second_page_opens_the_walks(
    es: Elasticsearch, scoped: Settings, mode: Mode
) -> None:
    searcher = Searcher(es, scoped)
    query = Query("vessel 瓷 jar 玉 ink" if mode is Mode.HYBRID else None, mode,
                  Filters(institution=["search-museum"]), Sort.RELEVANCE, 2)
    seen, pits = _walk_pits(searcher, query)

    assert len(pits) >= 2 and pits[0] is None  # the first page handed out a cursor, with no PIT behind it
    assert pits[1] is not None and len(set(pits[1:])) == 1  # one PIT from the second page to the end
    assert len(seen) == len(set(seen))
    with pytest.raises(NotFoundError):  # the last page closed it
        es.close_point_in_time(id=pits[1])


@pytest.mark.parametrize("mode", [Mode.KEYWORD, Mode.HYBRID])
def test_a_walk_whose_point_in_time_expired_goes_on_from_its_position(
    es: Elasticsearch, scoped: Settings, mode: Mode
) -> None:
    searcher = Searcher(es, scoped)
    query = Query("vessel 瓷 jar 玉 ink" if mode is Mode.HYBRID else None, mode,
                  Filters(institution=["search-museum"]), Sort.RELEVANCE, 2)
    whole, _ = _walk_pits(searcher, query)
    first = searcher.search(query, visibility=None)
    second = searcher.search(query, first.next, visibility=None)
    assert second.next is not None
    es.close_point_in_time(id=Cursor.decode(second.next).pit)  # as if the reader paused past the keep-alive
    rest, _ = _walk_pits(searcher, query, second.next)

    assert _ids(first) + _ids(second) + rest == whole  # nothing lost, nothing twice, the same order


@pytest.mark.slow
def test_a_client_walks_more_than_ten_thousand_results_with_the_cursor(
    es: Elasticsearch, settings: Settings, enricher: Enricher, unique: str
) -> None:
    es_settings = settings.es.model_copy(update={"index_prefix": f"test-{unique}"})
    scoped = settings.model_copy(update={"es": es_settings})
    alias = ensure_assets_index(es, scoped, enricher.encoders)
    docs = (make_asset(object_id=f"W-{i:05d}", title_en=f"Vase {i}", institution="walk-museum")
            for i in range(10_050))
    try:
        result = index_documents(es, alias, ((str(d["asset_id"]), d) for d in docs))
        es.indices.refresh(index=alias)
        searcher = Searcher(es, scoped)
        query = Query("vase", Mode.KEYWORD, Filters(institution=["walk-museum"]), Sort.RELEVANCE, 100)
        seen: set[str] = set()
        pages, cursor = 0, None
        while True:
            page = searcher.search(query, cursor, visibility=None)
            seen.update(h["asset_id"] for h in page.hits)
            pages += 1
            if (cursor := page.next) is None:
                break
    finally:
        es.indices.delete(index=f"{assets_alias(es_settings)}-v*", allow_no_indices=True)

    assert result.indexed == 10_050
    assert len(seen) == 10_050 and pages == 101


def test_the_gateway_refuses_an_empty_search_a_bad_cursor_and_oversized_pages(settings: Settings) -> None:
    url = f"{settings.gateway.public_url}/v1/search"
    problems = "https://wenyuan.dev/problems/"

    empty = assert_problem(httpx.get(url), 422, problems + "invalid-request")
    bad_cursor = assert_problem(httpx.get(url, params={"q": "vase", "cursor": "xyz"}), 400, problems + "bad-request")
    assert_problem(httpx.get(url, params={"q": "vase", "size": 101}), 422, problems + "invalid-request")

    assert "q" in empty["detail"] and "filter" in empty["detail"]
    assert "cursor" in bad_cursor["detail"]


def test_the_gateway_serves_a_search_page_with_facets(settings: Settings, es: Elasticsearch,
                                                     enricher: Enricher) -> None:
    ensure_assets_index(es, settings, enricher.encoders)  # the service's own index, as the first batch makes it
    resp = httpx.get(f"{settings.gateway.public_url}/v1/search", params={"q": "vase", "mode": "keyword",
                                                                          "size": 3}, timeout=30)

    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"total", "hits", "facets", "next", "took_ms"}
    assert set(body["facets"]) >= {"category", "material", "institution", "licence", "reusable", "period"}
