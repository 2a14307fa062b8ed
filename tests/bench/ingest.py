"""Ingestion throughput and memory: N items (metadata + a small generated JPEG) through the real DAG.

Setup stages the files straight into the staging bucket (8 threads), so the numbers measure the
DAG, not the upload. For each size it reports items/s of the whole run, the peak resident
memory of every task process (from work/stats, written by the tasks themselves) and each step's
share of task time. The raw baseline, in the same run, is the same per-item work (inspect,
hash, thumbnail + preview, three S3 puts) in one plain loop without Airflow: the ratio between
the two is what orchestration and chunking cost or gain.
"""

from __future__ import annotations

import io
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from PIL import Image

from services.ingest.batches import BatchRecord, manifest_key, save_batch, staged_file_key, work_key
from services.ingest.context import get_context
from services.ingest.media import inspect_image, make_derivatives
from services.settings import Settings
from services.storage import get_json, list_keys
from services.workflows import AirflowClient


def _jpeg(i: int) -> bytes:
    im = Image.new("RGB", (320, 240), ((i * 37) % 256, (i * 91) % 256, (i * 53) % 256))
    im.paste(((i * 13) % 256, 40, 200), (i % 200, i % 120, i % 200 + 100, i % 120 + 100))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=80)
    return out.getvalue()


def stage(settings: Settings, batch_id: str, n: int, institution: str) -> None:
    ctx = get_context()
    lines = ["object_id,title_zh,title_en,licence,media"]
    lines += [f"B-{i:06d},基准样本{i},Benchmark item {i},CC0,images/{i:06d}.jpg" for i in range(n)]
    manifest = ("\n".join(lines) + "\n").encode()
    ctx.s3.put_object(settings.s3.bucket_staging, manifest_key(batch_id, "manifest.csv"), io.BytesIO(manifest),
                      len(manifest))

    def put(i: int) -> None:
        data = _jpeg(i)
        ctx.s3.put_object(settings.s3.bucket_staging, staged_file_key(batch_id, f"images/{i:06d}.jpg"),
                          io.BytesIO(data), len(data), content_type="image/jpeg")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, range(n)))
    save_batch(ctx.s3, settings.s3, BatchRecord(batch_id=batch_id, institution=institution,
                                                 manifest_name="manifest.csv"))


def run_dag(settings: Settings, batch_id: str) -> dict[str, Any]:
    with AirflowClient(settings.airflow) as airflow:
        run_id = f"bench-{batch_id}"
        started = time.perf_counter()
        airflow.trigger(settings.ingest.dag_id, {"batch_id": batch_id}, run_id=run_id)
        run = airflow.wait(settings.ingest.dag_id, run_id, timeout_s=3600, poll_s=2)
        wall = time.perf_counter() - started
    ctx = get_context()
    stats = [get_json(ctx.s3, settings.s3.bucket_reports, o.object_name or "")
             for o in list_keys(ctx.s3, settings.s3.bucket_reports, work_key(batch_id, "stats/"))]
    batch = get_json(ctx.s3, settings.s3.bucket_reports, f"batches/{batch_id}/batch.json")
    return {"state": run["state"], "wall_s": wall, "stats": stats, "counts": batch["counts"]}


def baseline(settings: Settings, batch_id: str, n: int) -> float:
    """Items/s of the per-item work in one process, without Airflow (on the files the run staged)."""
    ctx = get_context()
    bucket = settings.s3.bucket_assets
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n):
            local = Path(tmp) / "original"
            ctx.s3.fget_object(settings.s3.bucket_staging, staged_file_key(batch_id, f"images/{i:06d}.jpg"),
                               str(local))
            info = inspect_image(local, max_bytes=settings.ingest.max_file_bytes,
                                 max_pixels=settings.ingest.max_image_pixels)
            ctx.s3.fput_object(bucket, f"bench-baseline/{info.sha256}", str(local))
            for d in make_derivatives(local, Path(tmp)):
                ctx.s3.fput_object(bucket, f"bench-baseline/{info.sha256}-{d.name}", str(d.path))
    return n / (time.perf_counter() - started)


def measure(settings: Settings, sizes: tuple[int, ...] = (1_000, 10_000)) -> str:
    rows, shares = [], []
    for n in sizes:
        batch_id = f"bench{n}-{int(time.time())}"
        t0 = time.perf_counter()
        stage(settings, batch_id, n, "bench")
        staging_s = time.perf_counter() - t0
        result = run_dag(settings, batch_id)
        by_step: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for s in result["stats"]:
            by_step[s["step"]].append(s)
        task_total = sum(s["seconds"] for s in result["stats"])
        raw = baseline(settings, batch_id, min(n, 500))
        peak = {step: max(s["peak_rss_kib"] for s in items) / 1024 for step, items in by_step.items()}
        rows.append(f"| {n:,} | {result['state']} | {result['counts']['indexed']:,} | {result['wall_s']:.0f} s | "
                    f"{n / result['wall_s']:.1f} | {raw:.1f} | {peak.get('prepare', 0):.0f} | "
                    f"{peak.get('store', 0):.0f} | {peak.get('enrich', 0):.0f} | {peak.get('index', 0):.0f} | "
                    f"{peak.get('finalize', 0):.0f} | "
                    f"{staging_s:.0f} s |")
        shares.append(f"| {n:,} | " + " | ".join(
            f"{sum(s['seconds'] for s in by_step.get(step, [])) / task_total * 100:.0f} % "
            f"({len(by_step.get(step, []))} tasks)" for step in ("prepare", "store", "enrich", "index", "finalize"))
            + " |")
    return "\n".join([
        "| items | DAG run | indexed | wall | items/s (DAG) | items/s (raw loop, baseline) | peak RSS MiB prepare | "
        "store | enrich | index | finalize | staging (setup) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "Share of task time per step:",
        "",
        "| items | prepare | store (derivatives, S3) | enrich (models) | index (bulk) | finalize (report) |",
        "|---:|---:|---:|---:|---:|---:|",
        *shares,
    ])
