"""Search latency bench: the data. 100,000 synthetic assets of `bench-latency` in the service alias (built once, kept
for later runs; `python -m tests.bench.latency --remove` deletes them), and the queries and pictures sent."""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from elasticsearch import Elasticsearch
from elasticsearch.helpers import scan, streaming_bulk

from indexing.aliases import assets_alias, ensure_assets_index
from indexing.bulk import index_documents
from indexing.client import make_client
from indexing.encoders import image_encoder, text_encoder
from indexing.encoders.base import info
from indexing.enrich import search_terms
from indexing.periods import period_record
from indexing.query import Filters
from indexing.segments import merge_segments
from schemas import taxonomy
from schemas.asset import AssetRecord, EncoderInfo
from services.settings import Settings, get_settings
from tests.bench import vectors
from tests.factories import make_asset, make_image

INSTITUTION = "bench-latency"
N_ASSETS = 100_000
BUILD_CHUNK = 2_500  # documents built and handed to index_documents at a time (memory stays bounded)
SEED = 11
N_QUERIES = 200  # half zh, half en
N_WARMUP = 20  # other queries (and images), sent first, not measured
N_IMAGES = 20
PAGE_SIZE = 20  # the gateway's default page size
LICENCES = ("CC0", "CC0", "CC-BY-4.0", "CC-BY-SA-4.0", "PDM", "NoC-US", "InC", "InC-EDU", "CC-BY-NC-4.0")
SETUP_RECORD = "latency-setup.json"  # under .cache/bench: the bulk numbers of the run that indexed the assets


def _log(msg: str) -> None:
    print(f"[bench latency] {msg}", file=sys.stderr, flush=True)


def _institution_query() -> dict[str, Any]:
    return {"term": {"institution": INSTITUTION}}


def _filters() -> Filters:
    return Filters(institution=[INSTITUTION])



# ---------- setup: 100,000 assets ----------

@dataclass
class Setup:
    present_before: int = 0
    indexed: int = 0
    failed: int = 0
    example_failure: str = ""
    build_s: float = 0.0
    bulk_s: float = 0.0
    refresh_s: float = 0.0
    when: str = ""
    reused: bool = False  # the assets were there; the numbers are those of the run that indexed them
    merge: str = ""  # what the daily merge_segments DAG's merge did before this run (indexing/segments.py)


def _encoders() -> dict[str, EncoderInfo | None]:
    image = image_encoder(get_settings().models)
    return {"text": info(text_encoder(get_settings().models)), "image": info(image) if image else None}


def count_assets(es: Elasticsearch, alias: str) -> int:
    return int(es.count(index=alias, query=_institution_query())["count"])


_SPLIT = re.compile(r"[，。；：（）、·]|\s—\s|[.;:()](?:\s+|$)|,\s+")


def _segments(text: str) -> list[str]:
    return [s.strip(" —") for s in _SPLIT.split(text) if s.strip(" —")]


def _text_fields(text: str, variant: int) -> dict[str, str | None]:
    """Titles and a description from one generated text; variant 1 reorders it and titles another segment."""
    segments = _segments(text) or [text]
    zh_text = vectors._has_cjk(text)
    if variant:
        segments = segments[1:] + segments[:1]
    zh = [s for s in segments if vectors._has_cjk(s)]
    en = [s for s in segments if not vectors._has_cjk(s) and re.search(r"[A-Za-z]{2}", s)]
    out: dict[str, str | None] = dict.fromkeys(("title_zh", "title_en", "description_zh", "description_en"))
    if zh:
        out["title_zh"] = zh[0][:120]
    if en:
        out["title_en"] = en[0][:120]
    if not zh and not en:
        out["title_en"] = segments[0][:120]
    description = text if not variant else ("，" if zh_text else ", ").join(segments)
    out["description_zh" if zh_text else "description_en"] = description
    return out


@cache
def _period_norm(period: str | None, date: str | None) -> dict[str, Any] | None:
    record = period_record(period, date)
    return record.model_dump(mode="json") if record else None


def _documents(start: int, stop: int, corpus: np.ndarray, texts: list[str], pools: vectors._Pools,
               encoders: dict[str, EncoderInfo | None]) -> list[tuple[str, dict[str, Any]]]:
    rng = random.Random(f"{SEED}-{start}")
    categories, materials = taxonomy.categories(), taxonomy.materials()
    n = stop - start
    bases = [i % len(corpus) for i in range(start, stop)]
    text_vectors = np.round(corpus[bases].astype(np.float64), 6)  # 6 decimals: a third of the JSON, same cosines
    image_info = encoders["image"]
    image_vectors = None
    if image_info:
        g = np.random.default_rng([SEED, start]).standard_normal((n, image_info.dimension))
        image_vectors = np.round(g / np.linalg.norm(g, axis=1, keepdims=True), 6)
    now = datetime.now(UTC)
    ai = {"text_encoder": encoders["text"], "image_encoder": image_info, "enriched_at": now}
    docs = []
    for j, i in enumerate(range(start, stop)):
        text = texts[bases[j]]
        zh = vectors._has_cjk(text)
        lang = "zh" if zh else "en"
        category = rng.choice(categories)
        mats = rng.sample(materials, rng.randint(1, 2))
        sha = hashlib.sha256(f"{INSTITUTION}/{i}".encode()).hexdigest()
        period = rng.choice(pools.periods_zh) if zh else None
        date = None if zh else rng.choice(pools.dates_en)
        fields: dict[str, Any] = _text_fields(text, i // len(corpus)) | {
            "object_id": f"BL-{i:06d}", "institution": INSTITUTION, "batch_id": INSTITUTION,
            "licence": rng.choice(LICENCES), "period": period, "date": date,
            "period_norm": _period_norm(period, date),
            "category": category.label(lang), "category_ids": [category.id],
            "materials": [m.label(lang) for m in mats], "material_ids": [m.id for m in mats],
            "creator": rng.choice(pools.creators_zh if zh else pools.creators_en) if rng.random() < 0.6 else None,
            "department": rng.choice(pools.departments) if zh else None,
            "provenance": rng.choice(pools.places) if zh and rng.random() < 0.3 else None,
            "has_image": True, "ai": ai, "ingested_at": now,
            "images": [{"sha256": sha, "key": f"originals/{sha[:2]}/{sha}", "path": f"images/BL-{i:06d}.jpg",
                        "label": "正面" if zh else "front", "format": "JPEG", "mime": "image/jpeg",
                        "width": 1600, "height": 1200, "mode": "RGB", "size_bytes": rng.randint(150_000, 900_000),
                        "phash": f"{rng.getrandbits(64):016x}", "thumbnail_key": f"thumbnails/{sha}.jpg",
                        "preview_key": f"previews/{sha}.jpg"}],
        }
        doc = make_asset(**fields)  # validated as an AssetRecord; the vectors are added after
        doc["terms"] = search_terms(AssetRecord.model_validate(doc)).model_dump(mode="json")
        doc["text_vector"] = text_vectors[j].tolist()
        doc["title_vector"] = doc["text_vector"]  # the kNN cost of a title leg; its ranking is not measured here
        if image_vectors is not None:
            doc["images"][0]["vector"] = image_vectors[j].tolist()  # type: ignore[index]
        docs.append((str(doc["asset_id"]), doc))
    return docs


def _setup_record(settings: Settings) -> Path:
    return settings.stack.cache_dir / "bench" / SETUP_RECORD


def setup(es: Elasticsearch, settings: Settings, encoders: dict[str, EncoderInfo | None]) -> Setup:
    alias = ensure_assets_index(es, settings, encoders)
    have = count_assets(es, alias)
    if have >= N_ASSETS:
        _log(f"{have:,} {INSTITUTION} assets already in {alias}: setup skipped")
        try:
            out = Setup(**json.loads(_setup_record(settings).read_text()))
        except (OSError, ValueError, TypeError):
            out = Setup()
        out.present_before, out.reused = have, True
        out.merge = _merge(es, settings)
        return out
    out = Setup(present_before=have, when=f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    corpus, _, texts = vectors.corpus_and_queries(settings)
    pools = vectors._pools()
    _log(f"indexing {N_ASSETS:,} assets into {alias} ({have:,} of them there before)")
    for start in range(0, N_ASSETS, BUILD_CHUNK):
        t0 = time.perf_counter()
        docs = _documents(start, min(start + BUILD_CHUNK, N_ASSETS), corpus, texts, pools, encoders)
        out.build_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        result = index_documents(es, alias, docs)
        out.bulk_s += time.perf_counter() - t0
        out.indexed += result.indexed
        out.failed += len(result.failed)
        if result.failed and not out.example_failure:
            out.example_failure = next(iter(result.failed.values()))
        done = start + len(docs)
        if done % 10_000 == 0 or done == N_ASSETS:
            _log(f"{done:,}/{N_ASSETS:,}: {out.indexed / out.bulk_s:,.0f} docs/s bulk, {out.failed:,} refused")
    t0 = time.perf_counter()
    es.options(request_timeout=3600).indices.refresh(index=alias)
    out.refresh_s = time.perf_counter() - t0
    out.merge = _merge(es, settings)
    if not out.failed:
        path = _setup_record(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(out)))
    return out


def _merge(es: Elasticsearch, settings: Settings) -> str:
    """The service's own segment upkeep, as the daily DAG runs it on a live index (merges only when needed)."""
    r = merge_segments(es, settings)
    said = (f"merged {r.segments_before} segments into {r.segments_after} in {r.seconds:.0f} s" if r.merged
            else f"{r.segments_before} segments, no merge needed")
    _log(f"segments: {said}")
    return said


def remove(settings: Settings) -> int:
    """Delete every `bench-latency` asset from the service alias (this server has no delete-by-query)."""
    es = make_client(settings.es)
    alias = assets_alias(settings.es)
    ids = (h["_id"] for h in scan(es, index=alias, query={"query": _institution_query()}, source=False,
                                  size=5_000))
    actions = ({"_op_type": "delete", "_index": alias, "_id": i} for i in ids)
    deleted = sum(ok for ok, _ in streaming_bulk(es, actions, chunk_size=5_000, raise_on_error=False))
    es.indices.refresh(index=alias)
    _setup_record(settings).unlink(missing_ok=True)
    es.close()
    return deleted


# ---------- requests ----------

def queries(n: int = N_QUERIES + N_WARMUP) -> list[str]:
    """n short queries, alternately zh and en, from the sample manifests' terms (deterministic)."""
    p = vectors._pools()
    zh_pool = vectors._uniq([*p.titles_zh, *p.periods_zh, *p.materials_zh, *p.categories_zh,
                             *(c for c in p.clauses_zh if len(c) <= 8),
                             *(f"{a}{b}" for a in p.periods_zh[:8] for b in p.categories_zh[:8])])
    en_pool = vectors._uniq([*(s for s in p.subjects if len(s) <= 30), *(t for t in p.titles_en if len(t) <= 40),
                             *(m for m in p.materials_en if len(m) <= 30), *p.categories_en])
    rng = random.Random(SEED)
    zh, en = rng.sample(zh_pool, (n + 1) // 2), rng.sample(en_pool, n // 2)
    return [q for pair in zip(zh, en, strict=False) for q in pair] + zh[len(en):]


def images(n: int = N_IMAGES + N_WARMUP) -> list[bytes]:
    """Small JPEGs (320×240, coloured shapes; tests/factories.make_image), one per seed."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n):
            out.append(make_image(Path(tmp) / f"{i}.jpg", seed=SEED * 1_000 + i, size=(320, 240)).read_bytes())
    return out
