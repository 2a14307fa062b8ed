"""Keyword search throughput at 16 connections: the gateway (one worker per core) against Elasticsearch alone.

The queries are the latency bench's (tests/bench/latency.py: 200 zh/en keyword queries filtered to the
`bench-latency` institution, whose 100,000 assets that bench's setup indexes; with fewer there the report
says how many). First each query goes once through the real gateway app in this process, its
Elasticsearch client recording every request it sends (method, path, parameters, body): those are "the
same queries' Elasticsearch requests". Then, in one run, alternating:

- Elasticsearch alone: wrk POSTs the recorded requests straight to Elasticsearch, rotating through them
  (a query that costs the gateway k requests counts as k requests, so queries/s = requests/s ÷ k);
- the gateway: wrk GETs `/v1/search?q=…&mode=keyword&institution=bench-latency` with a partner app's key
  (the public's visibility filter), at `gateway.workers` = the usable cores, rate limits in Redis;
- once more with one worker, for the effect of the workers.

wrk: `-t2 -c16`, the same duration for each run; CPU columns are cores used, per process tree.
Run: `.venv/bin/python -m tests.bench throughput`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from indexing.aliases import assets_alias
from indexing.client import make_client
from indexing.query import Mode
from services.gateway.app import create_app
from services.settings import Settings
from tests.bench import latency
from tests.bench.gateway import bench_gateway, worker_pids
from tests.bench.latency import N_WARMUP, WRK_CONNECTIONS, WRK_THREADS, Load
from tests.bench.latency_load import wrk_load

SECONDS = 15  # per wrk run
ROUNDS = 3  # Elasticsearch and the gateway alternate this many times (drift on a busy machine averages out)
TARGET = 0.8  # issue 15: gateway keyword req/s >= 0.8 x Elasticsearch alone


def _log(msg: str) -> None:
    print(f"[bench throughput] {msg}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class EsRequest:
    method: str
    path: str  # with the query string
    body: str | None
    content_type: str

    @property
    def is_pit(self) -> bool:
        return "/_pit" in self.path


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(map(str, value))
    return str(value)


def _json(value: Any) -> str:
    """A body or NDJSON line as the client sends it (pre-serialized bytes as they are)."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode()
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _es_request(method: str, path: str, params: Any, body: Any) -> EsRequest:
    query = urlencode({k: _param(v) for k, v in (params or {}).items()})
    if isinstance(body, list | tuple):  # _msearch and _bulk: NDJSON
        text: str | None = "".join(_json(line).rstrip("\n") + "\n" for line in body)
        content_type = "application/x-ndjson"
    else:
        text = None if body is None else _json(body)
        content_type = "application/json"
    return EsRequest(method, path + (f"?{query}" if query else ""), text, content_type)


def record_requests(settings: Settings, qs: Sequence[str], key: str) -> list[list[EsRequest]]:
    """The Elasticsearch requests the gateway's keyword search sends for each query (the real app, in-process)."""
    sent: list[EsRequest] = []

    class Recording(Elasticsearch):
        def perform_request(self, method: str, path: str, *, params: Any = None, headers: Any = None,
                            body: Any = None, endpoint_id: str | None = None, path_parts: Any = None) -> Any:
            sent.append(_es_request(method, path, params, body))
            return super().perform_request(method, path, params=params, headers=headers, body=body,
                                           endpoint_id=endpoint_id, path_parts=path_parts)

    out: list[list[EsRequest]] = []
    with TestClient(create_app(settings)) as client:
        client.app.state.es = Recording(settings.es.url, request_timeout=settings.es.request_timeout_s)  # type: ignore[attr-defined]
        for path in latency._search_paths(qs, Mode.KEYWORD):
            sent.clear()
            resp = client.get(path, headers={"Authorization": f"Bearer {key}"})
            resp.raise_for_status()
            out.append(list(sent))
    return out


def _lua_string(text: str) -> str:
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


DONE = latency.WRK_SCRIPT[latency.WRK_SCRIPT.index("done = function"):].replace("%%", "%")


def _es_script(requests: Sequence[EsRequest]) -> str:
    rows = ",\n".join(f"  {{{_lua_string(r.method)}, {_lua_string(r.path)}, {_lua_string(r.body or '')}, "
                      f"{_lua_string(r.content_type)}}}" for r in requests)
    return (f"local reqs = {{\n{rows}\n}}\nlocal n = 0\nrequest = function()\n  n = n + 1\n"
            "  local r = reqs[(n - 1) % #reqs + 1]\n"
            "  return wrk.format(r[1], r[2], {[\"Content-Type\"] = r[4]}, r[3])\nend\n" + DONE)


def _gateway_script(qs: Sequence[str], key: str) -> str:
    return (f'wrk.headers["Authorization"] = "Bearer {key}"\n'
            + latency.WRK_SCRIPT % ",\n".join(f'  "{p}"' for p in latency._search_paths(qs, Mode.KEYWORD)))


def run_wrk(wrk: str, url: str, script: str, label: str, pids: dict[str, list[int]]) -> Load:
    return wrk_load(wrk, url, script, label, SECONDS, pids)


N_PAGE_QUERIES = 10


@dataclass
class PageTimes:
    cold: list[float]  # ms from navigation to the first result card, empty cache (a new browser context)
    submit: list[float]  # ms from the click on Search to the first result card in the page (its own clock)
    queued: list[float] = field(default_factory=list)  # of `submit`: click → the /v1/search request leaves
    server: list[float] = field(default_factory=list)  # of `submit`: request sent → first byte of the answer
    static_first: tuple[int, int] = (0, 0)  # /static/ files of the first load: (from the server, from the cache)
    static_again: tuple[int, int] = (0, 0)  # the same on the next visit in that browser


# Before a submit: mark the cards shown, note (in the page's clock) the click and the first new card.
MARK = """() => {
  document.querySelectorAll('#results .card').forEach((c) => { c.dataset.old = '1'; });
  performance.clearResourceTimings();
  window.__bench = {};
  new MutationObserver((_, observer) => {
    if (document.querySelector('#results .card:not([data-old])')) {
      window.__bench.card = performance.now();
      observer.disconnect();
    }
  }).observe(document.getElementById('results'), { childList: true, subtree: true });
  const noteClick = () => { window.__bench.click = performance.now(); };
  document.addEventListener('click', noteClick, { once: true, capture: true });
}"""
TIMES = """() => {
  const search = performance.getEntriesByType('resource').filter((e) => e.name.includes('/v1/search?')).pop();
  return { ...window.__bench, requestStart: search.requestStart, responseStart: search.responseStart };
}"""


def first_results(base: str, qs: Sequence[str]) -> PageTimes:
    """The search page in the e2e tests' browser (Debian's chromium under Playwright): how soon results show."""
    from playwright.sync_api import Request, sync_playwright

    from tests.e2e.conftest import CHROMIUM, FLAGS

    out = PageTimes([], [])
    start = f"{base}/?{urlencode({'institution': latency.INSTITUTION})}"
    static: list[bool] = []  # per /static/ request of the current load: answered by the browser's cache

    def finished(request: Request) -> None:
        if "/static/" in request.url:
            static.append(request.sizes()["responseBodySize"] < 0)  # Chromium's mark of a cache hit

    def tally() -> tuple[int, int]:
        hits = sum(static)
        counts = (len(static) - hits, hits)
        static.clear()
        return counts

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            for i, q in enumerate(qs):
                context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
                page = context.new_page()
                page.on("requestfinished", finished)
                t0 = time.perf_counter()
                page.goto(f"{start}&{urlencode({'q': q})}")
                page.locator("#results .card").first.wait_for(timeout=30_000)
                out.cold.append((time.perf_counter() - t0) * 1000)
                page.get_by_label("Words in Chinese or English").fill(qs[(i + 1) % len(qs)])
                page.evaluate(MARK)
                page.get_by_role("button", name="Search", exact=True).click()
                page.locator("#results .card:not([data-old])").first.wait_for(timeout=30_000)
                times = page.evaluate(TIMES)
                out.submit.append(times["card"] - times["click"])
                out.queued.append(times["requestStart"] - times["click"])
                out.server.append(times["responseStart"] - times["requestStart"])
                first = tally()
                page.goto(f"{start}&{urlencode({'q': q})}")
                page.locator("#results .card").first.wait_for(timeout=30_000)
                page.wait_for_load_state("load")
                if i == 0:
                    out.static_first, out.static_again = first, tally()
                static.clear()
                context.close()
        finally:
            browser.close()
    return out


@dataclass
class Run:
    what: str
    load: Load
    per_query: float  # requests per query: queries/s = requests/s / per_query

    @property
    def qps(self) -> float:
        return self.load.rps / self.per_query


def measure(settings: Settings) -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        return "wrk is not installed (`python3 deploy/local/stack.py install` adds it); nothing measured."
    started = time.perf_counter()
    load_start = os.getloadavg()[0]
    es = make_client(settings.es)
    try:
        assets = latency.count_assets(es, assets_alias(settings.es))
        pids, _ = latency._service_pids(settings)
    finally:
        es.close()
    if not assets:
        return (f"No `{latency.INSTITUTION}` assets in the index: run `.venv/bin/python -m tests.bench latency` "
                "first (its setup indexes them).")
    cores = len(os.sched_getaffinity(0))
    key = latency.bench_key(settings)
    qs = latency.queries()[N_WARMUP:]
    _log(f"recording the Elasticsearch requests of {len(qs)} keyword queries ({assets:,} assets)")
    recorded = record_requests(settings, qs, key)
    pit_opens = sum(r.is_pit for reqs in recorded for r in reqs)
    replay = [r for reqs in recorded for r in reqs if not r.is_pit]
    per_query = len(replay) / len(qs)
    kinds = sorted({re.sub(r"\?.*", "", r.path) for r in replay})
    es_pids = {"elasticsearch": pids.get("elasticsearch", [])}
    runs: list[Run] = []
    pages = PageTimes([], [])
    for workers in (cores, 1):
        with bench_gateway(workers=workers) as (base, pid):
            gw_pids = es_pids | {"gateway": [pid, *worker_pids(pid)]}
            _log(f"gateway with {workers} worker(s) at {base}: warm-up")
            run_wrk(wrk, base, _gateway_script(qs, key), "warm-up", gw_pids)
            for _ in range(ROUNDS if workers == cores else 1):
                if workers == cores:
                    _log("Elasticsearch alone")
                    runs.append(Run("Elasticsearch alone", run_wrk(wrk, settings.es.url, _es_script(replay), "es",
                                                                   gw_pids), per_query))
                _log(f"gateway, {workers} worker(s)")
                runs.append(Run(f"gateway, {workers} worker{'s' if workers > 1 else ''}",
                                run_wrk(wrk, base, _gateway_script(qs, key), "gateway", gw_pids), 1.0))
            if workers == cores:
                _log(f"the search page in chromium: {N_PAGE_QUERIES} queries")
                pages = first_results(base, qs[:N_PAGE_QUERIES])
    loads = (load_start, os.getloadavg()[0])
    return report(runs, pages, assets, cores, per_query, pit_opens, kinds, len(qs), time.perf_counter() - started,
                  loads)


def report(runs: list[Run], pages: PageTimes, assets: int, cores: int, per_query: float, pit_opens: int,
           kinds: list[str], n_queries: int, seconds: float, loadavg: tuple[float, float] = (0.0, 0.0)) -> str:
    def cores_of(load: Load, name: str) -> str:
        return f"{load.cpu.get(name, 0):.2f}"

    lines = ["| run | requests/s | queries/s | p50 ms | p99 ms | errors | CPU gateway | CPU ES | CPU wrk |",
             "|---|---:|---:|---:|---:|---|---:|---:|---:|"]
    for run in runs:
        ld = run.load
        lines.append(f"| {run.what} | {ld.rps:.1f} | {run.qps:.1f} | {ld.p50:.1f} | {ld.p99:.1f} | {ld.errors} | "
                     f"{cores_of(ld, 'gateway')} | {cores_of(ld, 'elasticsearch')} | {cores_of(ld, 'load tool')} |")
    es_qps = [r.qps for r in runs if r.what == "Elasticsearch alone"]
    gw_qps = [r.qps for r in runs if r.what.startswith(f"gateway, {cores} worker")]
    one = [r.qps for r in runs if r.what == "gateway, 1 worker"]
    ratio = sum(gw_qps) / sum(es_qps) if es_qps and sum(es_qps) else float("nan")
    verdict = "meets" if ratio >= TARGET else "is short of"
    lines += ["", f"**Ratio: gateway ({cores} workers) {sum(gw_qps) / max(len(gw_qps), 1):.1f} queries/s ÷ "
              f"Elasticsearch alone {sum(es_qps) / max(len(es_qps), 1):.1f} = {ratio:.2f}** ({verdict} the "
              f"{TARGET} target; per round: "
              + ", ".join(f"{g / e:.2f}" for g, e in zip(gw_qps, es_qps, strict=False) if e) + ")"
              + (f"; one worker: {one[0]:.1f} queries/s." if one else "."),
              "",
              f"{n_queries} keyword queries over {assets:,} `{latency.INSTITUTION}` assets"
              + ("" if assets >= latency.N_ASSETS else f" (**fewer than the {latency.N_ASSETS:,} of the full "
                                                       "bench: setup not finished**)")
              + f"; the gateway sends {per_query:.2f} Elasticsearch request(s) per query ({', '.join(kinds)})"
              + (f", and opened {pit_opens} point(s) in time for {n_queries} queries (not replayed)"
                 if pit_opens else ", no point in time")
              + f". wrk `-t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{SECONDS}s`, runs alternating, {seconds:.0f} s in all; "
              "no Accept-Encoding (answers uncompressed). CPU columns: cores used during the run. Machine load "
              f"(1-min average, of {cores} cores): {loadavg[0]:.1f} at the start, {loadavg[1]:.1f} at the end."]

    def stats(ms: list[float]) -> str:
        ordered = sorted(ms)
        return (f"median {ordered[len(ordered) // 2]:.0f} ms, max {ordered[-1]:.0f} ms"
                f" ({sum(m <= 1000 for m in ms)}/{len(ms)} within 1 s)") if ms else "—"

    lines += ["", f"**The search page** (Debian's chromium under Playwright, as tests/e2e drives it; the gateway "
              f"with {cores} workers; `/?institution={latency.INSTITUTION}&q=…`, the page's own search):",
              "",
              f"- click on Search → first result card (the page's own clock), page loaded: {stats(pages.submit)}; "
              f"of which waiting for a connection (the previous results' images hold the browser's six): "
              f"{stats(pages.queued)}, and the gateway's answer to its first byte: {stats(pages.server)};",
              f"- navigation → first result card, empty cache (a new browser context): {stats(pages.cold)};",
              f"- static files of the first visit: {pages.static_first[0]} from the gateway, "
              f"{pages.static_first[1]} from the cache; of the next visit: {pages.static_again[0]} from the "
              f"gateway, {pages.static_again[1]} from the browser's cache (versioned URLs, immutable)."]
    return "\n".join(lines)


def page_only() -> str:
    """The search page part alone, against a bench gateway with a worker per core."""
    with bench_gateway(workers=len(os.sched_getaffinity(0))) as (base, _):
        pages = first_results(base, latency.queries()[N_WARMUP:N_WARMUP + N_PAGE_QUERIES])
    return report([], pages, 0, len(os.sched_getaffinity(0)), 1.0, 0, [], 0, 0.0).split("**The search page**")[1]


if __name__ == "__main__":
    from services.settings import get_settings

    print(page_only() if "--page" in sys.argv else measure(get_settings()))
