"""The indexer survives Elasticsearch going away in the middle of a batch (real server, stopped and restarted)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from indexing.aliases import assets_alias
from services.settings import Settings
from services.uploader import Uploader
from services.workflows import AirflowClient
from tests.access import Member
from tests.factories import make_good_batch
from tests.helpers import run_stack
from tests.integration.uploading import send_batch

pytestmark = pytest.mark.slow



def test_elasticsearch_stopped_and_restarted_mid_batch_the_batch_completes_and_counts_match(
    tmp_path: Path, curator: Member, settings: Settings, es: Elasticsearch, airflow: AirflowClient
) -> None:
    institution = curator.institution
    folder = make_good_batch(tmp_path / "batch", 300)  # two chunks of the default 250
    uploader = Uploader(settings.gateway.public_url, curator.key)
    batch_id = send_batch(uploader, folder, institution)
    run_id = uploader.submit(batch_id)["runs"][-1]
    stopped = run_stack("stop", "elasticsearch")
    hit_by_outage: list[str] = []
    try:
        deadline = time.monotonic() + 240
        while not hit_by_outage and time.monotonic() < deadline:
            # A chunk's store step needs no Elasticsearch; its enrich (kNN labels, curator decisions) and index
            # steps do: once both chunks are stored, their tasks are in (or retrying) the steps the outage hits.
            during = uploader.status(batch_id)
            hit_by_outage = [ti["state"] for ti in airflow.task_instances("ingest_batch", run_id)
                             if ti["task_id"] == "ingest_chunk" and during["progress"]["stored"] == 300
                             and ti["state"] in {"running", "up_for_retry", "failed"}]
            time.sleep(1)
    finally:
        started = run_stack("start", "elasticsearch")

    batch = uploader.wait(batch_id, timeout_s=400)
    uploader.close()
    es.indices.refresh(index=assets_alias(settings.es))
    count = es.count(index=assets_alias(settings.es), query={"term": {"institution": institution}})["count"]

    assert stopped.returncode == 0 and started.returncode == 0, started.stderr
    assert hit_by_outage, "no chunk task reached enrich or index while Elasticsearch was down"
    assert during["state"] == "running"
    assert during["chunks"]["total"] == during["chunks"]["stored"] == 2  # progress while it runs
    assert (during["progress"]["validated"], during["progress"]["indexed"]) == (300, 0)
    assert batch["state"] == "succeeded", batch
    assert batch["counts"]["received"] == batch["counts"]["stored"] == batch["counts"]["indexed"] == 300
    assert count == 300
