"""The assets index is kept in few segments: merged when it holds too many, through the daily DAG too."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch

from indexing.aliases import assets_alias, current_index, ensure_assets_index
from indexing.bulk import index_documents
from indexing.enrich import Enricher
from indexing.segments import merge_segments, segments
from services.settings import Settings
from services.workflows import AirflowClient
from tests.factories import make_asset


@pytest.fixture
def scoped(settings: Settings, unique: str, es: Elasticsearch) -> Iterator[Settings]:
    es_settings = settings.es.model_copy(update={"index_prefix": f"test-{unique}"})
    yield settings.model_copy(update={"es": es_settings})
    es.indices.delete(index=f"{assets_alias(es_settings)}-v*", allow_no_indices=True)


def _index_in_segments(es: Elasticsearch, alias: str, n: int) -> None:
    """n refreshes with a few documents each: n segments (the index merges none this small by itself)."""
    for s in range(n):
        docs = [make_asset(object_id=f"SEG-{s}-{i}", title_en=f"Bowl {s} {i}", institution="segments-museum")
                for i in range(3)]
        index_documents(es, alias, ((str(d["asset_id"]), d) for d in docs))
        es.indices.refresh(index=alias)


def test_an_index_of_many_segments_is_merged_into_one_and_keeps_every_document(
        es: Elasticsearch, scoped: Settings, enricher: Enricher) -> None:
    alias = ensure_assets_index(es, scoped, enricher.encoders)
    _index_in_segments(es, alias, 8)
    before, docs = segments(es, current_index(es, alias))
    count = es.count(index=alias)["count"]

    report = merge_segments(es, scoped)
    again = merge_segments(es, scoped)

    assert before >= 6 > scoped.search.merge_above_segments and docs >= count == 24
    assert report.merged and report.segments_before == before and report.segments_after == 1
    assert segments(es, current_index(es, alias)) == (1, docs)
    assert es.count(index=alias)["count"] == count
    assert not again.merged and again.segments_after == 1  # nothing to do the second time


def test_few_segments_are_left_as_they_are(es: Elasticsearch, scoped: Settings, enricher: Enricher) -> None:
    alias = ensure_assets_index(es, scoped, enricher.encoders)
    _index_in_segments(es, alias, 2)

    report = merge_segments(es, scoped)

    assert not report.merged and report.segments_before == report.segments_after == 2


def test_a_stack_without_an_index_has_nothing_to_merge(es: Elasticsearch, scoped: Settings) -> None:
    report = merge_segments(es, scoped)

    assert not report.merged and report.segments_before == 0


def test_the_merge_segments_dag_merges_the_live_index_when_it_needs_it(
        es: Elasticsearch, settings: Settings, airflow: AirflowClient, enricher: Enricher) -> None:
    alias = ensure_assets_index(es, settings, enricher.encoders)
    airflow.wait_for_dag("merge_segments")
    run_id = f"test-{int(time.time() * 1000)}"

    airflow.trigger("merge_segments", {}, run_id=run_id)
    run = airflow.wait("merge_segments", run_id, timeout_s=900)
    result = airflow.xcom("merge_segments", run_id, "merge")

    assert run["state"] == "success"
    assert result["index"] == current_index(es, alias)
    if result["merged"]:
        assert result["segments_before"] > settings.search.merge_above_segments
        assert result["segments_after"] < result["segments_before"]  # (writes may add segments meanwhile)
    else:
        assert result["segments_before"] <= settings.search.merge_above_segments
