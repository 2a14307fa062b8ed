"""Per-unit figures for docs/SCALING.md: what one asset costs in the assets index, per vector index type.

N synthetic assets (the latency bench's documents: real USE-multilingual-v3 text vectors for the title and text
fields, one 1280-d image vector, the whole record and its search terms) are indexed with the service's own mapping
(indexing/aliases.ensure_assets_index) into a scratch index per vector index type, refreshed and force-merged to one
segment as the daily merge leaves the live index; then, per asset:

- the store on disk (Elasticsearch's `store.size_in_bytes` of the primaries: one copy);
- what kNN wants in the page cache (`dense_vector.off_heap`: raw floats `.vec`, quantized vectors `.veq`/`.veb`,
  the HNSW graph `.vex`), the memory a node needs beside its heap for vector search to stay fast;
- the bulk rate of one stream (`index_documents`, chunks of 500) on this machine.

`.venv/bin/python -m tests.bench scaling` (WENYUAN_BENCH_SCALING_N, default 10,000; WENYUAN_BENCH_SCALING_TYPES,
default `int8_hnsw,bbq_hnsw,hnsw`). The scratch indices are removed at the end, whatever happens.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field

from elasticsearch import Elasticsearch

from indexing.aliases import assets_alias, ensure_assets_index
from indexing.bulk import index_documents
from indexing.client import make_client
from services.settings import Settings, get_settings
from tests.bench import latency_data, vectors

CHUNK = 2_500
MIB = 1024 * 1024


def _log(msg: str) -> None:
    print(f"[scaling] {msg}", file=sys.stderr, flush=True)


@dataclass
class Cost:
    index_type: str
    assets: int = 0
    lucene_docs: int = 0
    segments: int = 0
    bulk_s: float = 0.0
    merge_s: float = 0.0
    store_bytes: int = 0
    off_heap: dict[str, int] = field(default_factory=dict)
    error: str = ""

    def per_asset(self, nbytes: int) -> float:
        return nbytes / self.assets if self.assets else 0.0


def _scoped(settings: Settings, index_type: str) -> Settings:
    prefix = f"bench-scaling-{index_type.replace('_', '-')}"
    return settings.model_copy(update={
        "es": settings.es.model_copy(update={"index_prefix": prefix}),
        "search": settings.search.model_copy(update={"vector_index_type": index_type})})


def measure_type(es: Elasticsearch, settings: Settings, index_type: str, n: int) -> Cost:
    scoped = _scoped(settings, index_type)
    alias = assets_alias(scoped.es)
    out = Cost(index_type)
    corpus, _, texts = vectors.corpus_and_queries(settings)
    pools = vectors._pools()
    encoders = latency_data._encoders()
    try:
        ensure_assets_index(es, scoped, encoders)
        for start in range(0, n, CHUNK):
            docs = latency_data._documents(start, min(start + CHUNK, n), corpus, texts, pools, encoders)
            t0 = time.perf_counter()
            result = index_documents(es, alias, docs)
            out.bulk_s += time.perf_counter() - t0
            out.assets += result.indexed
            if result.failed:
                out.error = f"{len(result.failed):,} refused, e.g. {next(iter(result.failed.values()))}"
        long = es.options(request_timeout=3600)
        long.indices.refresh(index=alias)
        t0 = time.perf_counter()
        long.indices.forcemerge(index=alias, max_num_segments=1)
        out.merge_s = time.perf_counter() - t0
        long.indices.refresh(index=alias)
        stats = es.indices.stats(index=alias, metric="store,docs,segments,dense_vector")["_all"]["primaries"]
        out.store_bytes = int(stats["store"]["size_in_bytes"])
        out.lucene_docs = int(stats["docs"]["count"])
        out.segments = int(stats["segments"]["count"])
        out.off_heap = {k: int(v) for k, v in stats.get("dense_vector", {}).get("off_heap", {}).items()
                        if isinstance(v, int)}
        _log(f"{index_type}: {out.assets:,} assets, {out.store_bytes / MIB:,.1f} MiB, off-heap {out.off_heap}")
    finally:
        es.indices.delete(index=f"{alias}-v*", allow_no_indices=True, ignore_unavailable=True)
    return out


def _row(c: Cost) -> str:
    if c.error and not c.assets:
        return f"| {c.index_type} | error: {c.error} |"
    heap = c.off_heap
    total = heap.get("total_size_bytes", sum(v for k, v in heap.items() if k != "total_size_bytes"))
    quantized = heap.get("total_veq_size_bytes", 0) + heap.get("total_veb_size_bytes", 0)
    # what kNN reads per query: the quantized vectors and the graph; without quantization, the raw floats
    ann = total - heap.get("total_vec_size_bytes", 0) if quantized else total
    return (f"| {c.index_type} | {c.assets:,} | {c.lucene_docs:,} | {c.per_asset(c.store_bytes) / 1024:.1f} | "
            f"{c.per_asset(heap.get('total_vec_size_bytes', 0)) / 1024:.1f} | "
            f"{c.per_asset(quantized) / 1024:.2f} | "
            f"{c.per_asset(heap.get('total_vex_size_bytes', 0)) / 1024:.2f} | {c.per_asset(ann) / 1024:.2f} | "
            f"{c.store_bytes / c.assets * 1e6 / 1024**3:.1f} | {ann / c.assets * 1e6 / 1024**3:.2f} | "
            f"{c.assets / c.bulk_s:,.0f} | {c.merge_s:.1f} |" + (f" {c.error}" if c.error else ""))


def measure(settings: Settings) -> str:
    n = int(os.environ.get("WENYUAN_BENCH_SCALING_N", "10000"))
    types = os.environ.get("WENYUAN_BENCH_SCALING_TYPES", "int8_hnsw,bbq_hnsw,hnsw").split(",")
    es = make_client(settings.es)
    costs = [measure_type(es, settings, t.strip(), n) for t in types if t.strip()]
    lines = [f"`WENYUAN_BENCH_SCALING_N={n} .venv/bin/python -m tests.bench scaling` (tests/bench/scaling.py): {n:,} "
             "assets of the latency bench (two 512-d text vectors, one 1280-d image vector each, the whole record) in "
             "the service's mapping, one shard, force-merged to one segment; one copy (no replica). Off-heap: "
             "Elasticsearch's `dense_vector.off_heap` (raw floats .vec, quantized .veq/.veb, HNSW graph .vex).",
             "",
             "| vector index type | assets | Lucene docs | store KiB/asset | raw floats KiB/asset "
             "| quantized KiB/asset | graph KiB/asset | kNN working set KiB/asset | store GiB per 1M assets "
             "| kNN working set GiB per 1M | bulk assets/s (1 stream) | force-merge s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [_row(c) for c in costs]
    lines += ["", *sheet(costs)]
    return "\n".join(lines)


# -- the sizing sheet: the per-asset figures above times the collection, with figures of other benches ----------------

SCALES = (1_000_000, 10_000_000, 100_000_000)
SHARD_GIB = 30  # Elasticsearch's guidance: shards of tens of GB (10-50); 30 leaves room to grow
NODE_RAM_GIB, NODE_HEAP_GIB = 64, 16  # a data node: vectors live off-heap, in the page cache beside the heap
PAGE_CACHE_GIB = NODE_RAM_GIB - NODE_HEAP_GIB - 4  # 4 GiB for the OS and everything else
REPLICAS = 1
# Measured by other benches (docs/BENCHMARKS.md), on this 2-core machine:
INGEST_CORE_S = {  # core-seconds per item through the real DAG, everything included (tests.bench ingest)
    "image": 2 / 1.4,  # 1,000 images at 1.4 items/s on 2 cores (load 7-13: an upper bound)
    "text": 2 / 10.9,  # 10,000 text rows at 10.9 rows/s on 2 cores
}
ENCODER_PER_CORE_S = {"image": 61 / 2, "text": 752 / 2}  # raw items/s per core (tests.bench encoders)
QUERIES_PER_ES_CORE_S = {"keyword": 36.4 / 1.37, "hybrid": 7.9 / 1.01}  # wrk, 100,000 assets (tests.bench latency)


def _gib(nbytes: float) -> float:
    return nbytes / 1024**3


def sheet(costs: list[Cost]) -> list[str]:
    lines = [f"Sizing from these figures: {REPLICAS} replica; shards of at most {SHARD_GIB} GiB; data nodes of "
             f"{NODE_RAM_GIB} GiB RAM with a {NODE_HEAP_GIB} GiB heap, {PAGE_CACHE_GIB} GiB of page cache for "
             "the kNN working set of the shard copies they hold (at least 3 nodes: a quorum of masters).", "",
             "| vector index type | assets | primary store GiB | with replicas GiB | primary shards "
             "| kNN working set GiB (all copies) | data nodes (RAM-bound) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for c in costs:
        if not c.assets:
            continue
        heap = c.off_heap
        quantized = heap.get("total_veq_size_bytes", 0) + heap.get("total_veb_size_bytes", 0)
        total = heap.get("total_size_bytes", 0)
        ann = total - heap.get("total_vec_size_bytes", 0) if quantized else total
        for n in SCALES:
            primary = _gib(c.per_asset(c.store_bytes) * n)
            working = _gib(c.per_asset(ann) * n) * (1 + REPLICAS)
            nodes = max(3, -(-int(working) // PAGE_CACHE_GIB))
            lines.append(f"| {c.index_type} | {n:,} | {primary:,.0f} | {primary * (1 + REPLICAS):,.0f} | "
                         f"{max(1, -(-int(primary) // SHARD_GIB))} | {working:,.0f} | {nodes} |")
    lines += ["", "Ingest: core-hours of the whole pipeline per collection (core-seconds per item through the DAG on "
              "this machine; hours at W worker machines of C cores = core-hours / (W × C)), and the encoders alone "
              "(raw, one core):", "",
              "| assets | images: pipeline core-h | text rows: pipeline core-h | image encoder alone core-h "
              "| text encoder alone core-h | images at 10 workers × 16 cores, h |",
              "|---:|---:|---:|---:|---:|---:|"]
    for n in SCALES:
        img, txt = n * INGEST_CORE_S["image"] / 3600, n * INGEST_CORE_S["text"] / 3600
        lines.append(f"| {n:,} | {img:,.0f} | {txt:,.0f} | {n / ENCODER_PER_CORE_S['image'] / 3600:,.1f} | "
                     f"{n / ENCODER_PER_CORE_S['text'] / 3600:,.1f} | {img / 160:,.1f} |")
    lines += ["", "Queries: " + ", ".join(f"{k} {v:.1f}/s per Elasticsearch core" for k, v in
                                          QUERIES_PER_ES_CORE_S.items())
              + " at 100,000 assets (16 connections); a search visits one copy of every shard, so the rate grows "
              "with the copies (replicas, nodes) and falls as each shard's copy grows."]
    return lines


if __name__ == "__main__":
    print(measure(get_settings()))
