"""Search latency through the gateway with 100,000 indexed assets, against Elasticsearch on its own.

Setup puts 100,000 synthetic assets of one institution, `bench-latency`, into the service alias
(the index the gateway searches), unless a count query finds them there already: AssetRecord
documents (tests/factories.make_asset) whose titles and descriptions come from the vectors bench's
catalogue generator, with that bench's cached real USE text vectors (each of the 50,000 used twice,
the second time with its text's segments in another order and another segment as title), taxonomy
categories and materials, a period, a licence and one image with a random unit 1280-d vector and a
pHash, their search terms made by the enrichment's own `search_terms` (jieba/Snowball), and the text vector
copied as the title vector (the title leg's kNN cost is real; its ranking is not what this bench measures).
They stay in the index afterwards, so a re-run is quick; `python -m tests.bench.latency
--remove` deletes them.

Then, every request filtered to `institution=bench-latency`:

- sequential: keyword, hybrid and image searches through the gateway one at a time (httpx), client
  round-trip against Elasticsearch's own `took` (`took_ms` of the page), with the query encoding
  measured apart in this process, so gateway overhead = round-trip − took − encoding;
- the raw baseline: the same kinds of requests straight to Elasticsearch with the Python client,
  and the gateway's Searcher called in-process (its Elasticsearch requests without HTTP/FastAPI);
- throughput: wrk, 16 connections for 30 s per mode, rotating through the queries.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
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
from indexing.query import HIGHLIGHT_FIELDS, Filters, Mode, Sort, facet_aggs, keyword_query, knn_clause
from indexing.source import record_source
from schemas import taxonomy
from schemas.asset import AssetRecord, EncoderInfo
from services.access.policy import visibility_filter
from services.access.principals import ANONYMOUS
from services.search import Query, Searcher
from services.settings import PROJECT_ROOT, Settings, get_settings
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
WRK_THREADS, WRK_CONNECTIONS, WRK_SECONDS = 2, 16, 30
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
    if not out.failed:
        path = _setup_record(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(out)))
    return out


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


@dataclass
class Series:
    round_trip: list[float] = field(default_factory=list)
    took: list[float] = field(default_factory=list)
    encoding: list[float] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)
    index: list[int] = field(default_factory=list)  # which request each round-trip is (errors left out)
    errors: int = 0
    first_error: str = ""

    def fail(self, msg: str) -> None:
        self.errors += 1
        self.first_error = self.first_error or msg


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def gateway_search(client: httpx.Client, qs: Sequence[str], mode: Mode,
                   encode: Callable[[int], None] | None = None) -> Series:
    """The queries one at a time; encode(k), if given, runs in this process just before request k."""
    out = Series()
    for k, q in enumerate(qs):
        if encode:
            encode(k)
        t0 = time.perf_counter()
        resp = client.get("/v1/search", params={"q": q, "mode": mode.value, "institution": INSTITUTION})
        rt = _ms(t0)
        if resp.status_code != 200:
            out.fail(f"HTTP {resp.status_code}: {resp.text[:200]}")
            continue
        body = resp.json()
        out.index.append(k)
        out.round_trip.append(rt)
        out.took.append(body["took_ms"])
        out.totals.append(body["total"])
    return out


def gateway_image(client: httpx.Client, pictures: Sequence[bytes], repeat: int,
                  encode: Callable[[int], None] | None = None) -> Series:
    out = Series()
    for k in range(repeat):
        data = pictures[k % len(pictures)]
        if encode:
            encode(k % len(pictures))
        t0 = time.perf_counter()
        resp = client.post("/v1/search/image", params={"institution": INSTITUTION},
                           files={"file": ("query.jpg", data, "image/jpeg")})
        rt = _ms(t0)
        if resp.status_code != 200:
            out.fail(f"HTTP {resp.status_code}: {resp.text[:200]}")
            continue
        out.index.append(k)
        out.round_trip.append(rt)
        out.totals.append(len(resp.json()["hits"]))
    return out


def encode_texts(qs: Sequence[str]) -> tuple[list[float], list[list[float]]]:
    """Per query: ms of text_encoder().encode([q]) in this process, and the vector."""
    encoder = text_encoder(get_settings().models)
    ms, vecs = [], []
    for q in qs:
        t0 = time.perf_counter()
        v = encoder.encode([q])[0]
        ms.append(_ms(t0))
        vecs.append(np.asarray(v).tolist())
    return ms, vecs


def encode_images(settings: Settings, pictures: Sequence[bytes]) -> tuple[list[float], list[float],
                                                                            list[list[float]]]:
    """Per picture: ms to decode (the gateway's own _open_upload) and to encode, and the vector."""
    from services.gateway.routers.search import _open_upload

    encoder = image_encoder(settings.models)
    assert encoder is not None
    decode, encode, vecs = [], [], []
    for data in pictures:
        t0 = time.perf_counter()
        picture = _open_upload(data, settings.ingest.max_image_pixels)
        decode.append(_ms(t0))
        t0 = time.perf_counter()
        vecs.append(np.asarray(encoder.encode([picture])[0]).tolist())
        encode.append(_ms(t0))
    return decode, encode, vecs


@dataclass
class Raw:
    name: str
    took: list[float] = field(default_factory=list)
    round_trip: list[float] = field(default_factory=list)
    note: str = ""


def _raw(name: str, items: Sequence[Any], call: Callable[[Any], Any], took: Callable[[Any], float | None],
         note: str = "") -> Raw:
    """call(item) for each item, timed; took(response) is Elasticsearch's time, if it reports one."""
    out = Raw(name, note=note)
    t_start = time.perf_counter()
    for item in items:
        t0 = time.perf_counter()
        resp = call(item)
        out.round_trip.append(_ms(t0))
        if (t := took(resp)) is not None:
            out.took.append(t)
    _log(f"raw: {name}: {len(items)} requests in {time.perf_counter() - t_start:.0f} s")
    return out


def raw_baseline(es: Elasticsearch, settings: Settings, qs: Sequence[str], text_vecs: Sequence[list[float]],
                 image_vecs: Sequence[list[float]]) -> list[Raw]:
    """The gateway's Elasticsearch requests, sent straight with the Python client (and the Searcher in-process)."""
    alias = assets_alias(settings.es)
    s = settings.search
    flt = _filters()
    window = s.semantic_window
    highlight = {"fields": {f: {} for f in HIGHLIGHT_FIELDS}, "number_of_fragments": 2, "fragment_size": 120}
    searcher = Searcher(es, settings)
    vis = visibility_filter(ANONYMOUS)  # the gateway's requests carry the caller's filter: the public's here
    pits: list[str] = []

    def es_took(resp: Any) -> float:
        return float(resp["took"])

    def page_took(page: Any) -> float:
        return float(page.took_ms)

    def no_took(_: Any) -> None:
        return None

    def open_pit(_: str) -> None:
        pits.append(es.open_point_in_time(index=alias, keep_alive="1m")["id"])

    def keyword_page(q: str) -> Any:
        return es.search(index=alias, query=keyword_query(q, flt, vis), size=PAGE_SIZE,
                         source=record_source(), highlight=highlight, track_total_hits=True)

    def facets(q: str) -> Any:
        return es.search(index=alias, query=keyword_query(q, flt, vis), size=0, aggs=facet_aggs(),
                         track_total_hits=True)

    def keyword_leg(q: str) -> Any:
        return es.search(index=alias, query=keyword_query(q, flt, vis), size=window, source=False,
                         track_total_hits=True)

    def knn_leg(v: list[float]) -> Any:
        return es.search(index=alias, knn=knn_clause("text_vector", v, window, s.num_candidates, flt, vis),
                         size=window, source=False)

    def knn_page(v: list[float]) -> Any:
        return es.search(index=alias, knn=knn_clause("text_vector", v, PAGE_SIZE, s.num_candidates, flt, vis),
                         size=PAGE_SIZE, source=False)

    def image_knn(v: list[float]) -> Any:  # as services/assets._knn_neighbours builds it
        knn = knn_clause("images.vector", v, PAGE_SIZE, s.num_candidates, flt, vis)
        return es.search(index=alias, knn=knn, size=PAGE_SIZE, source=record_source())

    def searcher_page(mode: Mode) -> Callable[[str], Any]:
        def run(q: str) -> Any:
            return searcher.search(Query(q=q, mode=mode, filters=flt, sort=Sort.RELEVANCE, size=PAGE_SIZE),
                                   visibility=vis)
        return run

    rows = [_raw("open point in time (a page that hands out `next` opens one)", qs, open_pit, no_took)]
    for pit in pits:  # the bench's own points in time, closed at once
        es.options(ignore_status=404).close_point_in_time(id=pit)
    rows += [
        _raw(f"keyword: top {PAGE_SIZE}, highlights, total", qs, keyword_page, es_took),
        _raw("facets: 8 terms aggregations, size 0", qs, facets, es_took),
        _raw(f"hybrid keyword leg: top {window}, ids only", qs, keyword_leg, es_took),
        _raw(f"hybrid kNN leg: text_vector k={window}, num_candidates {max(s.num_candidates, window)}, ids only",
             text_vecs, knn_leg, es_took),
        _raw(f"kNN text_vector k={PAGE_SIZE}, num_candidates {s.num_candidates} (for scale)", text_vecs, knn_page,
             es_took),
        _raw(f"image kNN: images.vector k={PAGE_SIZE}, num_candidates {max(s.num_candidates, PAGE_SIZE)}, records",
             image_vecs, image_knn, es_took),
        _raw("Searcher.search in-process, keyword page", qs, searcher_page(Mode.KEYWORD), page_took,
             "PIT + search + facets"),
        _raw("Searcher.search in-process, hybrid page", qs, searcher_page(Mode.HYBRID), page_took,
             "PIT + kNN + keyword leg + facets + total + hydrate; encoding included"),
    ]
    return rows


# ---------- throughput ----------

@dataclass
class Load:
    tool: str
    mode: str
    connections: int
    seconds: float
    requests: int = 0
    p50: float = 0.0
    p90: float = 0.0
    p99: float = 0.0
    errors: str = ""
    cpu: dict[str, float] = field(default_factory=dict)  # cores used during the run, per process group
    note: str = ""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _search_paths(qs: Sequence[str], mode: Mode) -> list[str]:
    return ["/v1/search?" + urlencode({"q": q, "mode": mode.value, "institution": INSTITUTION}) for q in qs]


WRK_SCRIPT = """
local paths = {
%s
}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n - 1) %% #paths + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK_RESULT requests=%%d duration_us=%%d p50_us=%%d p90_us=%%d p99_us=%%d " ..
    "connect=%%d read=%%d write=%%d status=%%d timeout=%%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


class _Cpu:
    """CPU seconds of the gateway's and Elasticsearch's process trees, of this process's children, of the machine."""

    def __init__(self, pids: dict[str, list[int]]) -> None:
        self.pids = pids
        self.start = self._sample()

    @staticmethod
    def _ticks(pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _sample(self) -> dict[str, float]:
        out = {name: sum(self._ticks(p) for p in pids) for name, pids in self.pids.items()}
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        out["load tool"] = children.ru_utime + children.ru_stime
        cpu = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        out["machine"] = (sum(cpu) - cpu[3] - cpu[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait
        out["wall"] = time.perf_counter()
        return out

    def cores(self) -> dict[str, float]:
        end = self._sample()
        wall = end["wall"] - self.start["wall"]
        return {k: (end[k] - self.start[k]) / wall for k in end if k != "wall"}


def run_wrk(wrk: str, base_url: str, qs: Sequence[str], mode: Mode, pids: dict[str, list[int]], key: str) -> Load:
    out = Load("wrk", mode.value, WRK_CONNECTIONS, WRK_SECONDS)
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "rotate.lua"
        script.write_text(f'wrk.headers["Authorization"] = "Bearer {key}"\n'
                          + WRK_SCRIPT % ",\n".join(f'  "{p}"' for p in _search_paths(qs, mode)))
        cmd = [wrk, f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{WRK_SECONDS}s", "--latency", "--timeout", "60s",
               "-s", str(script), base_url]
        cpu = _Cpu(pids)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=WRK_SECONDS + 120)
        out.cpu = cpu.cores()
    m = re.search(r"WRK_RESULT (.*)", proc.stdout)
    if proc.returncode != 0 or not m:
        out.errors = f"wrk failed (exit {proc.returncode}): {(proc.stderr or proc.stdout)[-300:]}"
        return out
    r = {k: int(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
    out.requests, out.seconds = r["requests"], r["duration_us"] / 1e6
    out.p50, out.p90, out.p99 = r["p50_us"] / 1000, r["p90_us"] / 1000, r["p99_us"] / 1000
    errs = {k: r[k] for k in ("connect", "read", "write", "status", "timeout") if r[k]}
    out.errors = ", ".join(f"{k} {v}" for k, v in errs.items()) or "0"
    rps = re.search(r"Requests/sec:\s+([\d.]+)", proc.stdout)
    out.note = f"wrk's own Requests/sec {rps.group(1)}" if rps else ""
    return out


def run_async(base_url: str, qs: Sequence[str], mode: Mode, pids: dict[str, list[int]], key: str) -> Load:
    """Fallback without wrk: 16 asyncio workers on one httpx.AsyncClient (the client shares the 2 cores)."""
    out = Load("httpx asyncio (wrk not found)", mode.value, WRK_CONNECTIONS, WRK_SECONDS)
    paths = _search_paths(qs, mode)
    latencies: list[float] = []
    errors = 0

    async def worker(client: httpx.AsyncClient, offset: int, deadline: float) -> None:
        nonlocal errors
        k = offset
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                resp = await client.get(paths[k % len(paths)])
                if resp.status_code == 200:
                    latencies.append(_ms(t0))
                else:
                    errors += 1
            except httpx.HTTPError:
                errors += 1
            k += 1

    async def main() -> float:
        limits = httpx.Limits(max_connections=WRK_CONNECTIONS)
        async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits,
                                     headers={"Authorization": f"Bearer {key}"}) as client:
            t0 = time.perf_counter()
            await asyncio.gather(*(worker(client, i, t0 + WRK_SECONDS) for i in range(WRK_CONNECTIONS)))
            return time.perf_counter() - t0

    cpu = _Cpu(pids)
    out.seconds = asyncio.run(main())
    out.cpu = cpu.cores()
    out.cpu["load tool"] = out.cpu.get("machine", 0) - out.cpu.get("gateway", 0) - out.cpu.get("elasticsearch", 0)
    out.requests = len(latencies)
    if latencies:
        out.p50, out.p90, out.p99 = (float(np.percentile(latencies, p)) for p in (50, 90, 99))
    out.errors = str(errors)
    out.note = "load-tool CPU = machine − gateway − ES (the client runs in this process)"
    return out


# ---------- the stack ----------

def _service_pids(settings: Settings) -> tuple[dict[str, list[int]], str]:
    """Process trees of the gateway and Elasticsearch, and how the gateway was started."""
    deploy = str(PROJECT_ROOT / "deploy" / "local")
    if deploy not in sys.path:
        sys.path.insert(0, deploy)
    from stacklib import procs
    from stacklib.services import all_services
    from tests.bench.stack_memory import _children, _descendants

    tree = _children()
    pids: dict[str, list[int]] = {}
    how = "gateway not found"
    for svc in all_services(settings):
        if svc.name not in ("gateway", "elasticsearch") or (pid := procs.live_pid(svc.pid_file)) is None:
            continue
        pids[svc.name] = _descendants(pid, tree)
        if svc.name == "gateway":
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
            workers = argv[argv.index("--workers") + 1] if "--workers" in argv else "1 (no --workers flag)"
            how = (f"uvicorn `{Path(argv[1]).name} {' '.join(a for a in argv[2:] if a)}`: workers {workers}, "
                   f"{len(pids[svc.name])} process(es)")
    return pids, how


def _open_contexts(es: Elasticsearch) -> int:
    stats = es.nodes.stats(metric="indices", index_metric="search")
    return sum(int(n["indices"]["search"]["open_contexts"]) for n in stats["nodes"].values())


def _index_segments(es: Elasticsearch, alias: str) -> tuple[int, int]:
    primaries = es.indices.stats(index=alias, metric="docs,segments")["_all"]["primaries"]
    return int(primaries["segments"]["count"]), int(primaries["docs"]["count"])


# ---------- measure ----------

@dataclass
class Results:
    setup: Setup
    seq: dict[str, Series]
    encoding: dict[str, list[float]]
    raw: list[Raw]
    loads: list[Load]
    gateway: str
    es_version: str
    segments: int
    lucene_docs: int
    alias_docs: int
    bench_docs: int
    loadavg: dict[str, tuple[float, float, float]]
    contexts: dict[str, int]
    seconds: dict[str, float]
    image_took: list[float]  # raw image kNN took per gateway image request (the image route reports none)
    wrk_missing: str = ""


BENCH_RATE = 100_000  # requests a minute: the most a key may have


def bench_key(settings: Settings) -> str:
    """A key of a partner app of the benchmark's own (made anew each run)."""
    from services.access.db import Database, upgrade
    from tests.access import app_key

    upgrade(settings.db)
    db = Database(settings.db)
    try:
        return app_key(db, rate=BENCH_RATE)[0]
    finally:
        db.close()


def measure(settings: Settings) -> str:
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    loadavg: dict[str, tuple[float, float, float]] = {"start": os.getloadavg()}
    es = make_client(settings.es)
    alias = assets_alias(settings.es)
    encoders = _encoders()
    try:
        setup_result = setup(es, settings, encoders)
        seconds["setup"] = time.perf_counter() - started
        if setup_result.failed:
            _log(f"{setup_result.failed:,} documents refused, e.g. {setup_result.example_failure}")
        segments, lucene_docs = _index_segments(es, alias)
        alias_docs = int(es.count(index=alias)["count"])
        bench_docs = count_assets(es, alias)
        pids, gateway_how = _service_pids(settings)
        # The load carries a partner app's key: the same filter as the public's (an app without grants
        # sees what everyone sees), with a rate limit high enough that the gateway never throttles it.
        key = bench_key(settings)
        gateway_how += ("; every request carries a partner app's key (the public's visibility filter, "
                        f"{BENCH_RATE:,} requests/min)")
        qs = queries()
        warm_qs, bench_qs = qs[:N_WARMUP], qs[N_WARMUP:]
        pictures = images()
        warm_pics, bench_pics = pictures[:N_WARMUP], pictures[N_WARMUP:]
        has_images = encoders["image"] is not None

        # Encoding is timed in this process just before each gateway request (same machine load), and its
        # vectors are those of the raw kNN requests.
        encoding: dict[str, list[float]] = {"keyword": [0.0] * len(bench_qs), "hybrid": [], "image decode": [],
                                            "image encode": []}
        text_vecs: list[list[float]] = []
        pic_vecs: dict[int, list[float]] = {}

        def encode_text(k: int) -> None:
            ms, vec = encode_texts([bench_qs[k]])
            encoding["hybrid"] += ms
            text_vecs.extend(vec)

        def encode_picture(k: int) -> None:
            decode, encode, vec = encode_images(settings, [bench_pics[k]])
            encoding["image decode"] += decode
            encoding["image encode"] += encode
            pic_vecs[k] = vec[0]

        encode_texts(warm_qs)
        if has_images:
            encode_images(settings, warm_pics)

        t0 = time.perf_counter()
        loadavg["sequential"] = os.getloadavg()
        contexts = {"before": _open_contexts(es)}
        seq: dict[str, Series] = {}
        with httpx.Client(base_url=settings.gateway.public_url, timeout=120,
                          headers={"Authorization": f"Bearer {key}"}) as client:
            for mode in (Mode.KEYWORD, Mode.HYBRID):
                _log(f"gateway {mode.value}: {N_WARMUP} warm-up + {len(bench_qs)} sequential requests")
                gateway_search(client, warm_qs, mode)
                seq[mode.value] = gateway_search(client, bench_qs, mode,
                                                 encode_text if mode is Mode.HYBRID else None)
            if has_images:
                _log(f"gateway image: {N_WARMUP} warm-up + {len(bench_qs)} sequential requests")
                gateway_image(client, warm_pics, N_WARMUP)
                seq["image"] = gateway_image(client, bench_pics, len(bench_qs), encode_picture)
        encoding["image"] = [d + e for d, e in zip(encoding["image decode"], encoding["image encode"], strict=True)]
        image_vecs = [pic_vecs[k % len(bench_pics)] for k in range(len(bench_qs))] if has_images else []
        contexts["after sequential"] = _open_contexts(es)
        seconds["sequential"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        _log("raw Elasticsearch baseline")
        _, warm_vecs = encode_texts(warm_qs)
        raw_baseline(es, settings, warm_qs, warm_vecs, image_vecs[:N_WARMUP])  # warm-up
        raw = raw_baseline(es, settings, bench_qs, text_vecs, image_vecs)
        image_raw = next((r for r in raw if r.name.startswith("image kNN")), None)
        image_took = image_raw.took if image_raw and has_images else []
        seconds["raw baseline"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        loadavg["throughput"] = os.getloadavg()
        loads: list[Load] = []
        wrk = shutil.which("wrk")
        missing = "" if wrk else ("wrk is not installed (`apt-get install -y wrk`); the throughput table uses an "
                                  "asyncio httpx client instead")
        if missing:
            _log(missing)
        for mode in (Mode.KEYWORD, Mode.HYBRID):
            _log(f"throughput {mode.value}: {WRK_CONNECTIONS} connections for {WRK_SECONDS} s")
            if wrk:
                loads.append(run_wrk(wrk, settings.gateway.public_url, bench_qs, mode, pids, key))
            else:
                loads.append(run_async(settings.gateway.public_url, bench_qs, mode, pids, key))
        contexts["after throughput"] = _open_contexts(es)
        seconds["throughput"] = time.perf_counter() - t0
        loadavg["end"] = os.getloadavg()
        nodes = es.nodes.info(node_id="_local", filter_path="nodes.*.version")["nodes"]
        es_version = ", ".join(sorted({str(n["version"]) for n in nodes.values()}))
    finally:
        es.close()
    seconds["total"] = time.perf_counter() - started
    _log(f"done in {seconds['total']:.0f} s")
    return report(settings, Results(setup_result, seq, encoding, raw, loads, gateway_how, es_version, segments,
                                    lucene_docs, alias_docs, bench_docs, loadavg, contexts, seconds, image_took,
                                    missing))


# ---------- report ----------

def _pct(values: Sequence[float], p: float) -> str:
    return f"{np.percentile(values, p):.1f}" if len(values) else "—"


def _median(values: Sequence[float]) -> float:
    return float(np.median(values)) if len(values) else float("nan")


def _overhead(s: Series, enc: Sequence[float], took: Sequence[float], took_by_request: bool) -> float:
    """Median over requests of round-trip − took − encoding of the same request (took_by_request: took is
    indexed by request number, as the raw image kNN; otherwise it is the series' own, one per round-trip)."""
    try:
        return _median([rt - (took[k] if took_by_request else took[j]) - enc[k]
                        for j, (k, rt) in enumerate(zip(s.index, s.round_trip, strict=True))])
    except IndexError:
        return float("nan")


def report(settings: Settings, r: Results) -> str:
    s = settings.search
    su = r.setup
    la = r.loadavg
    if su.reused:
        bulk = f"found already indexed ({su.present_before:,} assets of `{INSTITUTION}`, count query); "
        bulk += (f"the run that indexed them ({su.when}) bulk-indexed {su.indexed:,} at "
                 f"**{su.indexed / su.bulk_s:,.0f} docs/s**" if su.bulk_s
                 else "the numbers of the run that indexed them are not recorded")
    else:
        bulk = f"indexed in this run: {su.indexed:,} at **{su.indexed / su.bulk_s:,.0f} docs/s**" if su.bulk_s else ""
    if su.bulk_s:
        bulk += (f" (`index_documents`, one stream, chunks of 500, {su.bulk_s:.0f} s; building the documents "
                 f"{su.build_s:.0f} s more; refresh {su.refresh_s:.1f} s; {su.failed:,} refused"
                 + (f", e.g. {su.example_failure}" if su.example_failure else "") + ")")
    method = (
        f"Data: {N_ASSETS:,} synthetic assets of one institution, `{INSTITUTION}`, in the service alias "
        f"`{assets_alias(settings.es)}` beside the {r.alias_docs - r.bench_docs:,} other assets there "
        f"({r.alias_docs:,} in all; {r.lucene_docs:,} Lucene docs with the nested images, "
        f"{r.segments} segments, not force-merged; Elasticsearch {r.es_version}, 1 shard, "
        f"{s.vector_index_type} m={s.hnsw_m}). Each is a `make_asset` AssetRecord with titles and a description "
        f"from the vectors bench's catalogue generator (seed 7; ~50 % en, ~35 % zh, ~15 % mixed) and that bench's "
        f"cached real USE-multilingual-v3 text vectors: each of its 50,000 vectors serves two assets, the second with "
        f"its text's segments rotated and another segment as title (same words, so the vector still fits). Taxonomy "
        f"category and 1–2 materials, a period (zh) or date (en) with `period_norm`, a licence, and one image record "
        f"whose 1280-d vector is **random gaussian, L2-normalised** (not a real EfficientNet embedding: image kNN "
        f"cost is realistic, image results are not) with a random pHash; `ai` names the configured encoders. "
        f"Setup: {bulk}. "
        f"Requests: {N_QUERIES} queries alternately zh and en, short terms drawn (seed {SEED}) from the sample "
        f"manifests (titles, periods, materials, categories, Tate subjects; e.g. `{queries()[N_WARMUP]}`, "
        f"`{queries()[N_WARMUP + 1]}`), every request filtered to `institution={INSTITUTION}`, page size "
        f"{PAGE_SIZE}; {N_WARMUP} other queries first as warm-up. Image search: {N_IMAGES} different 320×240 JPEGs "
        f"(tests/factories.make_image), {N_QUERIES} requests round-robin, multipart `file`. Sequential: one httpx "
        f"client, keep-alive, one request at a time; round-trip is its wall time; ES took is the page's `took_ms` "
        f"(Elasticsearch's own time summed over the page's requests). Encoding is timed in the bench process just "
        f"before each gateway request, under the same load (`text_encoder().encode([q])`; for images the "
        f"gateway's own `_open_upload` decode + "
        f"`image_encoder().encode([img])`); gateway overhead = median over requests of round-trip − took − encoding "
        f"of the same query. The image route reports no `took`: its ES column and overhead use the `took` of the "
        f"same kNN sent straight to Elasticsearch for the same picture (raw table). Gateway: {r.gateway}; hybrid "
        f"uses semantic_window={s.semantic_window}, num_candidates={s.num_candidates}. Machine: 2 cores shared by "
        f"Elasticsearch (heap {settings.stack.es_heap}), the gateway, the load tool, this bench and the rest of the "
        f"stack (Airflow idle) — other work on the machine shows in the load average: "
        + ", ".join(f"{k} {v[0]:.2f}" for k, v in la.items()) + " (1-min)."
    )
    lines = [method, "",
             "| kind | requests | errors | round-trip p50 ms | p95 | p99 | ES took p50 ms | p95 | p99 "
             "| encoding p50 ms | gateway overhead p50 ms | hits p50 |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for kind, label in (("keyword", "keyword (`GET /v1/search?mode=keyword`)"),
                        ("hybrid", "hybrid (`GET /v1/search`, default mode)"),
                        ("image", "image (`POST /v1/search/image`)")):
        series = r.seq.get(kind)
        if series is None:
            lines.append(f"| {label} | — | — | image search is off (no image encoder) | | | | | | | | |")
            continue
        took = series.took if kind != "image" else r.image_took
        enc = r.encoding.get(kind, [])
        mark = " (raw)" if kind == "image" else ""
        enc_cell = "0" if kind == "keyword" else f"{_median(enc):.1f}"
        if kind == "image" and "image decode" in r.encoding:
            enc_cell += (f" (decode {_median(r.encoding['image decode']):.1f} + encode "
                         f"{_median(r.encoding['image encode']):.1f})")
        overhead = _overhead(series, enc, took, kind == "image")
        err = f"{series.errors}" + (f" ({series.first_error[:80]})" if series.errors else "")
        lines.append(
            f"| {label} | {len(series.round_trip) + series.errors} | {err} | {_pct(series.round_trip, 50)} "
            f"| {_pct(series.round_trip, 95)} | {_pct(series.round_trip, 99)} | {_pct(took, 50)}{mark} "
            f"| {_pct(took, 95)}{mark} | {_pct(took, 99)}{mark} | {enc_cell} | {overhead:.1f} "
            f"| {_median(series.totals):,.0f} |")
    lines += ["", "Raw baseline: the requests the gateway makes, sent one at a time straight to Elasticsearch with "
                  "the Python client (same queries, in-process vectors, same filter), and the gateway's `Searcher` "
                  "called in this process (its Elasticsearch requests and Python work, without HTTP and FastAPI).",
              "", "| request | took p50 ms | p95 | p99 | round-trip p50 ms | p95 | p99 | note |",
              "|---|---:|---:|---:|---:|---:|---:|---|"]
    for row in r.raw:
        lines.append(f"| {row.name} | {_pct(row.took, 50)} | {_pct(row.took, 95)} | {_pct(row.took, 99)} "
                     f"| {_pct(row.round_trip, 50)} | {_pct(row.round_trip, 95)} | {_pct(row.round_trip, 99)} "
                     f"| {row.note} |")
    seq_rt = {k: _median(v.round_trip) for k, v in r.seq.items()}
    in_proc = {m: _median(row.round_trip) for row in r.raw for m in ("keyword", "hybrid")
               if row.name == f"Searcher.search in-process, {m} page"}
    lines += ["", "HTTP + FastAPI + response validation/serialisation (gateway round-trip p50 − in-process "
                  "Searcher p50): " + ", ".join(f"{m} {seq_rt[m] - in_proc[m]:.1f} ms" for m in in_proc
                                                 if m in seq_rt) + "."]
    def raw_took(prefix: str) -> float:
        return next((_median(row.took) for row in r.raw if row.name.startswith(prefix)), float("nan"))

    hybrid = r.seq.get("hybrid")
    if hybrid and hybrid.round_trip:
        lines += ["", f"**Where the hybrid time goes (p50):** round-trip {_median(hybrid.round_trip):.0f} ms, of which "
                      f"Elasticsearch {_median(hybrid.took):.0f} ms (its legs sent alone: kNN k={s.semantic_window} "
                      f"{raw_took('hybrid kNN leg'):.0f} ms, keyword top {s.semantic_window} "
                      f"{raw_took('hybrid keyword leg'):.0f} ms, facets {raw_took('facets'):.0f} ms; a k={PAGE_SIZE} "
                      f"kNN takes {raw_took(f'kNN text_vector k={PAGE_SIZE}'):.0f} ms), query encoding "
                      f"{_median(r.encoding.get('hybrid', [])):.0f} ms, and "
                      f"{_overhead(hybrid, r.encoding.get('hybrid', []), hybrid.took, False):.0f} ms in the gateway "
                      f"(HTTP, opening the point in time, JSON of the two {s.semantic_window}-hit legs, fusion, "
                      f"hydration, response)."]
    lines += ["", f"Throughput: {WRK_CONNECTIONS} concurrent connections for {WRK_SECONDS} s per mode against "
                  f"`GET /v1/search`, rotating through the {N_QUERIES} queries (filtered to `{INSTITUTION}`), on "
                  f"loopback; wrk `-t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{WRK_SECONDS}s --latency --timeout 60s` "
                  f"with a Lua script (latency percentiles from wrk's own histogram). CPU columns: cores used "
                  f"during the run (CPU seconds / wall) by the gateway's process tree, Elasticsearch's, the load "
                  f"tool and the whole machine (of 2)."
              + (f" **{r.wrk_missing}.**" if r.wrk_missing else ""),
              "", "| tool | mode | connections | duration s | requests | req/s | p50 ms | p90 ms | p99 ms | errors "
                  "| gateway cores | ES cores | load-tool cores | machine busy cores |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
    for ld in r.loads:
        c = ld.cpu
        lines.append(f"| {ld.tool} | {ld.mode} | {ld.connections} | {ld.seconds:.1f} | {ld.requests:,} "
                     f"| {ld.rps:.1f} | {ld.p50:.0f} | {ld.p90:.0f} | {ld.p99:.0f} | {ld.errors} "
                     f"| {c.get('gateway', 0):.2f} | {c.get('elasticsearch', 0):.2f} | {c.get('load tool', 0):.2f} "
                     f"| {c.get('machine', 0):.2f} |")
    ctx = r.contexts
    lines += ["", f"Open search contexts on the Elasticsearch node (`_nodes/stats`, mostly the points in time each "
                  f"page opens and leaves open for 5 min): {ctx.get('before', 0):,} before the sequential runs, "
                  f"{ctx.get('after sequential', 0):,} after them, {ctx.get('after throughput', 0):,} after the "
                  f"throughput runs.",
              "", "Bench time: " + ", ".join(f"{k} {v:.0f} s" for k, v in r.seconds.items())
              + ". Remove the bench assets: `.venv/bin/python -m tests.bench.latency --remove`."]
    return "\n".join(lines)


if __name__ == "__main__":
    from services.settings import get_settings

    if sys.argv[1:] == ["--remove"]:
        print(f"deleted {remove(get_settings()):,} {INSTITUTION} assets")
    else:
        print(measure(get_settings()))
