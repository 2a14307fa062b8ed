"""services/ingest/keys.py: one naming scheme for every object key of a batch."""

from __future__ import annotations

import pytest

from services.ingest.keys import BatchKeys, ChunkKeys


def test_a_chunks_step_keys_sit_side_by_side_in_the_batch_work_folder() -> None:
    keys = BatchKeys("20260101-abc").chunk(42)

    assert keys.chunk == "batches/20260101-abc/work/chunk-00042.jsonl"
    assert keys.result == "batches/20260101-abc/work/result-00042.jsonl"
    assert keys.enriched == "batches/20260101-abc/work/enriched-00042.jsonl"
    assert keys.encoders == "batches/20260101-abc/work/enriched-00042.encoders.json"
    assert keys.indexed == "batches/20260101-abc/work/indexed-00042.json"
    assert keys.models == "batches/20260101-abc/work/models/00042.json"


def test_any_step_key_names_its_chunk() -> None:
    keys = BatchKeys("b-1").chunk(7)

    found = {ChunkKeys.of(k) for k in (keys.chunk, keys.result, keys.enriched, keys.indexed)}

    assert found == {keys}


def test_a_key_that_is_no_chunks_is_refused() -> None:
    with pytest.raises(ValueError, match="not a chunk key"):
        ChunkKeys.of("batches/b-1/report.json")


def test_batch_keys_name_the_record_report_and_uploads() -> None:
    keys = BatchKeys("b-1")

    assert (keys.record, keys.report("csv"), keys.rejected) == (
        "batches/b-1/batch.json", "batches/b-1/report.csv", "batches/b-1/work/rejected.jsonl")
    assert (keys.manifest("m.csv"), keys.staged("a/b.jpg"), keys.quarantine_report) == (
        "b-1/manifest/m.csv", "b-1/files/a/b.jpg", "b-1/report.json")
