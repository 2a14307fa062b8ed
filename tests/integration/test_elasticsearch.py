"""The real Elasticsearch server of the stack: client compatibility, vectors, analyzers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from elasticsearch import ApiError, BadRequestError, Elasticsearch

from indexing.analysis import ANALYSIS_SETTINGS, EN_ANALYZER, ZH_ANALYZER
from stacklib.install import versions

ZH = "清乾隆青花缠枝莲纹瓶"
EN = "A Blue-and-White Vase of the Qianlong Reign"


@pytest.fixture
def index(es: Elasticsearch, unique: str) -> Iterator[str]:
    name = f"test-{unique}"
    es.indices.create(
        index=name,
        settings={"number_of_shards": 1, "number_of_replicas": 0, "analysis": ANALYSIS_SETTINGS},
        mappings={
            "properties": {
                "title_zh": {"type": "text", "analyzer": ZH_ANALYZER},
                "title_en": {"type": "text", "analyzer": EN_ANALYZER},
                "vector": {"type": "dense_vector", "dims": 4, "similarity": "cosine", "index": True,
                           "index_options": {"type": "hnsw", "m": 16, "ef_construction": 100}},
            }
        },
    )
    yield name
    es.indices.delete(index=name)


def test_official_client_passes_the_product_check_and_sees_the_pinned_version(es: Elasticsearch) -> None:
    resp = es.nodes.info(node_id="_local", metric="settings")

    assert resp.meta.headers["x-elastic-product"] == "Elasticsearch"
    node = next(iter(resp["nodes"].values()))
    assert node["version"] == versions()["ELASTICSEARCH_VERSION"]
    assert es.cluster.health()["status"] in {"green", "yellow"}


def test_root_info_endpoint_is_absent_from_the_integ_test_distribution(es: Elasticsearch) -> None:
    # Why /readyz and the stack use _cluster/health instead of es.info(): GET / is not served.
    with pytest.raises(ApiError) as excinfo:
        es.info()

    assert excinfo.value.meta.status == 405


def test_dense_vector_documents_come_back_by_keyword_and_by_knn(es: Elasticsearch, index: str) -> None:
    docs = {
        "vase": ("青花瓷瓶", "blue and white porcelain vase", [1.0, 0.0, 0.0, 0.0]),
        "bronze": ("青铜鼎", "bronze ritual cauldron", [0.0, 1.0, 0.0, 0.0]),
        "scroll": ("山水画卷", "landscape hand scroll", [0.0, 0.0, 1.0, 0.1]),
    }
    for doc_id, (zh, en, vector) in docs.items():
        es.index(index=index, id=doc_id, document={"title_zh": zh, "title_en": en, "vector": vector})
    es.indices.refresh(index=index)

    by_en = es.search(index=index, query={"match": {"title_en": "porcelain"}})
    by_zh = es.search(index=index, query={"match": {"title_zh": "青铜"}})
    # Elasticsearch 9 leaves dense vectors out of _source unless asked (index.mapping.exclude_source_vectors).
    by_knn = es.search(index=index, knn={"field": "vector", "query_vector": [0.1, 0.0, 0.9, 0.0],
                                         "k": 1, "num_candidates": 10}, source={"exclude_vectors": False})

    assert [h["_id"] for h in by_en["hits"]["hits"]] == ["vase"]
    assert by_zh["hits"]["hits"][0]["_id"] == "bronze"
    assert [h["_id"] for h in by_knn["hits"]["hits"]] == ["scroll"]
    assert by_knn["hits"]["hits"][0]["_source"]["vector"] == pytest.approx([0.0, 0.0, 1.0, 0.1], abs=1e-6)


# What the server really does with a Chinese and an English sentence, per analyzer the mapping
# uses (wenyuan_zh, wenyuan_en) and the built-ins they stand on. Recorded on Elasticsearch 9.5.4.
EXPECTED_TOKENS = {
    ("standard", ZH): list(ZH),
    ("standard", EN): ["a", "blue", "and", "white", "vase", "of", "the", "qianlong", "reign"],
    ("simple", ZH): [ZH],
    ("whitespace", EN): ["A", "Blue-and-White", "Vase", "of", "the", "Qianlong", "Reign"],
    ("keyword", EN): [EN],
    (ZH_ANALYZER, ZH): ["清", "清乾", "乾", "乾隆", "隆", "隆青", "青", "青花", "花", "花缠", "缠", "缠枝", "枝",
                        "枝莲", "莲", "莲纹", "纹", "纹瓶", "瓶"],
    (ZH_ANALYZER, "青花瓷"): ["青", "青花", "花", "花瓷", "瓷"],
    (EN_ANALYZER, EN): ["blue", "white", "vase", "qianlong", "reign"],
    (EN_ANALYZER, ZH): list(ZH),
}


@pytest.mark.parametrize(("analyzer", "text"), list(EXPECTED_TOKENS))
def test_analyzer_tokens_are_as_recorded(es: Elasticsearch, index: str, analyzer: str, text: str) -> None:
    resp = es.indices.analyze(index=index, analyzer=analyzer, text=text)

    assert [t["token"] for t in resp["tokens"]] == EXPECTED_TOKENS[(analyzer, text)]


@pytest.mark.parametrize("analyzer", ["english", "cjk", "smartcn", "icu_analyzer", "pattern", "chinese"])
def test_language_analyzers_are_absent_so_the_mapping_does_not_use_them(es: Elasticsearch, analyzer: str) -> None:
    with pytest.raises(BadRequestError, match="failed to find global analyzer"):
        es.indices.analyze(analyzer=analyzer, text=EN)
