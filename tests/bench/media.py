"""Documents, recordings and 3D models through the real DAG against the raw per-item loop (issue 16).

For each kind a batch of generated files (samples/mediafiles: PDFs with a text layer, H.264/AAC MP4s, WAVs,
vessel GLBs) is staged straight into the staging bucket and ingested by ingest_batch; the raw baseline, in the
same run, is the same per-item work in one plain Python process, one item at a time — fetch the staged file,
`derive_file` (inspect, store the original, the libraries' derivatives, the page/keyframe/view images), derive,
enrich (text and image vectors, OCR where a page has no text layer, classification) and index — with its models
loaded before its clock starts. Rates are in the unit of each kind: pages/s, seconds of media per second,
models per minute. The modules' own benches (tests/bench/media_documents.py, media_av.py, media_models.py)
measure each library against its derive function and memory for a 500-page PDF and a long video.

`WENYUAN_BENCH_MEDIA_ITEMS` (default 12) sizes each batch. Everything written is removed at the end.
"""

from __future__ import annotations

import io
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from indexing.aliases import assets_alias, ensure_assets_index
from indexing.enrich import derive
from samples.mediafiles import av, documents, models
from schemas.asset import AssetRecord, asset_id_for
from services.ingest.batches import BatchRecord, manifest_key, save_batch, staged_file_key
from services.ingest.context import get_context, get_enricher
from services.ingest.derive import derive_file
from services.ingest.store import media_summary
from services.settings import Settings
from tests.bench.ingest import run_dag
from tests.cleanup import Made, purge_with_settings

PAGES, VIDEO_S, AUDIO_S = 10, 10.0, 30.0


def _page_texts(i: int) -> list[str]:
    return [f"基准文献{i} 第{p}页 青铜器 瓷器 benchmark document {i} page {p}" for p in range(1, PAGES + 1)]


# kind → (file suffix, builder of item i, units per item per second of wall time, unit)
KINDS: dict[str, tuple[str, Callable[[Path, int], Path], float, str]] = {
    "documents": (".pdf", lambda p, i: documents.pdf_with_text(p, _page_texts(i)), PAGES, "pages/s"),
    "video": (".mp4", lambda p, i: av.mp4(p, VIDEO_S), VIDEO_S, "media s/s"),
    "audio": (".wav", lambda p, i: av.wav(p, AUDIO_S), AUDIO_S, "media s/s"),
    "models": (".glb", lambda p, i: models.vessel(p, "glb", sections=32 + i), 60.0, "models/min"),
}


def _files(kind: str, n: int, folder: Path) -> list[Path]:
    suffix, make, _, _ = KINDS[kind]
    folder.mkdir(parents=True, exist_ok=True)
    return [make(folder / f"{i:04d}{suffix}", i) for i in range(n)]


def _stage(settings: Settings, batch_id: str, institution: str, files: list[Path]) -> None:
    ctx = get_context()
    lines = ["object_id,title_zh,title_en,licence,media"]
    lines += [f"M-{i:05d},基准媒体{i},Benchmark media {i},CC0,files/{f.name}" for i, f in enumerate(files)]
    manifest = ("\n".join(lines) + "\n").encode()
    ctx.s3.put_object(settings.s3.bucket_staging, manifest_key(batch_id, "manifest.csv"), io.BytesIO(manifest),
                      len(manifest))
    for f in files:
        ctx.s3.fput_object(settings.s3.bucket_staging, staged_file_key(batch_id, f"files/{f.name}"), str(f))
    save_batch(ctx.s3, settings.s3, BatchRecord(batch_id=batch_id, institution=institution,
                                                 manifest_name="manifest.csv"))


def _raw(settings: Settings, batch_id: str, institution: str, files: list[Path]) -> float:
    """Seconds for the whole per-item work on every file, one at a time, in this process."""
    ctx = get_context()
    enricher = get_enricher()
    enricher.text.encode(["warm-up"])
    alias = ensure_assets_index(ctx.es, settings, enricher.encoders)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for i, f in enumerate(files):
            asset_id = asset_id_for(institution, f"M-{i:05d}")
            local = Path(tmp) / f"original{f.suffix}"
            ctx.s3.fget_object(settings.s3.bucket_staging, staged_file_key(batch_id, f"files/{f.name}"), str(local))
            images, media = derive_file(ctx, institution, asset_id, batch_id, local, f"files/{f.name}", None,
                                        Path(tmp) / "work", settings.media.max_file_bytes)
            asset = derive(AssetRecord(object_id=f"M-{i:05d}", title_zh=f"基准媒体{i}", title_en=f"Benchmark media {i}",
                                       licence="CC0", asset_id=asset_id, institution=institution,
                                       batch_id=f"{batch_id}-raw", images=images, has_image=bool(images),
                                       ingested_at=datetime.now(UTC),
                                       **media_summary(images, [media] if media else [])))
            (enriched,) = enricher.enrich([asset])
            ctx.es.index(index=alias, id=enriched.asset_id, document=enriched.model_dump(mode="json"))
    return time.perf_counter() - started


def measure(settings: Settings, items: int | None = None) -> str:
    n = items or int(os.environ.get("WENYUAN_BENCH_MEDIA_ITEMS", "12"))
    tag = uuid.uuid4().hex[:10]
    dag_inst, raw_inst = f"bench-{tag}", f"bench-raw-{tag}"
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for kind, (_, _, units, unit) in KINDS.items():
                files = _files(kind, n, Path(tmp) / kind)
                batch_id = f"benchm{kind[:3].strip()}-{tag}"
                _stage(settings, batch_id, dag_inst, files)
                result = run_dag(settings, batch_id)
                raw_s = _raw(settings, batch_id, raw_inst, files)
                dag_rate, raw_rate = n * units / result["wall_s"], n * units / raw_s
                rows.append(f"| {n} {kind} | {result['state']} | {result['counts']['indexed']} | "
                            f"{result['wall_s']:.0f} s | {dag_rate:.2f} {unit} | {raw_rate:.2f} {unit} | "
                            f"**{dag_rate / raw_rate:.2f}** |")
    finally:
        purge_with_settings(Made(institutions={dag_inst, raw_inst}), settings)
        get_context().es.indices.refresh(index=assets_alias(settings.es))
    return "\n".join([
        f"Each item: a {PAGES}-page PDF with a text layer, a {VIDEO_S:g} s 320×180 H.264/AAC MP4, a {AUDIO_S:g} s "
        "stereo WAV, a vessel GLB (3–5 k triangles).",
        "",
        "| batch | DAG run | indexed | wall (trigger → end) | DAG | raw loop | DAG / raw |",
        "|---|---|---:|---:|---:|---:|---:|",
        *rows,
    ])


if __name__ == "__main__":
    from services.settings import get_settings

    print(measure(get_settings()))
