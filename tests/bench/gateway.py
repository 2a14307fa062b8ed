"""A gateway process of a benchmark's own: the production app under uvicorn, as deploy/local starts it,
on a free loopback port, with the benchmark's settings (its index prefix; the public's rate limit
raised so the measurement is never throttled; no image encoder unless asked; one process unless
`workers` says more). Stopped afterwards."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from services.settings import process_environment
from tests.helpers import ROOT
from tests.integration.live import free_port


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pids(pid: int) -> list[int]:
    """The worker processes of a uvicorn supervisor (`--workers N`, N > 1); none for a single process."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if ppid == pid and b"spawn_main" in command:
            found.append(int(proc.name))
    return sorted(found)


def wait_quiet(pid: int, idle_s: float = 3.0, timeout_s: float = 180.0) -> None:
    """Wait until the process (with its workers) has used under 5 % of a core for `idle_s` seconds (its
    start-up work done)."""

    def used() -> float:
        return sum(cpu_s(p) for p in [pid, *worker_pids(pid)] if Path(f"/proc/{p}").exists())

    deadline, idle_since, last = time.monotonic() + timeout_s, time.monotonic(), used()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = used()
        if now - last > 0.025:
            idle_since = time.monotonic()
        last = now
        if time.monotonic() - idle_since >= idle_s:
            return


@contextlib.contextmanager
def bench_gateway(prefix: str | None = None, workers: int | None = None, **env: str) -> Iterator[tuple[str, int]]:
    """(base URL, pid) of a gateway process of the benchmark's own (with `workers`: their supervisor); `env`
    adds WENYUAN_* settings."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = process_environment() | {"WENYUAN_GATEWAY__PORT": str(port), "WENYUAN_GATEWAY__PUBLIC_URL": base,
                                            "WENYUAN_ACCESS__ANONYMOUS_RATE_PER_MIN": str(10**8),
                                            "WENYUAN_MODELS__IMAGE_ENCODER": "none"} | env
    if prefix:
        environment["WENYUAN_ES__INDEX_PREFIX"] = prefix
    uvicorn = str(Path(sys.executable).parent / "uvicorn")
    # Its log goes to a file: a pipe nobody reads would fill up and block the gateway mid-benchmark.
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([uvicorn, "services.gateway.app:create_app", "--factory", "--host", "127.0.0.1",
                                 "--port", str(port), "--workers", str(workers or 1), "--no-access-log",
                                 "--log-level", "warning"],
                                env=environment, cwd=ROOT, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 120
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                        break
                if time.monotonic() > deadline or proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"the bench gateway did not start: {log.read()[-2000:].decode()}")
                time.sleep(0.2)
            wait_quiet(proc.pid)  # the text encoder loads in the background at start
            yield base, proc.pid
        finally:
            proc.terminate()
            proc.wait(timeout=30)
