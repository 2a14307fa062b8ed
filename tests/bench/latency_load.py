"""Search latency bench: throughput (wrk, or an asyncio httpx client without it, 16 connections for 30 s per mode)
and what the stack's processes are and use meanwhile."""

from __future__ import annotations

import asyncio
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import httpx
import numpy as np
from elasticsearch import Elasticsearch

from indexing.query import Mode
from services.settings import PROJECT_ROOT, Settings
from tests.bench.latency_data import INSTITUTION
from tests.bench.latency_sequential import _ms

WRK_THREADS, WRK_CONNECTIONS, WRK_SECONDS = 2, 16, 30


# ---------- throughput ----------

@dataclass
class Load:
    tool: str
    mode: str
    connections: int
    seconds: float
    requests: int = 0
    p50: float = 0.0
    p90: float = 0.0
    p99: float = 0.0
    errors: str = ""
    cpu: dict[str, float] = field(default_factory=dict)  # cores used during the run, per process group
    note: str = ""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _search_paths(qs: Sequence[str], mode: Mode) -> list[str]:
    return ["/v1/search?" + urlencode({"q": q, "mode": mode.value, "institution": INSTITUTION}) for q in qs]


WRK_SCRIPT = """
local paths = {
%s
}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n - 1) %% #paths + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK_RESULT requests=%%d duration_us=%%d p50_us=%%d p90_us=%%d p99_us=%%d " ..
    "connect=%%d read=%%d write=%%d status=%%d timeout=%%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


class _Cpu:
    """CPU seconds of the gateway's and Elasticsearch's process trees, of this process's children, of the machine."""

    def __init__(self, pids: dict[str, list[int]]) -> None:
        self.pids = pids
        self.start = self._sample()

    @staticmethod
    def _ticks(pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _sample(self) -> dict[str, float]:
        out = {name: sum(self._ticks(p) for p in pids) for name, pids in self.pids.items()}
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        out["load tool"] = children.ru_utime + children.ru_stime
        cpu = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        out["machine"] = (sum(cpu) - cpu[3] - cpu[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait
        out["wall"] = time.perf_counter()
        return out

    def cores(self) -> dict[str, float]:
        end = self._sample()
        wall = end["wall"] - self.start["wall"]
        return {k: (end[k] - self.start[k]) / wall for k in end if k != "wall"}


def run_wrk(wrk: str, base_url: str, qs: Sequence[str], mode: Mode, pids: dict[str, list[int]], key: str) -> Load:
    script = (f'wrk.headers["Authorization"] = "Bearer {key}"\n'
              + WRK_SCRIPT % ",\n".join(f'  "{p}"' for p in _search_paths(qs, mode)))
    return wrk_load(wrk, base_url, script, mode.value, WRK_SECONDS, pids)


def wrk_load(wrk: str, url: str, script: str, label: str, seconds: int, pids: dict[str, list[int]],
             connections: int = WRK_CONNECTIONS) -> Load:
    """wrk with a Lua script ending in WRK_SCRIPT's `done` (its WRK_RESULT line), the CPU of `pids` sampled."""
    out = Load("wrk", label, connections, seconds)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "load.lua"
        path.write_text(script, encoding="utf-8")
        cmd = [wrk, f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "60s",
               "-s", str(path), url]
        cpu = _Cpu(pids)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
        out.cpu = cpu.cores()
    m = re.search(r"WRK_RESULT (.*)", proc.stdout)
    if proc.returncode != 0 or not m:
        out.errors = f"wrk failed (exit {proc.returncode}): {(proc.stderr or proc.stdout)[-300:]}"
        return out
    r = {k: int(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
    out.requests, out.seconds = r["requests"], r["duration_us"] / 1e6
    out.p50, out.p90, out.p99 = r["p50_us"] / 1000, r["p90_us"] / 1000, r["p99_us"] / 1000
    errs = {k: r[k] for k in ("connect", "read", "write", "status", "timeout") if r[k]}
    out.errors = ", ".join(f"{k} {v}" for k, v in errs.items()) or "0"
    rps = re.search(r"Requests/sec:\s+([\d.]+)", proc.stdout)
    out.note = f"wrk's own Requests/sec {rps.group(1)}" if rps else ""
    return out


def run_async(base_url: str, qs: Sequence[str], mode: Mode, pids: dict[str, list[int]], key: str) -> Load:
    """Fallback without wrk: 16 asyncio workers on one httpx.AsyncClient (the client shares the 2 cores)."""
    out = Load("httpx asyncio (wrk not found)", mode.value, WRK_CONNECTIONS, WRK_SECONDS)
    paths = _search_paths(qs, mode)
    latencies: list[float] = []
    errors = 0

    async def worker(client: httpx.AsyncClient, offset: int, deadline: float) -> None:
        nonlocal errors
        k = offset
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                resp = await client.get(paths[k % len(paths)])
                if resp.status_code == 200:
                    latencies.append(_ms(t0))
                else:
                    errors += 1
            except httpx.HTTPError:
                errors += 1
            k += 1

    async def main() -> float:
        limits = httpx.Limits(max_connections=WRK_CONNECTIONS)
        async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits,
                                     headers={"Authorization": f"Bearer {key}"}) as client:
            t0 = time.perf_counter()
            await asyncio.gather(*(worker(client, i, t0 + WRK_SECONDS) for i in range(WRK_CONNECTIONS)))
            return time.perf_counter() - t0

    cpu = _Cpu(pids)
    out.seconds = asyncio.run(main())
    out.cpu = cpu.cores()
    out.cpu["load tool"] = out.cpu.get("machine", 0) - out.cpu.get("gateway", 0) - out.cpu.get("elasticsearch", 0)
    out.requests = len(latencies)
    if latencies:
        out.p50, out.p90, out.p99 = (float(np.percentile(latencies, p)) for p in (50, 90, 99))
    out.errors = str(errors)
    out.note = "load-tool CPU = machine − gateway − ES (the client runs in this process)"
    return out


# ---------- the stack ----------

def _service_pids(settings: Settings) -> tuple[dict[str, list[int]], str]:
    """Process trees of the gateway and Elasticsearch, and how the gateway was started."""
    deploy = str(PROJECT_ROOT / "deploy" / "local")
    if deploy not in sys.path:
        sys.path.insert(0, deploy)
    from stacklib import procs
    from stacklib.services import all_services
    from tests.bench.stack_memory import _children, _descendants

    tree = _children()
    pids: dict[str, list[int]] = {}
    how = "gateway not found"
    for svc in all_services(settings):
        if svc.name not in ("gateway", "elasticsearch") or (pid := procs.live_pid(svc.pid_file)) is None:
            continue
        pids[svc.name] = _descendants(pid, tree)
        if svc.name == "gateway":
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
            workers = argv[argv.index("--workers") + 1] if "--workers" in argv else "1 (no --workers flag)"
            how = (f"uvicorn `{Path(argv[1]).name} {' '.join(a for a in argv[2:] if a)}`: workers {workers}, "
                   f"{len(pids[svc.name])} process(es)")
    return pids, how


def _open_contexts(es: Elasticsearch) -> int:
    stats = es.nodes.stats(metric="indices", index_metric="search")
    return sum(int(n["indices"]["search"]["open_contexts"]) for n in stats["nodes"].values())


def _index_segments(es: Elasticsearch, alias: str) -> tuple[int, int]:
    primaries = es.indices.stats(index=alias, metric="docs,segments")["_all"]["primaries"]
    return int(primaries["segments"]["count"]), int(primaries["docs"]["count"])
