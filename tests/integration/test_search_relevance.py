"""Relevance on the real Elasticsearch: analysis in the pipeline, the vocabulary bridge, exact titles, the floor.

A small index of its own (unique prefix, removed afterwards), enriched by the production Enricher with the
configured text encoder; searches through `Searcher` and, for the refusals, through the running gateway.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from elasticsearch import Elasticsearch

from indexing.aliases import ensure_assets_index
from indexing.bulk import index_documents
from indexing.enrich import Enricher
from indexing.query import Filters, Mode, Sort
from schemas.asset import AssetRecord
from services.search import Page, Query, Searcher
from services.settings import Settings
from tests.factories import make_asset
from tests.helpers import assert_problem

RECORDS = [  # (object id, title_zh, title_en, category, period)
    ("R-1", None, "Boats at Sunset on the Thames", None, None),
    ("R-2", None, "A Camel", None, None),
    ("R-3", "鎏金铜带扣", None, "铜器", "北魏"),
    ("R-4", "汉玉环", None, "玉石器、宝石", "汉"),
    ("R-5", "周玉环", None, "玉石器、宝石", "西周"),
    ("R-6", "青铜饕餮纹方鼎", None, "铜器", "商"),
    ("R-7", "青花缠枝莲纹梅瓶", None, "瓷器", "明永乐"),
    ("R-8", "銅鏡", None, "铜器", "唐"),  # written in traditional script
    ("R-9", "骆驼俑", None, "陶器", "唐"),
    ("R-10", None, "Windmill near Norwich", None, None),
]


@pytest.fixture(scope="module")
def scoped(settings: Settings, es: Elasticsearch, enricher: Enricher) -> Iterator[Settings]:
    es_settings = settings.es.model_copy(update={"index_prefix": f"test-relevance-{uuid.uuid4().hex[:8]}"})
    scoped = settings.model_copy(update={"es": es_settings})
    alias = ensure_assets_index(es, scoped, enricher.encoders)
    assets = [AssetRecord.model_validate(make_asset(object_id=o, title_zh=zh, title_en=en, category=c, period=p,
                                                    institution="relevance-museum"))
              for o, zh, en, c, p in RECORDS]
    enriched = Enricher(scoped, None, None, text=enricher.text, image=enricher.image, use_ocr=False).enrich(assets)
    index_documents(es, alias, [(a.asset_id, a.model_dump(mode="json")) for a in enriched])
    es.indices.refresh(index=alias)
    yield scoped
    es.indices.delete(index=f"{alias}-v*", allow_no_indices=True)


def _search(es: Elasticsearch, settings: Settings, q: str, mode: Mode = Mode.HYBRID) -> Page:
    return Searcher(es, settings).search(Query(q, mode, Filters(), Sort.RELEVANCE, 10), visibility=None)


def _ids(page: Page) -> list[str]:
    return [h["record"]["object_id"] for h in page.hits]


def test_keyword_search_stems_english_so_boat_finds_boats(es: Elasticsearch, scoped: Settings) -> None:
    assert _ids(_search(es, scoped, "boat", Mode.KEYWORD)) == ["R-1"]


def test_keyword_search_folds_scripts_so_simplified_finds_traditional(es: Elasticsearch, scoped: Settings) -> None:
    assert _ids(_search(es, scoped, "铜镜", Mode.KEYWORD))[:1] == ["R-8"]


def test_an_exact_title_ranks_its_record_first(es: Elasticsearch, scoped: Settings) -> None:
    assert _ids(_search(es, scoped, "汉玉环", Mode.KEYWORD))[0] == "R-4"
    assert _ids(_search(es, scoped, "周玉环", Mode.KEYWORD))[0] == "R-5"


def test_segmented_chinese_keeps_bronze_apart_from_blue_and_white(es: Elasticsearch, scoped: Settings) -> None:
    ids = _ids(_search(es, scoped, "青铜", Mode.KEYWORD))

    assert "R-6" in ids and "R-7" not in ids


def test_the_bridge_finds_single_words_across_languages(es: Elasticsearch, scoped: Settings) -> None:
    camel = _search(es, scoped, "骆驼")
    buckle = _search(es, scoped, "belt buckle")

    assert _ids(camel)[0] in {"R-2", "R-9"} and "R-2" in _ids(camel)[:2]
    assert "bridge" in camel.hits[_ids(camel).index("R-2")]["ranks"]
    assert _ids(buckle)[0] == "R-3"


def test_non_words_that_match_no_term_answer_nothing_and_total_counts_what_is_returned(
        es: Elasticsearch, scoped: Settings) -> None:
    # The gate is indexing/query_sense.py's (its thresholds chosen on the dev sets, tests/bench/fusion_tuning.py
    # --nonword: 15 of the 20 nonsense queries answer nothing there); real words are ranked down to the floor.
    non_words = ["xqzv blorf", "qwertyuiop", "zzzzzz", "12345 67890", "plmokn ijbuhv"]
    pages = [_search(es, scoped, q) for q in non_words]
    semantic = [_search(es, scoped, q, Mode.SEMANTIC) for q in non_words]
    camel = _search(es, scoped, "骆驼")
    windmill = _search(es, scoped, "风车", Mode.SEMANTIC)

    assert all(p.total == 0 and p.hits == [] for p in pages + semantic)
    assert {"R-2", "R-9"} <= set(_ids(camel)) and camel.total == len(camel.hits)
    assert windmill.total == len(windmill.hits) > 0
    assert all(h["score"] >= scoped.search.fusion.floor for h in camel.hits)


def test_the_floor_cuts_results_below_it(es: Elasticsearch, scoped: Settings) -> None:
    # A title-only index of ten records is all short texts, which a sentence encoder puts near everything;
    # a high floor shows the cut.
    fusion = scoped.search.fusion.model_copy(update={"floor": 1.2})
    strict = scoped.model_copy(update={"search": scoped.search.model_copy(update={"fusion": fusion})})

    everything = _search(es, scoped, "camel", Mode.SEMANTIC)
    cut = _search(es, strict, "camel", Mode.SEMANTIC)

    assert 0 < cut.total == len(cut.hits) < everything.total
    assert all(h["score"] >= 1.2 for h in cut.hits)


def test_the_gateway_refuses_queries_it_cannot_search_with_the_field(settings: Settings) -> None:
    url = f"{settings.gateway.public_url}/v1/search"
    problems = "https://wenyuan.dev/problems/"

    stopwords = assert_problem(httpx.get(url, params={"q": "the of and"}), 422, problems + "invalid-request")
    punctuation = assert_problem(httpx.get(url, params={"q": "？！……"}), 422, problems + "invalid-request")
    long = assert_problem(httpx.get(url, params={"q": "鼎" * 3000}), 422, problems + "invalid-request")
    years = assert_problem(httpx.get(url, params={"q": "vase", "year_from": 1800, "year_to": 1700}), 422,
                           problems + "invalid-request")

    assert stopwords["field"] == "q" and punctuation["field"] == "q" and long["field"] == "q"
    assert years["field"] == "year_to"
