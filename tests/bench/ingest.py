"""Ingestion throughput through the real DAG against the raw per-item loop, for images and for text-only rows.

Setup stages the files straight into the staging bucket (8 threads), so the numbers measure the
DAG, not the upload. For each batch it reports items/s of the whole run (trigger → the run's end),
the peak resident memory of each step's task processes (from work/stats, written by the tasks
themselves) and each step's share of task time.

The raw baseline, in the same run, is the same per-item work in one plain Python process, one item
at a time: read the staged file, inspect and hash it, store it, make and store thumbnail and preview,
derive, encode (text, title, image), classify (kNN against the same assets index), apply decisions
and index the document. Its models are loaded before its clock starts; it indexes under an
institution of its own, so DAG and loop never write the same documents. A raw rate measured on the
first `raw_items` of the batch is reported as such.

A small batch (5 images) is timed from trigger to its batch record saying all 5 are indexed: the
issue's "starts at once" target. Everything the bench writes (documents, objects, batch records)
is removed at the end (tests/cleanup.py).
"""

from __future__ import annotations

import io
import os
import tempfile
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image

from indexing.aliases import assets_alias, ensure_assets_index
from indexing.enrich import derive
from schemas.asset import AssetRecord, asset_id_for
from schemas.manifest import ManifestRow
from services.ingest.batches import BatchRecord, load_batch, manifest_key, save_batch, staged_file_key, work_key
from services.ingest.context import get_context, get_enricher
from services.ingest.derive import derive_image
from services.ingest.manifest import read_manifest
from services.settings import Settings
from services.storage import get_json, list_keys
from services.workflows import AirflowClient
from tests.cleanup import Made, purge_with_settings

TEXT_WORDS = [("青铜鼎", "bronze ding", "Western Zhou"), ("青花瓷瓶", "blue-and-white vase", "Ming"),
              ("白玉璧", "white jade disc", "Han"), ("行书手卷", "running-script handscroll", "Song"),
              ("山水画轴", "landscape hanging scroll", "Qing"), ("漆盒", "lacquer box", "Yuan"),
              ("铜镜", "bronze mirror", "Tang"), ("石碑拓片", "stele rubbing", "Northern Wei")]


def _jpeg(i: int) -> bytes:
    im = Image.new("RGB", (320, 240), ((i * 37) % 256, (i * 91) % 256, (i * 53) % 256))
    im.paste(((i * 13) % 256, 40, 200), (i % 200, i % 120, i % 200 + 100, i % 120 + 100))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=80)
    return out.getvalue()


def _manifest(n: int, images: bool) -> bytes:
    if images:
        lines = ["object_id,title_zh,title_en,licence,media"]
        lines += [f"B-{i:06d},基准样本{i},Benchmark item {i},CC0,images/{i:06d}.jpg" for i in range(n)]
    else:
        lines = ["object_id,title_zh,title_en,description_en,period,licence"]
        for i in range(n):
            zh, en, period = TEXT_WORDS[i % len(TEXT_WORDS)]
            lines.append(f"T-{i:06d},{zh}（第{i}号）,{en} no. {i},\"A {en}, catalogue entry {i}, {period} style\","
                         f"{period},CC0")
    return ("\n".join(lines) + "\n").encode()


def stage(settings: Settings, batch_id: str, n: int, institution: str, *, images: bool = True) -> None:
    ctx = get_context()
    manifest = _manifest(n, images)
    ctx.s3.put_object(settings.s3.bucket_staging, manifest_key(batch_id, "manifest.csv"), io.BytesIO(manifest),
                      len(manifest))

    def put(i: int) -> None:
        data = _jpeg(i)
        ctx.s3.put_object(settings.s3.bucket_staging, staged_file_key(batch_id, f"images/{i:06d}.jpg"),
                          io.BytesIO(data), len(data), content_type="image/jpeg")

    if images:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(put, range(n)))
    save_batch(ctx.s3, settings.s3, BatchRecord(batch_id=batch_id, institution=institution,
                                                 manifest_name="manifest.csv"))


def run_dag(settings: Settings, batch_id: str, *, until_indexed: int | None = None) -> dict[str, Any]:
    """Trigger ingest_batch and wait for its end; `until_indexed`: also time the record's indexed count."""
    ctx = get_context()
    with AirflowClient(settings.airflow) as airflow:
        run_id = f"bench-{batch_id}"
        started = time.perf_counter()
        airflow.trigger(settings.ingest.dag_id, {"batch_id": batch_id}, run_id=run_id)
        indexed_s = None
        while until_indexed is not None and indexed_s is None and time.perf_counter() - started < 600:
            if load_batch(ctx.s3, settings.s3, batch_id).progress.indexed >= until_indexed:
                indexed_s = time.perf_counter() - started
            time.sleep(0.25)
        run = airflow.wait(settings.ingest.dag_id, run_id, timeout_s=7200, poll_s=0.5)
        wall = time.perf_counter() - started
    stats = [get_json(ctx.s3, settings.s3.bucket_reports, o.object_name or "")
             for o in list_keys(ctx.s3, settings.s3.bucket_reports, work_key(batch_id, "stats/"))]
    batch = load_batch(ctx.s3, settings.s3, batch_id)
    return {"state": run["state"], "wall_s": wall, "indexed_s": indexed_s, "stats": stats,
            "counts": batch.counts.model_dump()}


def baseline(settings: Settings, batch_id: str, n: int, institution: str, *, images: bool = True) -> float:
    """Items/s of the full per-item work in one process, one item at a time, on the first n staged rows."""
    ctx = get_context()
    enricher = get_enricher()  # models loaded before the clock starts
    enricher.text.encode(["warm-up"])
    alias = ensure_assets_index(ctx.es, settings, enricher.encoders)
    rows = _rows(_manifest(n, images))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for record in rows:
            asset_id = asset_id_for(institution, record.object_id)
            image_records = []
            for ref in record.media:
                local = Path(tmp) / "original"
                ctx.s3.fget_object(settings.s3.bucket_staging, staged_file_key(batch_id, ref.path), str(local))
                image_records.append(derive_image(ctx, institution, asset_id, batch_id, local, ref.path, ref.label,
                                                  Path(tmp), settings.ingest.max_file_bytes))
            asset = derive(AssetRecord(**record.model_dump(), asset_id=asset_id, institution=institution,
                                       batch_id=f"{batch_id}-raw", images=image_records,
                                       has_image=bool(image_records), ingested_at=datetime.now(UTC)))
            (enriched,) = enricher.enrich([asset])
            ctx.es.index(index=alias, id=enriched.asset_id, document=enriched.model_dump(mode="json"))
    return n / (time.perf_counter() - started)


def _rows(manifest: bytes) -> list[ManifestRow]:
    """The bench manifest's rows as the store step sees them (validated)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "manifest.csv"
        path.write_bytes(manifest)
        return [p.record for p in read_manifest(path, max_rows=1_000_000) if p.record is not None]


def _shares(n: int, kind: str, stats: list[dict[str, Any]]) -> str:
    by_step: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in stats:
        by_step[s["step"]].append(s)
    total = sum(s["seconds"] for s in stats) or 1.0
    return f"| {n:,} {kind} | " + " | ".join(
        f"{sum(s['seconds'] for s in by_step.get(step, [])) / total * 100:.0f} % ({len(by_step.get(step, []))})"
        for step in ("prepare", "store", "enrich", "index", "finalize")) + " |"


def _peak(stats: list[dict[str, Any]]) -> str:
    return f"{max((s['peak_rss_kib'] for s in stats), default=0) / 1024:.0f}"


def measure(settings: Settings, sizes: tuple[int, ...] | None = None, raw_items: int | None = None) -> str:
    """`WENYUAN_BENCH_INGEST_SIZES` (e.g. `1000,10000`), `WENYUAN_BENCH_INGEST_RAW` (items the raw loop
    runs, default min(n, 500)) and `WENYUAN_BENCH_INGEST_KINDS` (`images,text`) size the run."""
    sizes = sizes or tuple(int(s) for s in os.environ.get("WENYUAN_BENCH_INGEST_SIZES", "1000,10000").split(","))
    raw_items = raw_items or int(os.environ.get("WENYUAN_BENCH_INGEST_RAW", "500"))
    kinds = [k == "images" for k in os.environ.get("WENYUAN_BENCH_INGEST_KINDS", "images,text").split(",")]
    tag = uuid.uuid4().hex[:10]
    dag_inst, raw_inst = f"bench-{tag}", f"bench-raw-{tag}"
    rows, shares = [], []
    try:
        small_id = f"bench5-{tag}"
        stage(settings, small_id, 5, dag_inst)
        small = run_dag(settings, small_id, until_indexed=5)
        for n in sizes:
            for images in kinds:
                kind = "images" if images else "text rows"
                batch_id = f"bench{n}{'i' if images else 't'}-{tag}"
                t0 = time.perf_counter()
                stage(settings, batch_id, n, dag_inst, images=images)
                staging_s = time.perf_counter() - t0
                result = run_dag(settings, batch_id)
                m = min(n, raw_items)
                raw = baseline(settings, batch_id, m, raw_inst, images=images)
                dag = n / result["wall_s"]
                rows.append(f"| {n:,} {kind} | {result['state']} | {result['counts']['indexed']:,} | "
                            f"{result['wall_s']:.0f} s | {dag:.1f} | {raw:.1f} ({m:,} items) | **{dag / raw:.2f}** | "
                            f"{_peak(result['stats'])} | {staging_s:.0f} s |")
                shares.append(_shares(n, kind, result["stats"]))
    finally:
        purge_with_settings(Made(institutions={dag_inst, raw_inst}), settings)
        get_context().es.indices.refresh(index=assets_alias(settings.es))
    return "\n".join([
        f"Small batch (5 images): trigger → all 5 indexed in the batch record **{small['indexed_s']:.1f} s**, "
        f"run finished in {small['wall_s']:.1f} s ({small['state']}).",
        "",
        "| batch | DAG run | indexed | wall | items/s (DAG) | items/s (raw loop) | DAG / raw | peak RSS MiB (tasks) | "
        "staging (setup) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "Share of task time per step (number of measured steps):",
        "",
        "| batch | prepare | store (derivatives, S3) | enrich (models) | index (bulk) | finalize (report) |",
        "|---|---:|---:|---:|---:|---:|",
        *shares,
    ])
