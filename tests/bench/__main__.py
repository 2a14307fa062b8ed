"""`make bench`: run the benchmarks against the running stack and print Markdown for docs/BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from services.settings import get_settings
from tests.helpers import ROOT

sys.path.insert(0, str(ROOT / "deploy" / "local"))

from tests.bench import (  # needs stacklib on the path
    classification,
    encoders,
    ingest,
    latency,
    quality,
    stack_memory,
    vectors,
)


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
               platform.processor())
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem_kib = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout
    return (f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · commit {rev.strip()} · {cpu} · "
            f"{len(os.sched_getaffinity(0))} cores · {mem_kib / 1048576:.0f} GiB · Python "
            f"{platform.python_version()}")


BENCHES = ("stack", "ingest", "encoders", "vectors", "classification", "quality", "latency")


def main() -> None:
    wanted = sys.argv[1:] or list(BENCHES)
    settings = get_settings()
    print(f"Machine: {machine()}\n")
    if "stack" in wanted:
        print("## Resident memory of the running stack (tests/bench/stack_memory.py)\n")
        print(stack_memory.report(settings), flush=True)
    if "ingest" in wanted:
        print("\n## Ingestion through the real DAG (tests/bench/ingest.py)\n")
        print(ingest.measure(settings), flush=True)
    if "encoders" in wanted:
        print("\n## Encoders: raw throughput against inside the pipeline (tests/bench/encoders.py)\n")
        print(encoders.measure(settings), flush=True)
    if "vectors" in wanted:
        print("\n## Vector search: HNSW recall against exact search (tests/bench/vectors.py)\n")
        print(vectors.measure(settings), flush=True)
    if "classification" in wanted:
        print("\n## Classification accuracy (tests/bench/classification.py)\n")
        print(classification.measure(settings), flush=True)
    if "quality" in wanted:
        print("\n## Search quality: keyword, semantic, hybrid (tests/bench/quality.py)\n")
        print(quality.measure(settings), flush=True)
    if "latency" in wanted:
        print("\n## Search latency at 100,000 assets (tests/bench/latency.py)\n")
        print(latency.measure(settings), flush=True)


if __name__ == "__main__":
    main()
