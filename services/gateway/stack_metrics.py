"""What the stack holds, read when /metrics is scraped, never on a request's path: a collector whose
sources are each read at most once every `gateway.metrics_cache_s` per gateway process.

    wenyuan_es_open_search_contexts{node}        search contexts open (points in time, scrolls, searches)
    wenyuan_es_open_scrolls{node}                of which scrolls
    wenyuan_batches{state}                       batch records of the last `gateway.metrics_batch_days` days
    wenyuan_batch_items{outcome}                 their items: received, valid, rejected, stored, indexed
    wenyuan_batch_progress_items{stage}          of the submitted and running ones: validated, stored,
                                                 enriched, indexed so far
    wenyuan_dag_task_duration_seconds{dag, task, state}   the `gateway.metrics_task_instances` most recent
    wenyuan_dag_task_queued_seconds{dag, task, state}     finished Airflow task instances (gauge histograms:
                                                          a window, not a running count)
    wenyuan_gateway_worker_resident_bytes{pid}   memory of each gateway worker process (its siblings read from
    wenyuan_gateway_worker_open_fds{pid}         /proc under uvicorn --workers; this process alone otherwise)
    wenyuan_metrics_source_up{source}            1 when the last read of elasticsearch, batches, airflow,
                                                 workers worked
    wenyuan_metrics_source_seconds{source}       how long that read took

A source that fails is logged and reported down; the scrape still answers with the rest. Airflow's own
metrics (StatsD or OpenTelemetry: `dag.<dag>.<task>.duration`) are the fuller record of tasks where a
deployment collects them; the task instances the REST API keeps give the same durations with nothing more
to run, and the queue wait (`queued_when` to `start_date`) that the scheduling latency is made of.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch
from minio import Minio
from prometheus_client.core import GaugeHistogramMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from services.ingest.batches import BatchRecord, BatchState, load_batch
from services.settings import Settings
from services.storage import ObjectNotFound
from services.workflows import AirflowClient

log = logging.getLogger(__name__)

TASK_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
IN_FLIGHT = (BatchState.SUBMITTED, BatchState.RUNNING)
READ_THREADS = 8  # batch records read at once (one small S3 GET each)


def _datetime(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


class StackCollector(Collector):
    def __init__(self, es: Elasticsearch, s3: Minio, airflow: AirflowClient, settings: Settings) -> None:
        self.es, self.s3, self.airflow, self.settings = es, s3, airflow, settings
        self._lock = threading.Lock()
        self._sources: dict[str, Callable[[], list[Metric]]] = {
            "elasticsearch": self._search_contexts, "batches": self._batches, "airflow": self._dag_tasks,
            "workers": self._workers}
        self._cache: dict[str, tuple[float, list[Metric], bool, float]] = {}  # read at, metrics, up, seconds

    def collect(self) -> Iterator[Metric]:
        with self._lock:  # two scrapes at once read each source once
            now = time.monotonic()
            for name, read in self._sources.items():
                cached = self._cache.get(name)
                if cached is None or now - cached[0] >= self.settings.gateway.metrics_cache_s:
                    self._cache[name] = self._read(name, read)
            up = GaugeMetricFamily("wenyuan_metrics_source_up", "1 when the last read of this source for "
                                   "/metrics worked.", labels=["source"])
            took = GaugeMetricFamily("wenyuan_metrics_source_seconds", "How long the last read of this source "
                                     "for /metrics took.", labels=["source"])
            for name, (_, metrics, ok, seconds) in self._cache.items():
                yield from metrics
                up.add_metric([name], 1.0 if ok else 0.0)
                took.add_metric([name], seconds)
            yield up
            yield took

    @staticmethod
    def _read(name: str, read: Callable[[], list[Metric]]) -> tuple[float, list[Metric], bool, float]:
        started = time.monotonic()
        try:
            metrics, ok = read(), True
        except Exception:
            log.warning("/metrics could not read %s", name, exc_info=True)
            metrics, ok = [], False
        return time.monotonic(), metrics, ok, time.monotonic() - started

    # -- the sources ------------------------------------------------------------------------------

    def _search_contexts(self) -> list[Metric]:
        es = self.es.options(request_timeout=self.settings.gateway.readiness_timeout_s, max_retries=0)
        stats = es.nodes.stats(metric="indices", index_metric="search", filter_path=[
            "nodes.*.name", "nodes.*.indices.search.open_contexts", "nodes.*.indices.search.scroll_current"])
        contexts = GaugeMetricFamily("wenyuan_es_open_search_contexts", "Search contexts open on the node (points "
                                     "in time, scrolls and searches under way).", labels=["node"])
        scrolls = GaugeMetricFamily("wenyuan_es_open_scrolls", "Scroll contexts open on the node.", labels=["node"])
        for node_id, node in stats.body.get("nodes", {}).items():
            search = node.get("indices", {}).get("search", {})
            name = str(node.get("name", node_id))
            contexts.add_metric([name], float(search.get("open_contexts", 0)))
            scrolls.add_metric([name], float(search.get("scroll_current", 0)))
        return [contexts, scrolls]

    def _batch_records(self) -> Iterator[BatchRecord]:
        """The records of the batches made in the last `metrics_batch_days` UTC days (ids begin with the day),
        read READ_THREADS at a time."""
        bucket, today = self.settings.s3.bucket_reports, datetime.now(UTC).date()
        ids = [(obj.object_name or "").removeprefix("batches/").rstrip("/")
               for back in range(self.settings.gateway.metrics_batch_days)
               for obj in self.s3.list_objects(  # one common prefix per batch
                   bucket, prefix=f"batches/{(today - timedelta(days=back)):%Y%m%d}-")]
        with ThreadPoolExecutor(READ_THREADS) as pool:
            yield from (b for b in pool.map(self._batch_record, ids) if b is not None)

    def _batch_record(self, batch_id: str) -> BatchRecord | None:
        try:
            return load_batch(self.s3, self.settings.s3, batch_id)
        except ObjectNotFound:  # a prefix without its record (being written, or a stray object)
            return None

    def _batches(self) -> list[Metric]:
        states: Counter[str] = Counter({state.value: 0 for state in BatchState})
        items: Counter[str] = Counter()
        progress: Counter[str] = Counter({"validated": 0, "stored": 0, "enriched": 0, "indexed": 0})
        for batch in self._batch_records():
            states[batch.state.value] += 1
            items.update(batch.counts.model_dump(include={"received", "valid", "rejected", "stored", "indexed"}))
            if batch.state in IN_FLIGHT:
                progress.update(batch.progress.model_dump(include=set(progress)))
        by_state = GaugeMetricFamily("wenyuan_batches", "Batches of the last gateway.metrics_batch_days days, by "
                                     "state.", labels=["state"])
        by_outcome = GaugeMetricFamily("wenyuan_batch_items", "Items of those batches, by outcome.",
                                       labels=["outcome"])
        in_flight = GaugeMetricFamily("wenyuan_batch_progress_items", "Items of the submitted and running "
                                      "batches through each stage so far.", labels=["stage"])
        for family, counts in ((by_state, states), (by_outcome, items), (in_flight, progress)):
            for label, value in sorted(counts.items()):
                family.add_metric([label], float(value))
        return [by_state, by_outcome, in_flight]

    def _task_instances(self) -> list[dict[str, Any]]:
        """The most recent finished task instances of every DAG, a page at a time (Airflow's api
        maximum_page_limit caps each page, 100 by default)."""
        wanted = self.settings.gateway.metrics_task_instances
        instances: list[dict[str, Any]] = []
        while len(instances) < wanted:
            params = {"state": ["success", "failed"], "order_by": "-end_date", "limit": wanted - len(instances),
                      "offset": len(instances)}
            page = self.airflow._request("GET", "/api/v2/dags/~/dagRuns/~/taskInstances", params=params)
            instances += page["task_instances"]
            if not page["task_instances"] or len(instances) >= int(page.get("total_entries", 0)):
                break
        return instances

    def _dag_tasks(self) -> list[Metric]:
        instances = self._task_instances()
        durations: dict[tuple[str, str, str], list[float]] = defaultdict(list)
        queued: dict[tuple[str, str, str], list[float]] = defaultdict(list)
        for ti in instances:
            labels = (str(ti["dag_id"]), str(ti["task_id"]), str(ti["state"]))
            if isinstance(ti.get("duration"), int | float):
                durations[labels].append(float(ti["duration"]))
            start, queued_at = _datetime(ti.get("start_date")), _datetime(ti.get("queued_when"))
            if start is not None and queued_at is not None:
                queued[labels].append(max(0.0, (start - queued_at).total_seconds()))
        return [
            _histogram("wenyuan_dag_task_duration_seconds", "Run time of Airflow's most recent finished task "
                       "instances.", durations),
            _histogram("wenyuan_dag_task_queued_seconds", "Time those task instances waited from queued to "
                       "running.", queued)]


    def _workers(self) -> list[Metric]:
        pids = [os.getpid()]
        if self.settings.gateway.metrics_dir is not None:  # uvicorn --workers: every child of the supervisor
            pids = worker_pids(os.getppid()) or pids
        memory = GaugeMetricFamily("wenyuan_gateway_worker_resident_bytes", "Resident memory of each gateway "
                                   "worker process.", labels=["pid"])
        descriptors = GaugeMetricFamily("wenyuan_gateway_worker_open_fds", "Open file descriptors of each gateway "
                                        "worker process.", labels=["pid"])
        for pid in pids:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                fds = len(os.listdir(f"/proc/{pid}/fd"))
            except OSError:  # exited meanwhile
                continue
            rss_kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
            memory.add_metric([str(pid)], rss_kib * 1024.0)
            descriptors.add_metric([str(pid)], float(fds))
        return [memory, descriptors]


def worker_pids(supervisor: int) -> list[int]:
    """The worker processes uvicorn's supervisor started (multiprocessing's spawn; not its resource tracker)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            command = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == supervisor and fields[0] != "Z" and b"spawn_main" in command:
            found.append(int(proc.name))
    return sorted(found)


def _histogram(name: str, documentation: str, samples: dict[tuple[str, str, str], list[float]]) -> Metric:
    family = GaugeHistogramMetricFamily(name, documentation, labels=["dag", "task", "state"])
    for labels, values in sorted(samples.items()):
        buckets = [(str(bound), float(sum(v <= bound for v in values))) for bound in TASK_BUCKETS]
        family.add_metric(list(labels), [*buckets, ("+Inf", float(len(values)))], sum(values))
    return family

