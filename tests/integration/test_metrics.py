"""/metrics through real gateways: a live one of the test's own (its index, its reports bucket), scraped before and
after the requests a test makes, and the stack's shape, uvicorn with two workers in multiprocess mode, whose
counts must add up across the workers."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from elasticsearch import Elasticsearch
from minio import Minio
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import CollectorRegistry

from indexing.aliases import ensure_assets_index
from indexing.bulk import index_documents
from indexing.encoders.base import info
from indexing.encoders.registry import image_encoder, text_encoder
from schemas.access import OPERATOR_SCOPES, PrincipalKind, Role
from schemas.organisations import KeyIn
from services.access import keys
from services.access.db import Database
from services.access.orgs import ensure_operator
from services.access.principals import Principal
from services.ingest.batches import BatchCounts, BatchProgress, BatchRecord, BatchState, save_batch
from services.redis_store import redis_sync_client
from services.settings import Settings, process_environment
from tests.access import make_institution, principal, staff_key
from tests.cleanup import record
from tests.factories import make_asset, make_image
from tests.helpers import ROOT, assert_problem
from tests.integration.live import free_port

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    """Every sample of an exposition, by name and sorted labels."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name` over the series whose labels include `labels`."""
    return sum(v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= set(ls))


@dataclass
class World:
    base: str
    operator: str  # an operator's key
    curator: str
    institution: str
    picture: Path
    alias: str
    image_search: bool  # an image encoder is configured

    def scrape(self) -> Samples:
        resp = httpx.get(self.base + "/metrics", headers={"Authorization": f"Bearer {self.operator}"}, timeout=30)
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"].startswith("text/plain"), resp.headers
        return parse(resp.text)

    def scrape_until(self, done: Callable[[Samples], bool], timeout_s: float = 5.0) -> Samples:
        """A scrape once `done(samples)` holds (a request is counted just after its answer left), or the last."""
        deadline = time.monotonic() + timeout_s
        while True:
            samples = self.scrape()
            if done(samples) or time.monotonic() > deadline:
                return samples
            time.sleep(0.05)


def operator_key(db: Database) -> str:
    """A key of an operator of the test's own (purged with its keys when the module ends, tests/cleanup.py)."""
    operator_id = f"test-metrics-{uuid.uuid4().hex[:8]}"
    record("operators", [operator_id])
    actor = Principal(kind=PrincipalKind.OPERATOR, id=operator_id, name="metrics test", scopes=OPERATOR_SCOPES)
    with db.session() as s:
        ensure_operator(s, operator_id, actor.name)
        return keys.create_key(s, actor, KeyIn(operator=operator_id), 10**5).key


def _batch(batch_id: str, institution: str, state: BatchState, counts: BatchCounts,
           progress: BatchProgress | None = None) -> BatchRecord:
    return BatchRecord(batch_id=batch_id, institution=institution, state=state, counts=counts,
                       progress=progress or BatchProgress())


@pytest.fixture(scope="module")
def world(settings: Settings, es: Elasticsearch, s3: Minio, db: Database,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from tests.integration.live import live_gateway

    suffix = uuid.uuid4().hex[:8]
    institution = make_institution(db, "CN-BJ", institution=f"metrics-{suffix}")
    reports = f"wenyuan-test-metrics-{suffix}"  # its own batch records: the batch gauges count only the test's
    s3.make_bucket(reports)
    scoped = settings.model_copy(update={
        "es": settings.es.model_copy(update={"index_prefix": f"test-metrics-{suffix}"}),
        "s3": settings.s3.model_copy(update={"bucket_reports": reports}),
        "gateway": settings.gateway.model_copy(update={"metrics_cache_s": 0.0})})  # every scrape reads afresh
    encoders = {"text": info(text_encoder(settings.models)), "image": None}
    if (image := image_encoder(settings.models)) is not None:
        encoders["image"] = info(image)
    alias = ensure_assets_index(es, scoped, encoders)
    docs = [make_asset(object_id=f"M{n}", institution=institution, title_en=f"Bronze ritual vessel {n}",
                       title_zh=f"青铜礼器{n}") for n in range(3)]
    index_documents(es, alias, [(str(d["asset_id"]), d) for d in docs])
    es.indices.refresh(index=alias)
    today = f"{datetime.now(UTC):%Y%m%d}"
    old = f"{datetime.now(UTC) - timedelta(days=settings.gateway.metrics_batch_days + 3):%Y%m%d}"
    for batch in (
        _batch(f"{today}-{suffix}a", institution, BatchState.SUCCEEDED,
               BatchCounts(received=7, valid=5, rejected=2, stored=5, indexed=5)),
        _batch(f"{today}-{suffix}b", institution, BatchState.RUNNING, BatchCounts(received=4, valid=4),
               BatchProgress(validated=4, stored=3, enriched=2, indexed=1)),
        _batch(f"{old}-{suffix}c", institution, BatchState.FAILED, BatchCounts(received=100)),  # out of the window
    ):
        save_batch(s3, scoped.s3, batch)
    curator = staff_key(db, institution, Role.CURATOR)
    picture = make_image(tmp_path_factory.mktemp("metrics") / "probe.jpg", seed=11)
    try:
        with live_gateway(scoped) as base:
            yield World(base, operator_key(db), curator.key, institution, picture, alias, image is not None)
    finally:
        es.indices.delete(index=f"{alias}-v*", allow_no_indices=True)
        for obj in s3.list_objects(reports, recursive=True):
            s3.remove_object(reports, obj.object_name or "")
        s3.remove_bucket(reports)


def test_metrics_are_for_operators_only(world: World) -> None:
    anonymous = httpx.get(world.base + "/metrics", timeout=10)
    curator = httpx.get(world.base + "/metrics", headers={"Authorization": f"Bearer {world.curator}"}, timeout=10)
    forged = httpx.get(world.base + "/metrics", headers={"Authorization": "Bearer wy_not-a-key"}, timeout=10)

    assert_problem(anonymous, 403, "https://wenyuan.dev/problems/missing-scope")
    assert_problem(curator, 403, "https://wenyuan.dev/problems/missing-scope")
    assert_problem(forged, 401, "https://wenyuan.dev/problems/invalid-key")
    assert "wenyuan_" not in anonymous.text + curator.text + forged.text


def test_a_scrape_counts_each_request_by_route_and_status_and_times_the_search_legs(world: World) -> None:
    before = world.scrape()
    for q in ("bronze", "vessel", "礼器"):
        assert httpx.get(world.base + "/v1/search", params={"q": q, "mode": "keyword"}, timeout=60).status_code == 200
    for q in ("bronze vessel", "青铜"):
        assert httpx.get(world.base + "/v1/search", params={"q": q, "mode": "hybrid"}, timeout=60).status_code == 200
    missing = httpx.get(world.base + "/v1/assets/no-such-asset", timeout=30)
    assert missing.status_code == 404
    by_picture = httpx.post(world.base + "/v1/search/image", files={"file": world.picture.read_bytes()}, timeout=60)
    image_search = world.image_search
    assert by_picture.status_code == (200 if image_search else 503), by_picture.text  # 503: no image encoder

    search = {"name": "wenyuan_http_requests_total", "handler": "/v1/search", "method": "GET", "status": "200"}
    after = world.scrape_until(lambda s: value(s, **search) - value(before, **search) >= 5)

    def delta(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert delta("wenyuan_http_requests_total", handler="/v1/search", status="200") == 5
    assert delta("wenyuan_http_requests_total", handler="/v1/assets/{asset_id}", status="404") == 1
    assert delta("wenyuan_http_request_duration_seconds_count", handler="/v1/search", status="200") == 5
    assert delta("wenyuan_http_request_duration_seconds_sum", handler="/v1/search", status="200") > 0
    assert delta("wenyuan_http_request_duration_seconds_bucket", handler="/v1/search", status="200", le="+Inf") == 5
    # Elasticsearch's own time, per leg: each keyword page one `page` leg (and its facets), each hybrid page
    # its keyword and semantic legs; every took a plausible number of seconds.
    assert delta("wenyuan_search_es_took_seconds_count", leg="page") == 3
    assert delta("wenyuan_search_es_took_seconds_count", leg="facets") == 5
    assert delta("wenyuan_search_es_took_seconds_count", leg="keyword") == 2
    assert delta("wenyuan_search_es_took_seconds_count", leg="text") == 2
    assert delta("wenyuan_search_es_took_seconds_count", leg="title") == 2
    assert 0 <= delta("wenyuan_search_es_took_seconds_sum") < 60
    assert delta("wenyuan_query_encoder_seconds_count", encoder="text") == 2  # keyword queries encode nothing
    assert 0 < delta("wenyuan_query_encoder_seconds_sum", encoder="text") < 60
    if image_search:
        assert delta("wenyuan_http_requests_total", handler="/v1/search/image", method="POST", status="200") == 1
        assert delta("wenyuan_search_es_took_seconds_count", leg="knn:images.vector") == 1
        assert delta("wenyuan_query_encoder_seconds_count", encoder="image") == 1


def test_refusals_of_the_rate_limit_are_counted_by_caller(world: World, db: Database, settings: Settings) -> None:
    limited = staff_key(db, world.institution, Role.VIEWER, rate=2)
    while 60 - time.time() % 60 < 5:  # windows are clock minutes: all four requests in one
        time.sleep(0.5)
    before = world.scrape()
    answers = [httpx.get(world.base + "/v1/me", headers={"Authorization": f"Bearer {limited.key}"}, timeout=10)
               for _ in range(4)]
    after = world.scrape_until(lambda s: value(s, "wenyuan_rate_limited_total", caller="key", budget="api")
                               - value(before, "wenyuan_rate_limited_total", caller="key", budget="api") >= 2)
    client = redis_sync_client(settings)
    if client is not None:  # the shared counters of the key: leave nothing
        prefix = principal(db, limited.key).key_prefix
        for counter in client.scan_iter(match=f"test-metrics-*:ratelimit:key:{prefix}:*"):
            client.delete(counter)

    assert [a.status_code for a in answers] == [200, 200, 429, 429]
    key_api = ("wenyuan_rate_limited_total", {"caller": "key", "budget": "api"})
    assert value(after, key_api[0], **key_api[1]) - value(before, key_api[0], **key_api[1]) == 2
    assert (total(after, "wenyuan_http_requests_total", handler="/v1/me", status="429")
            - total(before, "wenyuan_http_requests_total", handler="/v1/me", status="429")) == 2


def test_the_stack_gauges_read_elasticsearch_the_batch_records_and_airflow(world: World, es: Elasticsearch) -> None:
    pit = es.open_point_in_time(index=world.alias, keep_alive="1m")["id"]
    try:
        samples = world.scrape()
    finally:
        es.close_point_in_time(id=pit)

    for source in ("elasticsearch", "batches", "airflow", "workers"):
        assert value(samples, "wenyuan_metrics_source_up", source=source) == 1, source
        assert 0 <= value(samples, "wenyuan_metrics_source_seconds", source=source) < 30
    assert total(samples, "wenyuan_es_open_search_contexts") >= 1  # the point in time this test holds open
    # One process serves this test's gateway: this one.
    assert value(samples, "wenyuan_gateway_worker_resident_bytes", pid=str(os.getpid())) > 50 * 2**20
    assert value(samples, "wenyuan_gateway_worker_open_fds", pid=str(os.getpid())) > 3
    # The batch records of the last metrics_batch_days days, the test's own bucket (the older one is left out).
    assert {state: value(samples, "wenyuan_batches", state=state) for state in BatchState} == {
        BatchState.CREATED: 0, BatchState.SUBMITTED: 0, BatchState.RUNNING: 1, BatchState.SUCCEEDED: 1,
        BatchState.FAILED: 0}
    assert {o: value(samples, "wenyuan_batch_items", outcome=o) for o in ("received", "rejected", "indexed")} == {
        "received": 11, "rejected": 2, "indexed": 5}
    assert {s: value(samples, "wenyuan_batch_progress_items", stage=s)
            for s in ("validated", "stored", "enriched", "indexed")} == {
        "validated": 4, "stored": 3, "enriched": 2, "indexed": 1}
    # Airflow's recent task instances (the stack's DAGs have run by now: at least the daily merge at start).
    counts = {ls: v for (n, ls), v in samples.items() if n == "wenyuan_dag_task_duration_seconds_gcount"}
    assert counts, "no task instance durations"
    for labels, count in counts.items():
        assert count >= 1
        assert value(samples, "wenyuan_dag_task_duration_seconds_bucket", **dict(labels), le="+Inf") == count
        assert value(samples, "wenyuan_dag_task_duration_seconds_gsum", **dict(labels)) >= 0


# -- several workers ------------------------------------------------------------------------------------

def _per_worker(directory: Path, name: str, **labels: str) -> dict[str, float]:
    """`name` summed per worker process, read from each process's own file (counter_<pid>.db)."""
    out = {}
    for db_file in directory.glob("counter_*.db"):
        alone = directory.parent / f"one-{db_file.stem}"
        alone.mkdir(exist_ok=True)
        shutil.copy(db_file, alone / db_file.name)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))  # type: ignore[no-untyped-call]
        samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
                   for family in registry.collect() for s in family.samples}
        out[db_file.stem.removeprefix("counter_")] = total(samples, name, **labels)
        shutil.rmtree(alone)
    return out


@pytest.mark.slow
def test_counts_add_up_across_two_gateway_workers(settings: Settings, db: Database, tmp_path: Path) -> None:
    port, directory = free_port(), tmp_path / "metrics"
    directory.mkdir()
    log = (tmp_path / "gateway.log").open("wb")
    env = process_environment() | {
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "WENYUAN_MODELS__TEXT_ENCODER": "none", "WENYUAN_MODELS__IMAGE_ENCODER": "none"}  # /healthz needs no model
    uvicorn = str(Path(sys.executable).parent / "uvicorn")
    server = subprocess.Popen([uvicorn, "services.gateway.app:create_app", "--factory", "--host", "127.0.0.1",
                               "--port", str(port), "--workers", "2", "--no-access-log"], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base, key = f"http://127.0.0.1:{port}", operator_key(db)
    healthz = {"handler": "/healthz", "status": "200"}
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "the two-worker gateway did not start"
            time.sleep(0.2)
        made = 1
        while made < 400:  # a new connection each: the workers take turns accepting, not always fairly
            for _ in range(20):
                assert httpx.get(base + "/healthz", timeout=10).status_code == 200
                made += 1
            served = _per_worker(directory, "wenyuan_http_requests_total", **healthz)
            if sum(1 for n in served.values() if n > 0) >= 2:
                break
            time.sleep(0.05)
        scraped = parse(httpx.get(base + "/metrics", headers={"Authorization": f"Bearer {key}"}, timeout=30).text)
        served = _per_worker(directory, "wenyuan_http_requests_total", **healthz)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()

    assert sum(1 for n in served.values() if n > 0) >= 2, served  # both workers answered some
    assert sum(served.values()) == made
    assert total(scraped, "wenyuan_http_requests_total", **healthz) == made  # one scrape sums both workers
    assert total(scraped, "wenyuan_http_request_duration_seconds_count", **healthz) == made
    memory = {dict(ls)["pid"]: v for (n, ls), v in scraped.items() if n == "wenyuan_gateway_worker_resident_bytes"}
    assert {pid for pid, n in served.items() if n > 0} <= set(memory), (served, memory)  # every worker's memory
    assert all(v > 50 * 2**20 for v in memory.values()), memory
