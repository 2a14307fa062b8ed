"""Dumps and OAI-PMH harvests at 100,000 records: throughput and the gateway's memory, against Elasticsearch alone.

Setup indexes generated records (bilingual titles, a licence mix, a category, one image, no vectors)
into an index prefix of this benchmark's own, `bench-dumps` (100,000 records) and `bench-dumps-10k`
(the first 10,000 of them), unless a count finds them there; they stay for re-runs (`python -m
tests.bench.dumps --remove` deletes both indices). The service's own index is not touched.

For each size, a fresh gateway process (uvicorn, as deploy/local starts it, on a free port, reading
that prefix; image encoder off) streams `GET /v1/dumps/records.ndjson.gz` to an anonymous client,
which decompresses and counts the lines. The gateway's RSS is sampled every 20 ms from /proc:
before the stream (after its start-up work is done) and its peak during the stream. Flat memory
means the peak does not grow with the number of records. The raw baseline, in the same run, walks
the same records straight from Elasticsearch with the Python client: search_after over a point in
time, the same page size, query (the anonymous visibility filter) and source filtering, no
serialisation. Then an OAI-PMH `ListRecords` harvest (oai_dc, default page size, following the
resumption tokens) of the 100,000 records, against the same raw walk in its sort order and pages.
"""

from __future__ import annotations

import contextlib
import random
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from elasticsearch import Elasticsearch
from lxml import etree

from indexing.aliases import assets_alias, ensure_assets_index
from indexing.bulk import index_documents
from indexing.client import make_client
from indexing.source import record_source
from services.access.policy import visibility_filter
from services.access.principals import ANONYMOUS
from services.oai.harvest import SORT
from services.settings import Settings
from tests.bench.gateway import bench_gateway
from tests.factories import make_asset

PREFIX = "bench-dumps"
SIZES = {100_000: PREFIX, 10_000: f"{PREFIX}-10k"}
BUILD_CHUNK = 5_000
SEED = 7
LICENCES = ("CC0", "CC0", "CC0", "CC-BY-4.0", "PDM", "InC", "InC-EDU", "NoC-US", "CNE")
CATEGORIES = ("porcelain", "bronze", "jade", "calligraphy", "painting", "textile", "seal", "coin")
TITLES_ZH = ("青花瓷瓶", "兽面纹鼎", "白玉璧", "行书诗轴", "山水图卷", "缂丝花鸟", "铜印", "开元通宝")
TITLES_EN = ("Blue-and-white vase", "Ritual cauldron", "Jade disc", "Poem in running script",
             "Landscape handscroll", "Kesi silk tapestry", "Bronze seal", "Kaiyuan coin")
INSTITUTIONS = ("bench-dumps-a", "bench-dumps-b", "bench-dumps-c")
SAMPLE_S = 0.02
OAI_NS = {"oai": "http://www.openarchives.org/OAI/2.0/"}


def _log(msg: str) -> None:
    print(f"[bench dumps] {msg}", file=sys.stderr, flush=True)


def _settings(settings: Settings, prefix: str) -> Settings:
    return settings.model_copy(update={"es": settings.es.model_copy(update={"index_prefix": prefix})})


# ---------- setup ----------

def _image(n: int) -> dict[str, Any]:
    return {"sha256": f"{n:064x}", "key": f"bench/o/{n}", "path": f"{n}.jpg", "format": "JPEG",
            "mime": "image/jpeg", "width": 1600, "height": 1200, "mode": "RGB", "size_bytes": 250_000,
            "phash": f"{n % 2**64:016x}", "thumbnail_key": f"bench/t/{n}", "preview_key": f"bench/p/{n}"}


def documents(start: int, stop: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """Records start…stop-1, the same on every run (a seeded generator per record)."""
    epoch = datetime(2025, 1, 1, tzinfo=UTC)
    for n in range(start, stop):
        rng = random.Random(SEED * 1_000_003 + n)
        kind = rng.randrange(len(TITLES_ZH))
        moment = (epoch + timedelta(seconds=n * 37)).isoformat()
        doc = make_asset(object_id=f"BD-{n:06d}", institution=INSTITUTIONS[n % len(INSTITUTIONS)],
                         region="CN-BJ", batch_id=f"bench-dumps-{n // 10_000}", licence=rng.choice(LICENCES),
                         title_zh=f"{TITLES_ZH[kind]} {n}", title_en=f"{TITLES_EN[kind]} {n}",
                         description_zh=f"{TITLES_ZH[kind]}，编号 {n}，馆藏精品。",
                         description_en=f"{TITLES_EN[kind]}, number {n}, from the collection.",
                         category_ids=[CATEGORIES[kind]], materials=["瓷"], period="清乾隆", dimensions="高 30 cm",
                         images=[_image(n)], has_image=True, ingested_at=moment, changed_at=moment)
        yield str(doc["asset_id"]), doc


def setup(es: Elasticsearch, settings: Settings, size: int, prefix: str) -> dict[str, float]:
    scoped = _settings(settings, prefix)
    alias = ensure_assets_index(es, scoped, {"text": None, "image": None})
    have = int(es.count(index=alias)["count"])
    if have >= size:
        _log(f"{have:,} records already in {alias}: setup skipped")
        return {"indexed": 0, "seconds": 0.0}
    _log(f"indexing {size:,} records into {alias}")
    t0, indexed = time.perf_counter(), 0
    for start in range(0, size, BUILD_CHUNK):
        result = index_documents(es, alias, documents(start, min(start + BUILD_CHUNK, size)), chunk_size=1000)
        indexed += result.indexed
        if result.failed:
            raise RuntimeError(f"{len(result.failed)} records refused, e.g. {next(iter(result.failed.values()))}")
    es.options(request_timeout=600).indices.refresh(index=alias)
    return {"indexed": indexed, "seconds": time.perf_counter() - t0}


def remove(settings: Settings) -> None:
    es = make_client(settings.es)
    for prefix in SIZES.values():
        es.indices.delete(index=f"{assets_alias(_settings(settings, prefix).es)}-v*", allow_no_indices=True)
    es.close()


# ---------- the gateway process ----------

def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@dataclass
class Sampler:
    pid: int
    samples: list[int] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> Sampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(_rss_kib(self.pid))
            time.sleep(SAMPLE_S)

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak(self) -> int:
        return max(self.samples, default=0)


def gateway(settings: Settings, prefix: str) -> contextlib.AbstractContextManager[tuple[str, int]]:
    """A gateway process of its own on `prefix`, started as deploy/local starts one; (base URL, pid)."""
    return bench_gateway(prefix)


# ---------- measurements ----------

@dataclass
class Run:
    what: str
    records: int
    seconds: float
    bytes_: int = 0
    rss_before_kib: int = 0
    rss_peak_kib: int = 0

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def stream_dump(base: str, pid: int, what: str) -> Run:
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    records, received = 0, 0
    before = _rss_kib(pid)
    with Sampler(pid) as sampler:
        t0 = time.perf_counter()
        with httpx.stream("GET", base + "/v1/dumps/records.ndjson.gz", timeout=600) as resp:
            resp.raise_for_status()
            for chunk in resp.iter_raw():
                received += len(chunk)
                records += inflate.decompress(chunk).count(b"\n")
        records += inflate.flush().count(b"\n")
        seconds = time.perf_counter() - t0
    return Run(what, records, seconds, received, before, sampler.peak)


def raw_walk(es: Elasticsearch, settings: Settings, prefix: str, *, sort: list[Any], size: int, what: str) -> Run:
    """The same records straight from Elasticsearch: search_after over a point in time, nothing else."""
    index = assets_alias(_settings(settings, prefix).es)
    query = visibility_filter(ANONYMOUS)
    t0, records = time.perf_counter(), 0
    pit = es.open_point_in_time(index=index, keep_alive="2m")["id"]
    after: list[Any] | None = None
    try:
        while True:
            params: dict[str, Any] = {"pit": {"id": pit, "keep_alive": "2m"}, "query": query, "size": size,
                                      "sort": sort, "source": record_source(ai=False), "track_total_hits": False}
            if after is not None:
                params["search_after"] = after
            hits = es.search(**params)["hits"]["hits"]
            if not hits:
                break
            records += len(hits)
            after = hits[-1]["sort"]
    finally:
        es.close_point_in_time(id=pit)
    return Run(what, records, time.perf_counter() - t0)


def harvest(base: str, pid: int, what: str) -> Run:
    records, received = 0, 0
    params: dict[str, str] = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
    before = _rss_kib(pid)
    with Sampler(pid) as sampler, httpx.Client(timeout=120) as client:
        t0 = time.perf_counter()
        while True:
            resp = client.get(base + "/oai", params=params)
            resp.raise_for_status()
            received += len(resp.content)
            root = etree.fromstring(resp.content)
            records += len(root.findall(".//oai:record", OAI_NS))
            token = root.find(".//oai:resumptionToken", OAI_NS)
            if token is None or not token.text:
                break
            params = {"verb": "ListRecords", "resumptionToken": token.text}
        seconds = time.perf_counter() - t0
    return Run(what, records, seconds, received, before, sampler.peak)


# ---------- report ----------

def measure(settings: Settings) -> str:
    es = make_client(settings.es)
    runs: list[Run] = []
    setups: dict[int, dict[str, float]] = {}
    try:
        for size, prefix in sorted(SIZES.items()):
            setups[size] = setup(es, settings, size, prefix)
        for size, prefix in sorted(SIZES.items()):
            runs.append(raw_walk(es, settings, prefix, sort=["_shard_doc"], size=settings.dumps.page_size,
                                 what=f"raw: Elasticsearch search_after, {size:,} records"))
            with gateway(settings, prefix) as (base, pid):
                _log(f"dump of {size:,} records")
                runs.append(stream_dump(base, pid, f"gateway dump, {size:,} records"))
        big = SIZES[100_000]
        runs.append(raw_walk(es, settings, big, sort=SORT, size=settings.oai.page_size,
                             what="raw: search_after in OAI order and pages (100,000)"))
        with gateway(settings, big) as (base, pid):
            _log("OAI-PMH ListRecords harvest of 100,000 records")
            runs.append(harvest(base, pid, "OAI-PMH ListRecords oai_dc, 100,000 records"))
    finally:
        es.close()
    return report(settings, runs, setups)


def report(settings: Settings, runs: list[Run], setups: dict[int, dict[str, float]]) -> str:
    rows = ["| run | records | seconds | records/s | transferred | gateway RSS before | peak during | growth |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        mem = (f"{r.rss_before_kib / 1024:.0f} MiB | {r.rss_peak_kib / 1024:.0f} MiB | "
               f"{(r.rss_peak_kib - r.rss_before_kib) / 1024:+.0f} MiB" if r.rss_peak_kib else "— | — | —")
        size = f"{r.bytes_ / 1048576:.1f} MiB" if r.bytes_ else "—"
        rows.append(f"| {r.what} | {r.records:,} | {r.seconds:.1f} | {r.rate:,.0f} | {size} | {mem} |")
    setup = "; ".join(f"{size:,}: {s['indexed']:,.0f} indexed in {s['seconds']:.0f} s" if s["indexed"]
                      else f"{size:,}: already indexed" for size, s in sorted(setups.items()))
    return "\n".join([*rows, "", f"Dump page size {settings.dumps.page_size}, OAI page size "
                      f"{settings.oai.page_size}; setup: {setup}."])


if __name__ == "__main__":
    from services.settings import get_settings

    if "--remove" in sys.argv[1:]:
        remove(get_settings())
    else:
        print(measure(get_settings()))
