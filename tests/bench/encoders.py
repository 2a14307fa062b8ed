"""Encoders: each model's raw throughput against its throughput inside the pipeline.

Raw: the model alone in this process, on the same kind of inputs the pipeline gives it (catalogue
texts from the samples; 400 px thumbnails; a rendered inscription for OCR), after a warm-up.
Inside the pipeline: a batch of N items with images goes through the real DAG; each enrich task
records the seconds it spent in each model and how many items it gave it (`work/models/<n>.json`),
and the enrich step's own time (model loading, S3 reads, classification, writing) is in
`work/stats/enrich-<n>.json`. The ratio raw ÷ pipeline is what the pipeline costs around the model.
"""

from __future__ import annotations

import io
import time
from collections import defaultdict
from typing import Any

from PIL import Image

from indexing.encoders import Modality, build_encoder
from indexing.encoders.efficientnet import EfficientNetLite0Encoder, preprocess
from indexing.ocr import RapidOcrEngine
from services.ingest.batches import work_key
from services.ingest.context import get_context
from services.settings import Settings
from services.storage import get_json, list_keys
from tests.bench import ingest
from tests.factories import make_inscription

SAMPLE_TEXTS = [
    "青花缠枝莲纹梅瓶 Blue-and-white meiping vase with lotus scroll 明永乐 景德镇窑 瓷",
    "兽面纹鼎 Bronze ritual cauldron with taotie masks 商代晚期 青铜",
    "Landscape after old masters, handscroll. Ink and light colour on paper. Qing dynasty",
    "行书七言诗轴 纸本 清 张照",
    "The Thames at Westminster. Oil paint on canvas. Joseph Mallord William Turner, 1830",
]


def _rate(fn: Any, items: int, repeat: int = 3) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return items / best


def raw(settings: Settings) -> dict[str, float]:
    models = settings.models
    texts = [f"{t} {i}" for i in range(200) for t in SAMPLE_TEXTS][:1000]
    thumbs = [Image.open(io.BytesIO(ingest._jpeg(i))).convert("RGB") for i in range(64)]
    for im in thumbs:
        im.thumbnail((400, 400))
    text = build_encoder(models.text_encoder, Modality.TEXT, models)
    onnx = EfficientNetLite0Encoder("onnx", models.cache_dir, models.threads)
    torch = EfficientNetLite0Encoder("torch", models.cache_dir, models.threads)
    pixels = preprocess(thumbs)
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        page = Image.open(make_inscription(Path(tmp) / "p.png", "大清乾隆年制天地玄黄")).convert("RGB")
    ocr = RapidOcrEngine(models.threads)
    return {
        "text": _rate(lambda: text.encode(texts, batch_size=models.batch_size), len(texts)),
        "image_onnx": _rate(lambda: onnx.encode(thumbs, batch_size=models.batch_size), len(thumbs)),
        "image_onnx_model_only": _rate(lambda: onnx.features(pixels), len(thumbs)),
        "image_torch": _rate(lambda: torch.encode(thumbs, batch_size=models.batch_size), len(thumbs), repeat=1),
        "ocr": _rate(lambda: ocr.read(page), 1, repeat=3),
    }


def pipeline(settings: Settings, n: int) -> dict[str, Any]:
    batch_id = f"bench-enc{n}-{int(time.time())}"
    ingest.stage(settings, batch_id, n, "bench-encoders")
    result = ingest.run_dag(settings, batch_id)
    ctx = get_context()
    per_model: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for obj in list_keys(ctx.s3, settings.s3.bucket_reports, work_key(batch_id, "models/")):
        for stage, t in get_json(ctx.s3, settings.s3.bucket_reports, obj.object_name or "").items():
            per_model[stage][0] += t["seconds"]
            per_model[stage][1] += t["items"]
    enrich_s = sum(s["seconds"] for s in result["stats"] if s["step"] == "enrich")
    return {"state": result["state"], "wall_s": result["wall_s"], "enrich_s": enrich_s, "models": per_model,
            "items": n}


def measure(settings: Settings, n: int = 1000) -> str:
    r = raw(settings)
    p = pipeline(settings, n)
    models = p["models"]

    def inside(stage: str) -> float:
        seconds, items = models.get(stage, [0.0, 0.0])
        return items / seconds if seconds else 0.0

    step_rate = p["items"] / p["enrich_s"] if p["enrich_s"] else 0.0
    rows = [
        ("text: " + settings.models.text_encoder, r["text"], inside("text")),
        (f"image: {settings.models.image_encoder} ({settings.models.image_runtime})",
         r["image_onnx"] if settings.models.image_runtime == "onnx" else r["image_torch"], inside("image")),
        ("classification (zero-shot + kNN msearch)", float("nan"), inside("classify")),
    ]
    lines = [
        f"Raw: in-process, best of 3 after a warm-up. Pipeline: {n:,} items with one image each through "
        f"`ingest_batch` (run {p['state']}, {p['wall_s']:.0f} s wall).",
        "",
        "| model | raw items/s | inside enrich tasks, items/s in the model | ratio raw ÷ pipeline |",
        "|---|---:|---:|---:|",
    ]
    for name, raw_rate, pipe in rows:
        raw_cell = "—" if raw_rate != raw_rate else f"{raw_rate:.0f}"
        ratio = "—" if raw_rate != raw_rate or not pipe else f"{raw_rate / pipe:.2f}"
        lines.append(f"| {name} | {raw_cell} | {pipe:.0f} | {ratio} |")
    lines += [
        "",
        f"Whole enrich step (model loading once per task process, thumbnails from S3, all models, writing the "
        f"chunk): **{step_rate:.1f} items/s** — the text encoder alone runs {r['text'] / step_rate:.0f}× faster "
        f"raw, the image encoder {r['image_onnx'] / step_rate:.1f}×." if step_rate else "",
        "",
        "| image encoder runtime | raw img/s (preprocessing included) | model only |",
        "|---|---:|---:|",
        f"| EfficientNet-Lite0, ONNX Runtime | {r['image_onnx']:.1f} | {r['image_onnx_model_only']:.1f} |",
        f"| EfficientNet-Lite0, torch | {r['image_torch']:.1f} | — |",
        "",
        f"OCR (RapidOCR PP-OCRv4, one 864×216 inscription, raw): {1 / r['ocr']:.2f} s a page; it runs only on "
        f"images of the OCR categories.",
    ]
    return "\n".join(lines)
