"""Search latency bench: the report (Markdown for docs/BENCHMARKS.md) of one run's results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from indexing.aliases import assets_alias
from services.settings import Settings
from tests.bench.latency_data import (
    INSTITUTION,
    N_ASSETS,
    N_IMAGES,
    N_QUERIES,
    N_WARMUP,
    PAGE_SIZE,
    SEED,
    Setup,
    queries,
)
from tests.bench.latency_load import WRK_CONNECTIONS, WRK_SECONDS, WRK_THREADS, Load
from tests.bench.latency_raw import Raw
from tests.bench.latency_sequential import Series


@dataclass
class Results:
    setup: Setup
    seq: dict[str, Series]
    encoding: dict[str, list[float]]
    raw: list[Raw]
    loads: list[Load]
    gateway: str
    es_version: str
    segments: int
    lucene_docs: int
    alias_docs: int
    bench_docs: int
    loadavg: dict[str, tuple[float, float, float]]
    contexts: dict[str, int]
    seconds: dict[str, float]
    image_took: list[float]  # raw image kNN took per gateway image request (the image route reports none)
    wrk_missing: str = ""



# ---------- report ----------

def _pct(values: Sequence[float], p: float) -> str:
    return f"{np.percentile(values, p):.1f}" if len(values) else "—"


def _median(values: Sequence[float]) -> float:
    return float(np.median(values)) if len(values) else float("nan")


def _overhead(s: Series, enc: Sequence[float], took: Sequence[float], took_by_request: bool) -> float:
    """Median over requests of round-trip − took − encoding of the same request (took_by_request: took is
    indexed by request number, as the raw image kNN; otherwise it is the series' own, one per round-trip)."""
    try:
        return _median([rt - (took[k] if took_by_request else took[j]) - enc[k]
                        for j, (k, rt) in enumerate(zip(s.index, s.round_trip, strict=True))])
    except IndexError:
        return float("nan")


def report(settings: Settings, r: Results) -> str:
    s = settings.search
    su = r.setup
    la = r.loadavg
    if su.reused:
        bulk = f"found already indexed ({su.present_before:,} assets of `{INSTITUTION}`, count query); "
        bulk += (f"the run that indexed them ({su.when}) bulk-indexed {su.indexed:,} at "
                 f"**{su.indexed / su.bulk_s:,.0f} docs/s**" if su.bulk_s
                 else "the numbers of the run that indexed them are not recorded")
    else:
        bulk = f"indexed in this run: {su.indexed:,} at **{su.indexed / su.bulk_s:,.0f} docs/s**" if su.bulk_s else ""
    if su.bulk_s:
        bulk += (f" (`index_documents`, one stream, chunks of 500, {su.bulk_s:.0f} s; building the documents "
                 f"{su.build_s:.0f} s more; refresh {su.refresh_s:.1f} s; {su.failed:,} refused"
                 + (f", e.g. {su.example_failure}" if su.example_failure else "") + ")")
    method = (
        f"Data: {N_ASSETS:,} synthetic assets of one institution, `{INSTITUTION}`, in the service alias "
        f"`{assets_alias(settings.es)}` beside the {r.alias_docs - r.bench_docs:,} other assets there "
        f"({r.alias_docs:,} in all; {r.lucene_docs:,} Lucene docs with the nested images, "
        f"{r.segments} segments ({su.merge or 'not merged'}: the daily merge_segments DAG's upkeep); "
        f"Elasticsearch {r.es_version}, 1 shard, "
        f"{s.vector_index_type} m={s.hnsw_m}). Each is a `make_asset` AssetRecord with titles and a description "
        f"from the vectors bench's catalogue generator (seed 7; ~50 % en, ~35 % zh, ~15 % mixed) and that bench's "
        f"cached real USE-multilingual-v3 text vectors: each of its 50,000 vectors serves two assets, the second with "
        f"its text's segments rotated and another segment as title (same words, so the vector still fits). Taxonomy "
        f"category and 1–2 materials, a period (zh) or date (en) with `period_norm`, a licence, and one image record "
        f"whose 1280-d vector is **random gaussian, L2-normalised** (not a real EfficientNet embedding: image kNN "
        f"cost is realistic, image results are not) with a random pHash; `ai` names the configured encoders. "
        f"Setup: {bulk}. "
        f"Requests: {N_QUERIES} queries alternately zh and en, short terms drawn (seed {SEED}) from the sample "
        f"manifests (titles, periods, materials, categories, Tate subjects; e.g. `{queries()[N_WARMUP]}`, "
        f"`{queries()[N_WARMUP + 1]}`), every request filtered to `institution={INSTITUTION}`, page size "
        f"{PAGE_SIZE}; {N_WARMUP} other queries first as warm-up. Image search: {N_IMAGES} different 320×240 JPEGs "
        f"(tests/factories.make_image), {N_QUERIES} requests round-robin, multipart `file`. Sequential: one httpx "
        f"client, keep-alive, one request at a time; round-trip is its wall time; ES took is the page's `took_ms` "
        f"(Elasticsearch's own time summed over the page's requests). Encoding is timed in the bench process just "
        f"before each gateway request, under the same load (`text_encoder().encode([q])`; for images the "
        f"gateway's own `_open_upload` decode + "
        f"`image_encoder().encode([img])`); gateway overhead = median over requests of round-trip − took − encoding "
        f"of the same query. The image route reports no `took`: its ES column and overhead use the `took` of the "
        f"same kNN sent straight to Elasticsearch for the same picture (raw table). Gateway: {r.gateway}; hybrid "
        f"uses semantic_window={s.semantic_window}, num_candidates={s.num_candidates}. Machine: 2 cores shared by "
        f"Elasticsearch (heap {settings.stack.es_heap}), the gateway, the load tool, this bench and the rest of the "
        f"stack (Airflow idle) — other work on the machine shows in the load average: "
        + ", ".join(f"{k} {v[0]:.2f}" for k, v in la.items()) + " (1-min)."
    )
    lines = [method, "",
             "| kind | requests | errors | round-trip p50 ms | p95 | p99 | ES took p50 ms | p95 | p99 "
             "| encoding p50 ms | gateway overhead p50 ms | hits p50 |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for kind, label in (("keyword", "keyword (`GET /v1/search?mode=keyword`)"),
                        ("hybrid", "hybrid (`GET /v1/search`, default mode)"),
                        ("image", "image (`POST /v1/search/image`)")):
        series = r.seq.get(kind)
        if series is None:
            lines.append(f"| {label} | — | — | image search is off (no image encoder) | | | | | | | | |")
            continue
        took = series.took if kind != "image" else r.image_took
        enc = r.encoding.get(kind, [])
        mark = " (raw)" if kind == "image" else ""
        enc_cell = "0" if kind == "keyword" else f"{_median(enc):.1f}"
        if kind == "image" and "image decode" in r.encoding:
            enc_cell += (f" (decode {_median(r.encoding['image decode']):.1f} + encode "
                         f"{_median(r.encoding['image encode']):.1f})")
        overhead = _overhead(series, enc, took, kind == "image")
        err = f"{series.errors}" + (f" ({series.first_error[:80]})" if series.errors else "")
        lines.append(
            f"| {label} | {len(series.round_trip) + series.errors} | {err} | {_pct(series.round_trip, 50)} "
            f"| {_pct(series.round_trip, 95)} | {_pct(series.round_trip, 99)} | {_pct(took, 50)}{mark} "
            f"| {_pct(took, 95)}{mark} | {_pct(took, 99)}{mark} | {enc_cell} | {overhead:.1f} "
            f"| {_median(series.totals):,.0f} |")
    lines += ["", "Raw baseline: the requests the gateway makes, sent one at a time straight to Elasticsearch with "
                  "the Python client (same queries, in-process vectors, same filter), and the gateway's `Searcher` "
                  "called in this process (its Elasticsearch requests and Python work, without HTTP and FastAPI).",
              "", "| request | took p50 ms | p95 | p99 | round-trip p50 ms | p95 | p99 | note |",
              "|---|---:|---:|---:|---:|---:|---:|---|"]
    for row in r.raw:
        lines.append(f"| {row.name} | {_pct(row.took, 50)} | {_pct(row.took, 95)} | {_pct(row.took, 99)} "
                     f"| {_pct(row.round_trip, 50)} | {_pct(row.round_trip, 95)} | {_pct(row.round_trip, 99)} "
                     f"| {row.note} |")
    seq_rt = {k: _median(v.round_trip) for k, v in r.seq.items()}
    in_proc = {m: _median(row.round_trip) for row in r.raw for m in ("keyword", "hybrid")
               if row.name == f"Searcher.search in-process, {m} page"}
    lines += ["", "HTTP + FastAPI + response validation/serialisation (gateway round-trip p50 − in-process "
                  "Searcher p50): " + ", ".join(f"{m} {seq_rt[m] - in_proc[m]:.1f} ms" for m in in_proc
                                                 if m in seq_rt) + "."]
    def raw_took(prefix: str) -> float:
        return next((_median(row.took) for row in r.raw if row.name.startswith(prefix)), float("nan"))

    hybrid = r.seq.get("hybrid")
    if hybrid and hybrid.round_trip:
        lines += ["", f"**Where the hybrid time goes (p50):** round-trip {_median(hybrid.round_trip):.0f} ms, of which "
                      f"Elasticsearch {_median(hybrid.took):.0f} ms (its legs sent alone: kNN k={s.semantic_window} "
                      f"{raw_took('hybrid kNN leg'):.0f} ms, keyword top {s.semantic_window} "
                      f"{raw_took('hybrid keyword leg'):.0f} ms, facets {raw_took('facets'):.0f} ms; a k={PAGE_SIZE} "
                      f"kNN takes {raw_took(f'kNN text_vector k={PAGE_SIZE}'):.0f} ms), query encoding "
                      f"{_median(r.encoding.get('hybrid', [])):.0f} ms, and "
                      f"{_overhead(hybrid, r.encoding.get('hybrid', []), hybrid.took, False):.0f} ms in the gateway "
                      f"(HTTP, opening the point in time, JSON of the two {s.semantic_window}-hit legs, fusion, "
                      f"hydration, response)."]
    lines += ["", f"Throughput: {WRK_CONNECTIONS} concurrent connections for {WRK_SECONDS} s per mode against "
                  f"`GET /v1/search`, rotating through the {N_QUERIES} queries (filtered to `{INSTITUTION}`), on "
                  f"loopback; wrk `-t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{WRK_SECONDS}s --latency --timeout 60s` "
                  f"with a Lua script (latency percentiles from wrk's own histogram). CPU columns: cores used "
                  f"during the run (CPU seconds / wall) by the gateway's process tree, Elasticsearch's, the load "
                  f"tool and the whole machine (of 2)."
              + (f" **{r.wrk_missing}.**" if r.wrk_missing else ""),
              "", "| tool | mode | connections | duration s | requests | req/s | p50 ms | p90 ms | p99 ms | errors "
                  "| gateway cores | ES cores | load-tool cores | machine busy cores |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
    for ld in r.loads:
        c = ld.cpu
        lines.append(f"| {ld.tool} | {ld.mode} | {ld.connections} | {ld.seconds:.1f} | {ld.requests:,} "
                     f"| {ld.rps:.1f} | {ld.p50:.0f} | {ld.p90:.0f} | {ld.p99:.0f} | {ld.errors} "
                     f"| {c.get('gateway', 0):.2f} | {c.get('elasticsearch', 0):.2f} | {c.get('load tool', 0):.2f} "
                     f"| {c.get('machine', 0):.2f} |")
    ctx = r.contexts
    lines += ["", f"Open search contexts on the Elasticsearch node (`_nodes/stats`, mostly the points in time each "
                  f"page opens and leaves open for 5 min): {ctx.get('before', 0):,} before the sequential runs, "
                  f"{ctx.get('after sequential', 0):,} after them, {ctx.get('after throughput', 0):,} after the "
                  f"throughput runs.",
              "", "Bench time: " + ", ".join(f"{k} {v:.0f} s" for k, v in r.seconds.items())
              + ". Remove the bench assets: `.venv/bin/python -m tests.bench.latency --remove`."]
    return "\n".join(lines)
