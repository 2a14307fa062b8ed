"""A 3-node Elasticsearch cluster on loopback (WENYUAN_STACK__ES_NODES=3), started by the stack's own code.

The cluster runs beside the shared single-node stack, on its own ports (HTTP 9260-9262, transport
9360-9362), heap 512m a node and a run directory of its own, all removed when the module ends.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from indexing.aliases import current_index, ensure_assets_index
from indexing.bulk import index_documents
from indexing.client import make_client
from services.settings import Settings
from stacklib import procs
from stacklib.elasticsearch import Elasticsearch as EsNode
from stacklib.elasticsearch import nodes as es_nodes

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

NODES, HTTP, HEAP = 3, 9260, "512m"
ENCODERS: dict[str, Any] = {"text": None, "image": None}


@pytest.fixture(scope="module")
def cluster_settings(settings: Settings) -> Settings:
    run = settings.stack.run_dir / f"test-es-cluster-{uuid.uuid4().hex[:8]}"
    return Settings(es=settings.es.model_copy(update={"url": f"http://127.0.0.1:{HTTP}", "urls": [],
                                                      "index_prefix": f"test-cluster-{uuid.uuid4().hex[:8]}"}),
                    stack=settings.stack.model_copy(update={"es_nodes": NODES, "es_heap": HEAP, "run_dir": run,
                                                            "es_transport_port": None}))


@pytest.fixture(scope="module")
def cluster(cluster_settings: Settings) -> Iterator[list[EsNode]]:
    nodes = es_nodes(cluster_settings)
    for node in nodes:
        for port in (node.port, node.transport_port):
            if procs.port_in_use(port):
                pytest.fail(f"port {port} for the test cluster is taken", pytrace=False)
    try:
        for node in nodes:
            node.start()
        for node in nodes:
            procs.wait_until(node.ready, timeout=300, alive=node.launching, what=node.name, log=node.log)
        yield nodes
    finally:
        for node in nodes:
            node.launching()  # records the server's pid if it was still starting
            node.stop()
        shutil.rmtree(cluster_settings.stack.run_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def client(cluster: list[EsNode], cluster_settings: Settings) -> Iterator[Elasticsearch]:
    es = make_client(cluster_settings.es)
    yield es
    es.close()


def test_the_settings_give_the_client_every_node(cluster_settings: Settings) -> None:
    assert cluster_settings.es.hosts == [f"http://127.0.0.1:{HTTP + i}" for i in range(NODES)]
    assert cluster_settings.es.cluster_nodes == NODES


def test_three_nodes_form_one_green_cluster_and_the_assets_index_has_replicas(
        client: Elasticsearch, cluster: list[EsNode], cluster_settings: Settings) -> None:
    health = client.cluster.health(wait_for_status="green", timeout="60s")
    assert (health["number_of_nodes"], health["status"]) == (NODES, "green")
    names = {n["name"] for n in client.nodes.info()["nodes"].values()}
    assert names == {f"wenyuan-es-{i + 1}" for i in range(NODES)}
    assert [n.version() for n in cluster] == [cluster[0].version()] * NODES and cluster[0].version()[0].isdigit()

    alias = ensure_assets_index(client, cluster_settings, ENCODERS)
    index = current_index(client, alias)
    got = client.indices.get_settings(index=index)[index]["settings"]["index"]
    assert (got["number_of_shards"], got["number_of_replicas"]) == ("3", "1")
    client.cluster.health(index=index, wait_for_status="green", timeout="60s")
    shards = client.cat.shards(index=index, format="json")
    assert len({s["node"] for s in shards}) == NODES  # spread over the three nodes


def _doc(batch: str, n: int) -> tuple[str, dict[str, Any]]:
    asset_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{batch}/{n}").hex
    now = datetime.now(UTC).isoformat()
    return asset_id, {"asset_id": asset_id, "institution": "cluster-museum", "batch_id": batch,
                      "object_id": f"C-{n}", "title_en": f"Object {n}", "ingested_at": now, "changed_at": now}


def test_a_node_killed_mid_batch_loses_nothing_and_searches_keep_answering(
        client: Elasticsearch, cluster: list[EsNode], cluster_settings: Settings) -> None:
    alias = ensure_assets_index(client, cluster_settings, ENCODERS)
    batch = "b" + uuid.uuid4().hex[:10]
    master = client.cat.master(format="json")[0]["node"]
    victim = next(node for node in cluster if node.node_name == master)  # the elected master: an election too
    victim_pid = victim.pids()[0]
    bulks, killed_at = [0], [-1]
    outage = threading.Event()

    def kill() -> None:
        os.kill(victim_pid, signal.SIGKILL)
        outage.set()

    class KillingMidBatch(Elasticsearch):
        """The real client; its 30th bulk request (of 100) is sent as the node is SIGKILLed."""

        def bulk(self, *args: Any, **kwargs: Any) -> Any:
            bulks[0] += 1
            if bulks[0] == 30:
                killed_at[0] = bulks[0]
                threading.Timer(0.01, kill).start()
            return super().bulk(*args, **kwargs)

    es_settings = cluster_settings.es
    indexer = KillingMidBatch(es_settings.hosts, request_timeout=es_settings.request_timeout_s,
                              max_retries=max(es_settings.max_retries, NODES), retry_on_timeout=True,
                              retry_on_status=(429, 502, 503, 504))
    searches, errors, partial = [0], [], [0]
    stop_searching = threading.Event()

    def search() -> None:
        searcher = make_client(es_settings)
        while not stop_searching.is_set():
            try:
                resp = searcher.search(index=alias, query={"match": {"title_en": "object"}}, size=5)
                searches[0] += 1
                partial[0] += resp["_shards"].get("failed", 0) > 0
            except Exception as exc:
                errors.append(repr(exc))
            time.sleep(0.05)
        searcher.close()

    searching = threading.Thread(target=search)
    searching.start()
    try:
        t0 = time.monotonic()
        result = index_documents(indexer, alias, (_doc(batch, n) for n in range(1000)), chunk_size=10)
        batch_s = time.monotonic() - t0
        assert outage.is_set() and killed_at[0] == 30 and bulks[0] >= 100
        assert (result.indexed, result.failed) == (1000, {})  # received = stored + rejected, nothing rejected
        assert victim.pids() == []

        client.indices.refresh(index=alias)
        count = client.count(index=alias, query={"term": {"batch_id": batch}})["count"]
        distinct = client.search(index=alias, size=0, query={"term": {"batch_id": batch}},
                                 aggs={"ids": {"cardinality": {"field": "object_id", "precision_threshold": 3000}}})
        assert (count, distinct["aggregations"]["ids"]["value"]) == (1000, 1000)  # each document exactly once
        health = client.cluster.health()
        assert health["number_of_nodes"] == NODES - 1 and health["status"] in ("yellow", "green")

        victim.start()
        procs.wait_until(victim.ready, timeout=300, alive=victim.launching, what=victim.name, log=victim.log)
        health = client.cluster.health(wait_for_status="green", wait_for_nodes=str(NODES), timeout="120s")
        assert (health["number_of_nodes"], health["status"]) == (NODES, "green")
    finally:
        stop_searching.set()
        searching.join()
        indexer.close()
    print(f"\nbatch of 1000 in {batch_s:.1f}s with {master} (master) killed at bulk 30/100; searches {searches[0]}, "
          f"errors {len(errors)}, partial answers {partial[0]}")
    assert searches[0] > 0
    assert errors == []


def test_a_single_node_keeps_one_shard_and_no_replica(settings: Settings) -> None:
    from indexing.mappings import assets_index_body, index_shape

    assert index_shape(1) == {"number_of_shards": 1, "number_of_replicas": 0}
    assert index_shape(2) == index_shape(3) == {"number_of_shards": 3, "number_of_replicas": 1}
    body = assets_index_body(ENCODERS, settings.search)
    assert (body["settings"]["number_of_shards"], body["settings"]["number_of_replicas"]) == (1, 0)
