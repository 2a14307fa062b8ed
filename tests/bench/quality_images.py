"""Same-object image search: the service against the raw model, in one run (`python -m tests.bench quality-images`).

Dev set: samples/views.py (CC0, our own renderings), generated into .cache/devsets/object-views:
64 objects with six views each and 136 distractor objects with one. For every object the `main` view
(the museum's photograph) is the record's only image; each of the five other views (turned with EXIF
orientation, relit on texture, a transparent PNG cut-out, a re-compressed close crop, another angle)
is a query whose one relevant record is its object, searched among all 200 records.

- **raw**: the configured image encoder on the ORIGINAL files, query and indexed alike (decoded with
  Pillow), exact numpy cosine over the 200 indexed vectors.
- **service**: each record stored by ingestion's own store step (original, thumbnail and preview in
  the assets bucket under a unique institution prefix), enriched by the production `Enricher` (so its
  vector comes from the derivative the service keeps), indexed into a temporary index (unique
  `es.index_prefix`); each query file's bytes are decoded as `POST /v1/search/image` does
  (`_open_upload`) and searched by `services.assets.search_by_image`. Index and objects are deleted
  afterwards.
- **raw + re-rank**: the raw model's top 10 re-ordered by ORB key points verified with a RANSAC
  homography (tests/bench/image_rerank.py); measured here, not part of the service.

Scores: hit@1/5/10 (the object in the top k) and MRR (1/rank in the top 10, else 0), averaged over
queries; service/raw ratios; per view. The recipe study (tests/bench/image_recipes.py) runs on the
same files with the raw model.
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from elasticsearch import Elasticsearch
from minio import Minio
from PIL import Image

from indexing.aliases import assets_alias, ensure_assets_index
from indexing.bulk import index_documents
from indexing.client import make_client
from indexing.encoders import image_encoder
from indexing.encoders.efficientnet import DEFAULT_RECIPE, EfficientNetLite0Encoder
from indexing.enrich import Enricher
from indexing.query import Filters
from samples import views
from schemas.asset import AssetRecord, asset_id_for
from services import assets
from services.gateway.routers.search import _open_upload
from services.ingest.context import IngestContext
from services.ingest.derive import derive_image
from services.settings import Settings, get_settings
from services.storage import make_client as make_s3_client
from tests.bench import image_recipes
from tests.bench.image_recipes import Task
from tests.bench.image_rerank import rerank

K = 10
METRICS = ("hit@1", "hit@5", "hit@10", "MRR")
TARGET_HIT5 = 0.6


def _log(msg: str) -> None:
    print(f"[bench quality-images] {msg}", file=sys.stderr, flush=True)


def scores(ranked: Sequence[Sequence[str]], relevant: Sequence[str]) -> dict[str, float]:
    """hit@1/5/10 and MRR (first relevant rank within the top 10) averaged over queries."""
    found = [next((i for i, x in enumerate(r[:K], start=1) if x == want), None) for r, want in zip(ranked, relevant,
                                                                                                     strict=True)]
    n = max(1, len(found))
    out = {f"hit@{k}": sum(1 for f in found if f is not None and f <= k) / n for k in (1, 5, 10)}
    return out | {"MRR": sum(1 / f for f in found if f) / n}


def task_of(objects: Sequence[views.ObjectViews]) -> Task:
    gallery = [(o.object_id, o.files["main"]) for o in objects]
    queries = [(o.object_id, v, o.files[v]) for o in objects for v in views.QUERY_VIEWS if v in o.files]
    return Task(gallery, queries)


def raw_ranks(task: Task) -> list[list[str]]:
    encoder = image_encoder(get_settings().models)
    if encoder is None:
        raise SystemExit("no image encoder is configured (WENYUAN_MODELS__IMAGE_ENCODER=none)")

    def embed(paths: Sequence[Path]) -> np.ndarray:
        out = []
        for path in paths:
            with Image.open(path) as im:
                im.load()
                out.append(encoder.encode([im])[0])
        return np.stack(out)

    return image_recipes.ranks(task, embed([p for _, p in task.gallery]), embed([p for _, _, p in task.queries]))


def service_ranks(settings: Settings, es: Elasticsearch, s3: Minio, task: Task) -> list[list[str]]:
    tag = uuid.uuid4().hex[:8]
    institution = f"bench-imgq-{tag}"
    scoped = settings.model_copy(update={"es": settings.es.model_copy(update={"index_prefix": f"bench-imgq-{tag}"})})
    alias, bucket = assets_alias(scoped.es), settings.s3.bucket_assets
    ctx = IngestContext(scoped, s3, es)
    try:
        records = []
        with tempfile.TemporaryDirectory(prefix="bench-imgq-") as work:
            for object_id, path in task.gallery:
                asset_id = asset_id_for(institution, object_id)
                image = derive_image(ctx, institution, asset_id, tag, path, path.name, "main", Path(work),
                                     settings.ingest.max_file_bytes)
                records.append(AssetRecord(asset_id=asset_id, object_id=object_id, institution=institution,
                                           batch_id=tag, licence="CC0", title_en=f"Object {object_id}",
                                           images=[image], ingested_at=datetime.now(UTC)))
        enricher = Enricher(scoped, None, s3, use_ocr=False)
        ensure_assets_index(es, scoped, enricher.encoders)
        _log(f"service: enriching {len(records)} records from their stored derivatives")
        enriched = enricher.enrich(records)
        result = index_documents(es, alias, [(a.asset_id, a.model_dump(mode="json")) for a in enriched])
        if result.failed:
            raise RuntimeError(f"{len(result.failed)} documents refused, e.g. {next(iter(result.failed.values()))}")
        es.indices.refresh(index=alias)
        es.indices.forcemerge(index=alias, max_num_segments=1)
        by_asset = {a.asset_id: a.object_id for a in records}
        out = []
        for _, _, path in task.queries:
            picture = _open_upload(path.read_bytes(), settings.ingest.max_image_pixels)
            hits = assets.search_by_image(es, scoped, picture, Filters(), K, visibility=None)
            out.append([by_asset[h["asset_id"]] for h in hits])
        return out
    finally:
        es.indices.delete(index=f"{alias}-v*", allow_no_indices=True)
        for obj in list(s3.list_objects(bucket, prefix=f"{institution}/", recursive=True)):
            s3.remove_object(bucket, obj.object_name or "")


def measure(settings: Settings) -> str:
    started = time.perf_counter()
    _log("building the dev set (cached under .cache/devsets/object-views)")
    task = task_of(views.build())
    relevant = [q[0] for q in task.queries]
    _log(f"raw model: {len(task.gallery)} indexed, {len(task.queries)} queries")
    raw = raw_ranks(task)
    _log("raw model + ORB/RANSAC re-ranking of the top 10")
    reranked = rerank(raw, [p for _, _, p in task.queries], task.gallery, K)
    es, s3 = make_client(settings.es), make_s3_client(settings.s3)
    try:
        service = service_ranks(settings, es, s3, task)
    finally:
        es.close()
    _log("recipe study (raw model)")
    study = image_recipes.study(task, EfficientNetLite0Encoder(settings.models.image_runtime,
                                                               settings.models.cache_dir, settings.models.threads),
                                lambda ranked: scores(ranked, relevant), DEFAULT_RECIPE)
    return report(settings, task, raw, service, reranked, study, time.perf_counter() - started)


def _row(name: str, s: dict[str, float]) -> str:
    return f"| {name} | " + " | ".join(f"{s[m]:.3f}" for m in METRICS) + " |"


def report(settings: Settings, task: Task, raw: list[list[str]], service: list[list[str]], reranked: list[list[str]],
           study: list[tuple[str, dict[str, float]]], elapsed: float) -> str:
    relevant = [q[0] for q in task.queries]
    s_raw, s_service = scores(raw, relevant), scores(service, relevant)
    encoder = image_encoder(settings.models)
    version = f"{encoder.name} {encoder.version}" if encoder else "none"
    head = "| method | " + " | ".join(METRICS) + " |"
    rule = "|---|" + "---:|" * len(METRICS)
    ratio = " | ".join(f"{s_service[m] / s_raw[m]:.3f}" if s_raw[m] else "—" for m in METRICS)
    lines = [f"Encoder `{version}`; {len(task.gallery)} indexed records (one image each), {len(task.queries)} "
             f"queries ({len(views.QUERY_VIEWS)} views × {len(task.queries) // len(views.QUERY_VIEWS)} objects); "
             f"ingestion derivative bounds {settings.ingest.thumbnail_px}/{settings.ingest.preview_px} px. "
             f"Whole run {elapsed:.0f} s.", "", head, rule, _row("raw model, exact (originals)", s_raw),
             _row("service (stored derivative, `/v1/search/image` decoding, kNN)", s_service),
             "| service / raw | " + ratio + " |",
             _row("raw model + ORB/RANSAC re-ranking of its top 10 (tests/bench/image_rerank.py)",
                  scores(reranked, relevant)), ""]
    verdict = "meets" if s_service["hit@5"] >= TARGET_HIT5 else "**misses**"
    above = "≥" if s_service["hit@5"] >= s_raw["hit@5"] - 1e-9 else "**<**"
    lines += [f"Service hit@5 {s_service['hit@5']:.3f} {verdict} the target {TARGET_HIT5}; service {above} raw "
              f"({s_raw['hit@5']:.3f}).", "", "Per query view (hit@5 raw / service):", "",
              "| view | queries | raw hit@5 | service hit@5 | raw + re-rank hit@5 |", "|---|---:|---:|---:|---:|"]
    for view in views.QUERY_VIEWS:
        idx = [i for i, q in enumerate(task.queries) if q[1] == view]
        r = scores([raw[i] for i in idx], [relevant[i] for i in idx])
        s = scores([service[i] for i in idx], [relevant[i] for i in idx])
        rr = scores([reranked[i] for i in idx], [relevant[i] for i in idx])
        lines.append(f"| {view} | {len(idx)} | {r['hit@5']:.3f} | {s['hit@5']:.3f} | {rr['hit@5']:.3f} |")
    lines += ["", "Recipe study (raw model, exact search, the same queries; activations · fit-scaling-pooling · "
                  "indexed picture):", "", head.replace("method", "variant"), rule]
    lines += [_row(name, s) for name, s in study]
    return "\n".join(lines)

