"""Load and soak (issue 19 item 7): 64 connections for 60 s on keyword and on hybrid search (wrk), then a mixed soak
(search, asset, OAI-PMH, dumps) with 16 concurrent clients; the gateway's memory and open files, and Elasticsearch's
open search contexts, sampled throughout and read again after.

Data: the latency bench's `bench-latency` assets (the first WENYUAN_BENCH_SOAK_ASSETS, default 2,000, indexed if
fewer are there; `python -m tests.bench.latency --remove` deletes them), every request with a partner app's key.
`.venv/bin/python -m tests.bench soak` (WENYUAN_BENCH_SOAK_S, default 600: the soak's length in seconds;
WENYUAN_BENCH_SOAK_LOAD_S, default 60: each wrk run's).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from elasticsearch import Elasticsearch

from indexing.aliases import assets_alias, ensure_assets_index
from indexing.bulk import index_documents
from indexing.client import make_client
from indexing.query import Mode
from services.settings import Settings, get_settings
from tests.bench import latency_data, vectors
from tests.bench.latency import bench_key
from tests.bench.latency_load import WRK_SCRIPT, Load, _open_contexts, _search_paths, _service_pids, wrk_load

CONNECTIONS, LOAD_S, CLIENTS = 64, 60, 16


def _log(msg: str) -> None:
    print(f"[soak] {msg}", file=sys.stderr, flush=True)


@dataclass
class Sample:
    at_s: float
    rss_mib: float
    fds: int
    contexts: int


@dataclass
class Soak:
    seconds: float = 0.0
    requests: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    samples: list[Sample] = field(default_factory=list)


def _gateway(pids: list[int]) -> tuple[float, int]:
    """Resident MiB and open descriptors of the gateway's processes (master and workers)."""
    rss, fds = 0.0, 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            rss += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))) / 1024
            fds += len(os.listdir(f"/proc/{pid}/fd"))
        except (OSError, StopIteration):
            continue
    return rss, fds


def _setup(es: Elasticsearch, settings: Settings, n: int) -> int:
    alias = ensure_assets_index(es, settings, latency_data._encoders())
    have = latency_data.count_assets(es, alias)
    if have >= n:
        return have
    corpus, _, texts = vectors.corpus_and_queries(settings)
    pools, encoders = vectors._pools(), latency_data._encoders()
    for start in range(0, n, 1_000):
        index_documents(es, alias, latency_data._documents(start, min(start + 1_000, n), corpus, texts, pools,
                                                           encoders))
    es.indices.refresh(index=alias)
    return latency_data.count_assets(es, alias)


def _mix(qs: list[str], ids: list[str]) -> list[tuple[str, str]]:
    """(kind, path) in the order the soak's clients send them: mostly searches, as a catalogue's traffic is."""
    out: list[tuple[str, str]] = []
    for i, q in enumerate(qs):
        out.append(("keyword", _search_paths([q], Mode.KEYWORD)[0]))
        out.append(("hybrid", _search_paths([q], Mode.HYBRID)[0]))
        out.append(("asset", f"/v1/assets/{ids[i % len(ids)]}"))
        if i % 5 == 0:
            out.append(("oai", "/oai?verb=ListRecords&metadataPrefix=oai_dc"))
        if i % 20 == 0:
            out.append(("dump", "/v1/dumps/records.ndjson.gz"))
    return out


async def _soak(base: str, key: str, mix: list[tuple[str, str]], seconds: float, pids: list[int],
                es: Elasticsearch) -> Soak:
    out = Soak()
    started = time.perf_counter()
    deadline = started + seconds

    async def client(n: int) -> None:
        async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"},
                                     timeout=120) as http:
            i = n * 7
            while time.perf_counter() < deadline:
                kind, path = mix[i % len(mix)]
                i += 1
                try:
                    async with http.stream("GET", path) as resp:
                        async for _ in resp.aiter_bytes():
                            pass
                    out.requests[kind] += 1
                    if resp.status_code >= 400:
                        out.errors[f"{kind} {resp.status_code}"] += 1
                except httpx.HTTPError as exc:
                    out.errors[f"{kind} {type(exc).__name__}"] += 1

    async def sampler() -> None:
        while time.perf_counter() < deadline:
            rss, fds = _gateway(pids)
            contexts = await asyncio.to_thread(_open_contexts, es)
            out.samples.append(Sample(time.perf_counter() - started, rss, fds, contexts))
            _log(f"{out.samples[-1]}; {sum(out.requests.values()):,} requests, {sum(out.errors.values())} errors")
            await asyncio.sleep(30)

    await asyncio.gather(sampler(), *(client(n) for n in range(CLIENTS)))
    out.seconds = time.perf_counter() - started
    return out


def measure(settings: Settings) -> str:
    n = int(os.environ.get("WENYUAN_BENCH_SOAK_ASSETS", "2000"))
    seconds = float(os.environ.get("WENYUAN_BENCH_SOAK_S", "600"))
    load_s = int(os.environ.get("WENYUAN_BENCH_SOAK_LOAD_S", str(LOAD_S)))
    es = make_client(settings.es)
    have = _setup(es, settings, n)
    key = bench_key(settings)
    base = settings.gateway.public_url
    pids, how = _service_pids(settings)
    gateway = pids.get("gateway", [])
    qs = latency_data.queries()
    ids = [h["_id"] for h in es.search(index=assets_alias(settings.es), size=200, source=False,
                                       query={"term": {"institution": latency_data.INSTITUTION}})["hits"]["hits"]]
    before = (*_gateway(gateway), _open_contexts(es))
    loads: list[Load] = []
    wrk = shutil.which("wrk")
    for mode in (Mode.KEYWORD, Mode.HYBRID):
        if wrk is None:
            break
        _log(f"wrk {CONNECTIONS} connections {load_s} s: {mode.value}")
        script = (f'wrk.headers["Authorization"] = "Bearer {key}"\n'
                  + WRK_SCRIPT % ",\n".join(f'  "{p}"' for p in _search_paths(qs, mode)))
        loads.append(wrk_load(wrk, base, script, mode.value, load_s, pids, connections=CONNECTIONS))
    after_load = (*_gateway(gateway), _open_contexts(es))
    _log(f"soak {seconds:.0f} s, {CLIENTS} clients")
    soak = asyncio.run(_soak(base, key, _mix(qs, ids), seconds, gateway, es))
    time.sleep(5)
    after = (*_gateway(gateway), _open_contexts(es))
    es.close()

    lines = [f"`WENYUAN_BENCH_SOAK_S={seconds:.0f} .venv/bin/python -m tests.bench soak` (tests/bench/soak.py): "
             f"{have:,} `bench-latency` assets in the service alias; gateway {how}; a partner app's key on every "
             "request.", "",
             "| load | connections | seconds | requests | req/s | p50 ms | p99 ms | errors |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    lines += [f"| wrk {x.mode} | {x.connections} | {x.seconds:.0f} | {x.requests:,} | {x.rps:.1f} | {x.p50:.0f} | "
              f"{x.p99:.0f} | {x.errors} |" for x in loads]
    if wrk is None:
        lines.append("| wrk not installed: no 64-connection run | | | | | | | |")
    total = sum(soak.requests.values())
    lines += ["", f"Soak: {soak.seconds:.0f} s, {CLIENTS} clients, {total:,} requests ("
              + ", ".join(f"{k} {v:,}" for k, v in sorted(soak.requests.items())) + "), errors: "
              + (", ".join(f"{k} {v}" for k, v in sorted(soak.errors.items())) or "0") + ".", "",
              "| when | gateway RSS MiB | gateway open fds | ES open search contexts |", "|---|---:|---:|---:|",
              f"| before | {before[0]:.0f} | {before[1]} | {before[2]} |",
              f"| after the 64-connection runs | {after_load[0]:.0f} | {after_load[1]} | {after_load[2]} |"]
    lines += [f"| soak {s.at_s:.0f} s | {s.rss_mib:.0f} | {s.fds} | {s.contexts} |" for s in soak.samples]
    lines.append(f"| 5 s after the soak | {after[0]:.0f} | {after[1]} | {after[2]} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(measure(get_settings()))
