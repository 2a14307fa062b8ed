"""Versioned indices: a reindex builds v<n+1>, swaps the alias atomically, and searches never fail meanwhile."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from elasticsearch import Elasticsearch

from indexing.aliases import assets_alias, current_index, ensure_assets_index, reindex
from indexing.bulk import index_documents
from indexing.enrich import enrich_document
from services.settings import ElasticsearchSettings, Settings
from services.workflows import AirflowClient
from tests.factories import make_asset


@pytest.fixture
def es_settings(settings: Settings, unique: str, es: Elasticsearch) -> Iterator[ElasticsearchSettings]:
    scoped = settings.es.model_copy(update={"index_prefix": f"test-{unique}"})
    yield scoped
    es.indices.delete(index=f"{assets_alias(scoped)}-v*", allow_no_indices=True)


def test_searches_keep_answering_during_a_reindex_and_the_alias_moves_to_the_next_version(
    es: Elasticsearch, es_settings: ElasticsearchSettings
) -> None:
    alias = ensure_assets_index(es, es_settings)
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
        result = reindex(es, es_settings, enrich_document, started=datetime.now(UTC))
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


def test_reindex_rederives_enrichment_from_the_curator_fields(
    es: Elasticsearch, es_settings: ElasticsearchSettings
) -> None:
    alias = ensure_assets_index(es, es_settings)
    stale = make_asset(period="Tang dynasty") | {"period_norm": None}  # as written before periods existed
    index_documents(es, alias, [(str(stale["asset_id"]), stale)])
    es.indices.refresh(index=alias)

    reindex(es, es_settings, enrich_document, started=datetime.now(UTC))
    doc = es.get(index=alias, id=str(stale["asset_id"]))["_source"]

    assert doc["period_norm"]["period_id"] == "tang"
    assert doc["period_norm"]["years"] == {"gte": 618, "lte": 907}


@pytest.mark.slow
def test_the_reindex_dag_moves_the_service_alias_and_keeps_every_document(
    es: Elasticsearch, settings: Settings, airflow: AirflowClient
) -> None:
    alias = ensure_assets_index(es, settings.es)
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
