"""`make bench`: run the benchmarks against the running stack and print Markdown for docs/BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from services.settings import Settings, get_settings
from tests.helpers import ROOT

sys.path.insert(0, str(ROOT / "deploy" / "local"))

from tests.bench import (  # needs stacklib on the path
    access,
    classification,
    dumps,
    encoders,
    iiif,
    ingest,
    latency,
    media,
    media_av,
    media_documents,
    media_models,
    quality,
    quality_images,
    scaling,
    soak,
    stack_memory,
    throughput,
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


# name → (section title, the module's entry point); `make bench` runs them all, in this order.
BENCHES: dict[str, tuple[str, Callable[[Settings], str]]] = {
    "stack": ("Resident memory of the running stack (tests/bench/stack_memory.py)", stack_memory.report),
    "ingest": ("Ingestion through the real DAG (tests/bench/ingest.py)", ingest.measure),
    "encoders": ("Encoders: raw throughput against inside the pipeline (tests/bench/encoders.py)", encoders.measure),
    "vectors": ("Vector search: HNSW recall against exact search (tests/bench/vectors.py)", vectors.measure),
    "classification": ("Classification accuracy (tests/bench/classification.py)", classification.measure),
    "quality": ("Search quality: keyword, semantic, hybrid (tests/bench/quality.py)", quality.measure),
    "quality-images": ("Image search quality: same-object views, service against the raw model "
                       "(tests/bench/quality_images.py)", quality_images.measure),
    "latency": ("Search latency at 100,000 assets (tests/bench/latency.py)", latency.measure),
    "throughput": ("Keyword search throughput: the gateway's workers against Elasticsearch alone, 16 connections "
                   "(tests/bench/throughput.py)", throughput.measure),
    "media": ("Documents, recordings and 3D models through the real DAG (tests/bench/media.py)", media.measure),
    "media-documents": ("Document pages: derive against raw pypdfium2, memory at 500 pages "
                        "(tests/bench/media_documents.py)", media_documents.measure),
    "media-av": ("Audio and video derivatives against raw PyAV, memory of long inputs (tests/bench/media_av.py)",
                 media_av.measure),
    "media-models": ("3D models: derive against raw trimesh + renders (tests/bench/media_models.py)",
                     media_models.measure),
    "dumps": ("Dumps and OAI-PMH harvests at 100,000 records (tests/bench/dumps.py)", dumps.measure),
    "access": ("What licensed access costs (tests/bench/access.py)", access.measure),
    "soak": ("Load and soak: 64 connections, then a mixed soak, memory and search contexts (tests/bench/soak.py)",
             soak.measure),
    "scaling": ("What one asset costs in the index, per vector index type (tests/bench/scaling.py)", scaling.measure),
    "iiif": ("IIIF Image API tiles: made and cached, against raw Pillow and S3 (tests/bench/iiif.py)", iiif.measure),
}


def main() -> None:
    wanted = sys.argv[1:] or list(BENCHES)
    unknown = [name for name in wanted if name not in BENCHES]
    if unknown:
        sys.exit(f"unknown benchmark {', '.join(unknown)}: choose from {', '.join(BENCHES)}")
    settings = get_settings()
    print(f"Machine: {machine()}\n")
    for name in wanted:
        title, run = BENCHES[name]
        print(f"\n## {title}\n")
        print(run(settings), flush=True)


if __name__ == "__main__":
    main()
