"""Search latency through the gateway with 100,000 indexed assets, against Elasticsearch on its own.

Setup puts 100,000 synthetic assets of one institution, `bench-latency`, into the service alias
(the index the gateway searches), unless a count query finds them there already: AssetRecord
documents (tests/factories.make_asset) whose titles and descriptions come from the vectors bench's
catalogue generator, with that bench's cached real USE text vectors (each of the 50,000 used twice,
the second time with its text's segments in another order and another segment as title), taxonomy
categories and materials, a period, a licence and one image with a random unit 1280-d vector and a
pHash, their search terms made by the enrichment's own `search_terms` (jieba/Snowball), and the text vector
copied as the title vector (the title leg's kNN cost is real; its ranking is not what this bench measures).
They stay in the index afterwards, so a re-run is quick; `python -m tests.bench.latency
--remove` deletes them.

Then, every request filtered to `institution=bench-latency`:

- sequential: keyword, hybrid and image searches through the gateway one at a time (httpx), client
  round-trip against Elasticsearch's own `took` (`took_ms` of the page), with the query encoding
  measured apart in this process, so gateway overhead = round-trip − took − encoding;
- the raw baseline: the same kinds of requests straight to Elasticsearch with the Python client,
  and the gateway's Searcher called in-process (its Elasticsearch requests without HTTP/FastAPI);
- throughput: wrk, 16 connections for 30 s per mode, rotating through the queries.
"""

from __future__ import annotations

import os
import shutil
import sys
import time

import httpx

from indexing.aliases import assets_alias
from indexing.client import make_client
from indexing.query import Mode
from services.settings import Settings, get_settings
from tests.bench.latency_data import (
    INSTITUTION,
    N_ASSETS,
    N_QUERIES,
    N_WARMUP,
    PAGE_SIZE,
    Setup,
    _encoders,
    _log,
    count_assets,
    images,
    queries,
    remove,
    setup,
)
from tests.bench.latency_load import (
    WRK_CONNECTIONS,
    WRK_SCRIPT,
    WRK_SECONDS,
    WRK_THREADS,
    Load,
    _Cpu,
    _index_segments,
    _open_contexts,
    _search_paths,
    _service_pids,
    run_async,
    run_wrk,
)
from tests.bench.latency_raw import Raw, raw_baseline
from tests.bench.latency_report import Results, report
from tests.bench.latency_sequential import Series, encode_images, encode_texts, gateway_image, gateway_search

# What the other benches (access, throughput) take from this one.
__all__ = ["INSTITUTION", "N_ASSETS", "N_QUERIES", "N_WARMUP", "PAGE_SIZE", "WRK_CONNECTIONS", "WRK_SCRIPT",
           "WRK_SECONDS", "WRK_THREADS", "Load", "Raw", "Setup", "_Cpu", "_encoders", "_search_paths", "_service_pids",
           "bench_key", "count_assets", "images", "measure", "queries", "raw_baseline", "remove", "run_async",
           "run_wrk", "setup"]

BENCH_RATE = 100_000  # requests a minute: the most a key may have


def bench_key(settings: Settings) -> str:
    """A key of a partner app of the benchmark's own (made anew each run)."""
    from services.access.db import Database, upgrade
    from tests.access import app_key

    upgrade(settings.db)
    db = Database(settings.db)
    try:
        return app_key(db, rate=BENCH_RATE)[0]
    finally:
        db.close()


def measure(settings: Settings) -> str:
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    loadavg: dict[str, tuple[float, float, float]] = {"start": os.getloadavg()}
    es = make_client(settings.es)
    alias = assets_alias(settings.es)
    encoders = _encoders()
    try:
        setup_result = setup(es, settings, encoders)
        seconds["setup"] = time.perf_counter() - started
        if setup_result.failed:
            _log(f"{setup_result.failed:,} documents refused, e.g. {setup_result.example_failure}")
        segments, lucene_docs = _index_segments(es, alias)
        alias_docs = int(es.count(index=alias)["count"])
        bench_docs = count_assets(es, alias)
        pids, gateway_how = _service_pids(settings)
        # The load carries a partner app's key: the same filter as the public's (an app without grants
        # sees what everyone sees), with a rate limit high enough that the gateway never throttles it.
        key = bench_key(settings)
        gateway_how += ("; every request carries a partner app's key (the public's visibility filter, "
                        f"{BENCH_RATE:,} requests/min)")
        qs = queries()
        warm_qs, bench_qs = qs[:N_WARMUP], qs[N_WARMUP:]
        pictures = images()
        warm_pics, bench_pics = pictures[:N_WARMUP], pictures[N_WARMUP:]
        has_images = encoders["image"] is not None

        # Encoding is timed in this process just before each gateway request (same machine load), and its
        # vectors are those of the raw kNN requests.
        encoding: dict[str, list[float]] = {"keyword": [0.0] * len(bench_qs), "hybrid": [], "image decode": [],
                                            "image encode": []}
        text_vecs: list[list[float]] = []
        pic_vecs: dict[int, list[float]] = {}

        def encode_text(k: int) -> None:
            ms, vec = encode_texts([bench_qs[k]])
            encoding["hybrid"] += ms
            text_vecs.extend(vec)

        def encode_picture(k: int) -> None:
            decode, encode, vec = encode_images(settings, [bench_pics[k]])
            encoding["image decode"] += decode
            encoding["image encode"] += encode
            pic_vecs[k] = vec[0]

        encode_texts(warm_qs)
        if has_images:
            encode_images(settings, warm_pics)

        t0 = time.perf_counter()
        loadavg["sequential"] = os.getloadavg()
        contexts = {"before": _open_contexts(es)}
        seq: dict[str, Series] = {}
        with httpx.Client(base_url=settings.gateway.public_url, timeout=120,
                          headers={"Authorization": f"Bearer {key}"}) as client:
            for mode in (Mode.KEYWORD, Mode.HYBRID):
                _log(f"gateway {mode.value}: {N_WARMUP} warm-up + {len(bench_qs)} sequential requests")
                gateway_search(client, warm_qs, mode)
                seq[mode.value] = gateway_search(client, bench_qs, mode,
                                                 encode_text if mode is Mode.HYBRID else None)
            if has_images:
                _log(f"gateway image: {N_WARMUP} warm-up + {len(bench_qs)} sequential requests")
                gateway_image(client, warm_pics, N_WARMUP)
                seq["image"] = gateway_image(client, bench_pics, len(bench_qs), encode_picture)
        encoding["image"] = [d + e for d, e in zip(encoding["image decode"], encoding["image encode"], strict=True)]
        image_vecs = [pic_vecs[k % len(bench_pics)] for k in range(len(bench_qs))] if has_images else []
        contexts["after sequential"] = _open_contexts(es)
        seconds["sequential"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        _log("raw Elasticsearch baseline")
        _, warm_vecs = encode_texts(warm_qs)
        raw_baseline(es, settings, warm_qs, warm_vecs, image_vecs[:N_WARMUP])  # warm-up
        raw = raw_baseline(es, settings, bench_qs, text_vecs, image_vecs)
        image_raw = next((r for r in raw if r.name.startswith("image kNN")), None)
        image_took = image_raw.took if image_raw and has_images else []
        seconds["raw baseline"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        loadavg["throughput"] = os.getloadavg()
        loads: list[Load] = []
        wrk = shutil.which("wrk")
        missing = "" if wrk else ("wrk is not installed (`apt-get install -y wrk`); the throughput table uses an "
                                  "asyncio httpx client instead")
        if missing:
            _log(missing)
        for mode in (Mode.KEYWORD, Mode.HYBRID):
            _log(f"throughput {mode.value}: {WRK_CONNECTIONS} connections for {WRK_SECONDS} s")
            if wrk:
                loads.append(run_wrk(wrk, settings.gateway.public_url, bench_qs, mode, pids, key))
            else:
                loads.append(run_async(settings.gateway.public_url, bench_qs, mode, pids, key))
        contexts["after throughput"] = _open_contexts(es)
        seconds["throughput"] = time.perf_counter() - t0
        loadavg["end"] = os.getloadavg()
        nodes = es.nodes.info(node_id="_local", filter_path="nodes.*.version")["nodes"]
        es_version = ", ".join(sorted({str(n["version"]) for n in nodes.values()}))
    finally:
        es.close()
    seconds["total"] = time.perf_counter() - started
    _log(f"done in {seconds['total']:.0f} s")
    return report(settings, Results(setup_result, seq, encoding, raw, loads, gateway_how, es_version, segments,
                                    lucene_docs, alias_docs, bench_docs, loadavg, contexts, seconds, image_took,
                                    missing))




if __name__ == "__main__":
    from services.settings import get_settings

    if sys.argv[1:] == ["--remove"]:
        print(f"deleted {remove(get_settings()):,} {INSTITUTION} assets")
    else:
        print(measure(get_settings()))
