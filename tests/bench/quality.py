"""Search quality of the production search against the raw text model, on the dev sets, in one run.

Sets (tests/bench/devsets/README.md has how each was written and its licence):
- **tate-zh**: Chinese queries over 3,000 English-only Tate records (CC0), titles and short terms;
- **zh-en**: English queries over Chinese-only catalogue records written by the team;
- **script**: simplified queries over traditional-script records and back;
- **known-item zh / en**: each record's own title as the query, within its language (zh-en and tate-zh
  corpora): the record must come first;
- **bilingual zh→en / en→zh** and **Tate subjects**: the earlier sets (samples/), kept for continuity.

Each set is indexed into its own temporary index (unique `es.index_prefix`, deleted afterwards) by the
production `Enricher` (no images, no OCR), force-merged to one segment; every query goes through
`Searcher.search` in each mode (first page of 10). In the same run the **raw model** — the configured
text encoder alone — embeds each record's title, description and whole text (`embedding_text`) and
the query, and ranks all records by exact cosine (numpy): the baseline the service must not fall
below. Scores: hit@1/5/10 (a relevant record in the top k), MRR@10, nDCG@10 (binary gains).
`NONSENSE` queries measure the floor: how many of them return nothing.
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from elasticsearch import Elasticsearch

from indexing.aliases import assets_alias, ensure_assets_index
from indexing.bulk import index_documents
from indexing.client import make_client
from indexing.encoders import text_encoder
from indexing.enrich import Enricher, embedding_text, title_text
from indexing.query import Filters, Mode, Sort
from schemas.asset import AssetRecord
from schemas.manifest import ManifestRow
from services.search import Query, Searcher
from services.settings import Settings
from tests.bench.classification import BILINGUAL, SEED, TATE, _asset

DEVSETS = Path(__file__).parent / "devsets"
K = 10
MODES = (Mode.KEYWORD, Mode.SEMANTIC, Mode.HYBRID)
METRICS = ("hit@1", "hit@5", "hit@10", "MRR", "nDCG@10")
RAW_FIELDS: dict[str, Callable[[AssetRecord], str]] = {
    "title": title_text,
    "description": lambda a: "\n".join(t for t in (a.description_zh, a.description_en) if t),
    "all": embedding_text,
}
NONSENSE = ["xqzv blorf", "qwertyuiop", "asdf jkl", "zzzzzz", "lorem ipsum dolor", "bnm vcx", "啊啊啊啊",
            "咕噜噜嘎嘎", "12345 67890", "foo bar baz", "hjkl yuio", "嘻嘻哈哈呵呵", "plmokn ijbuhv", "xyz 123 abc",
            "グーグル", "snark boojum", "wug blick", "嗯嗯嗯", "kxcd", "frobnicate quux"]


def _log(msg: str) -> None:
    print(f"[bench quality] {msg}", file=sys.stderr, flush=True)


@dataclass
class EvalQuery:
    q: str
    relevant: frozenset[str]
    kind: str = ""


@dataclass
class EvalSet:
    name: str
    assets: list[AssetRecord]
    queries: list[EvalQuery]


# ---------- sets ----------

def _jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _records(name: str) -> list[AssetRecord]:
    fields = set(ManifestRow.model_fields)
    return [_asset(ManifestRow.model_validate({k: v for k, v in r.items() if k in fields}))
            for r in _jsonl(DEVSETS / f"{name}.records.jsonl")]


def devset(name: str, label: str) -> EvalSet | None:
    if not (DEVSETS / f"{name}.queries.jsonl").exists():
        return None
    queries = [EvalQuery(str(q["q"]), frozenset(q["relevant"]), str(q.get("kind", "")))  # type: ignore[arg-type]
               for q in _jsonl(DEVSETS / f"{name}.queries.jsonl")]
    return EvalSet(label, _records(name), queries)


def known_item(name: str, label: str, title: Callable[[AssetRecord], str | None], limit: int = 300) -> EvalSet | None:
    """Each record's title as its query; relevant: every record with that same title."""
    if not (DEVSETS / f"{name}.records.jsonl").exists():
        return None
    assets = _records(name)
    by_title: dict[str, set[str]] = defaultdict(set)
    for a in assets:
        if t := title(a):
            by_title[t.strip()].add(a.asset_id)
    titles = sorted(by_title)
    chosen = sorted(random.Random(SEED).sample(titles, min(limit, len(titles))))
    return EvalSet(label, assets, [EvalQuery(t, frozenset(by_title[t]), "title") for t in chosen])


def _rows(path: Path) -> list[ManifestRow]:
    from services.ingest.manifest import read_manifest

    return [p.record for p in read_manifest(path) if p.record is not None]


def legacy_sets() -> list[EvalSet]:
    """The earlier sets of samples/: the bilingual records one language at a time, and Tate subjects."""
    rows = [r for r in _rows(BILINGUAL) if r.title_zh and r.title_en and r.description_zh and r.description_en]
    assets = [_asset(row) for row in rows]
    en_only = [a.model_copy(update=dict.fromkeys(("title_zh", "original_title", "description_zh"))) for a in assets]
    zh_only = [a.model_copy(update=dict.fromkeys(("title_en", "description_en"))) for a in assets]
    tate_rows = _rows(TATE)
    tagged: dict[str, set[str]] = defaultdict(set)
    for row in tate_rows:
        for term in (row.extra.get("subjects") or "").split(";"):
            if term.strip():
                tagged[term.strip()].add(row.object_id)
    terms = sorted(t for t, ids in tagged.items() if 3 <= len(ids) <= 50)
    chosen = sorted(random.Random(SEED).sample(terms, min(100, len(terms))))
    return [EvalSet("bilingual zh→en", en_only, [EvalQuery(r.title_zh or "", frozenset([r.object_id])) for r in rows]),
            EvalSet("bilingual en→zh", zh_only, [EvalQuery(r.title_en or "", frozenset([r.object_id])) for r in rows]),
            EvalSet("Tate subjects", [_asset(r) for r in tate_rows],
                    [EvalQuery(t, frozenset(tagged[t])) for t in chosen])]


def all_sets() -> list[EvalSet]:
    sets = [devset("tate-zh", "tate-zh: zh→en"), devset("zh-en", "zh-en: en→zh"),
            devset("script", "script: trad↔simp"),
            known_item("zh-en", "known-item zh", lambda a: a.title_zh),
            known_item("tate-zh", "known-item en", lambda a: a.title_en)]
    return [s for s in sets if s is not None] + legacy_sets()


# ---------- metrics ----------

def first_rank(ids: Sequence[str], relevant: frozenset[str]) -> int | None:
    return next((i for i, x in enumerate(ids[:K], start=1) if x in relevant), None)


def score(metric: str, ids: Sequence[str], relevant: frozenset[str]) -> float:
    rank = first_rank(ids, relevant)
    if metric.startswith("hit@"):
        return 1.0 if rank is not None and rank <= int(metric[4:]) else 0.0
    if metric == "MRR":
        return 1 / rank if rank else 0.0
    dcg = sum(1 / math.log2(i + 2) for i, x in enumerate(ids[:K]) if x in relevant)
    return dcg / sum(1 / math.log2(i + 2) for i in range(min(len(relevant), K)))


@dataclass
class SetResult:
    name: str
    records: int
    queries: list[EvalQuery]
    ranked: dict[str, list[list[str]]] = field(default_factory=dict)  # method → per query, ranked ids
    totals: dict[str, list[int]] = field(default_factory=dict)  # service mode → per query, `total`
    nonsense_empty: int = 0
    seconds: float = 0.0

    def mean(self, method: str, metric: str) -> float:
        runs = self.ranked[method]
        return sum(score(metric, ids, q.relevant) for ids, q in zip(runs, self.queries, strict=True)) / len(runs)

    def best_raw(self, metric: str) -> str:
        return max((m for m in self.ranked if m.startswith("raw:")), key=lambda m: self.mean(m, metric))


# ---------- runs ----------

def raw_rankings(ds: EvalSet, encode: Callable[[list[str]], np.ndarray]) -> dict[str, list[list[str]]]:
    """The raw model: exact cosine of the query to one field of every record, for each field."""
    queries = encode([q.q for q in ds.queries])
    out = {}
    for name, text in RAW_FIELDS.items():
        texts = [text(a) for a in ds.assets]
        if not any(texts):
            continue
        vectors = encode(texts)
        sims = queries @ vectors.T
        ids = np.array([a.asset_id for a in ds.assets])
        out[f"raw:{name}"] = [list(ids[np.argsort(-row, kind="stable")[:K]]) for row in sims]
    return out


def run_set(es: Elasticsearch, settings: Settings, ds: EvalSet) -> SetResult:
    started = time.perf_counter()
    prefix = f"bench-quality-{uuid.uuid4().hex[:8]}"
    scoped = settings.model_copy(update={"es": settings.es.model_copy(update={"index_prefix": prefix})})
    alias = assets_alias(scoped.es)
    result = SetResult(ds.name, len(ds.assets), ds.queries)
    encoder = text_encoder(settings.models)
    try:
        enricher = Enricher(scoped, None, None, text=encoder, image=None, use_ocr=False)
        ensure_assets_index(es, scoped, enricher.encoders)
        _log(f"{ds.name}: enriching {len(ds.assets)} records")
        enriched = enricher.enrich(ds.assets)
        indexed = index_documents(es, alias, [(a.asset_id, a.model_dump(mode="json")) for a in enriched])
        if indexed.failed:
            raise RuntimeError(f"{len(indexed.failed)} documents refused, e.g. {next(iter(indexed.failed.values()))}")
        es.indices.refresh(index=alias)
        es.indices.forcemerge(index=alias, max_num_segments=1)
        result.ranked = raw_rankings(ds, lambda texts: encoder.encode(texts, batch_size=64))
        searcher = Searcher(es, scoped, text=encoder, image=None)
        for mode in MODES:
            runs, totals = [], []
            for eq in ds.queries:
                page = searcher.search(Query(eq.q, mode, Filters(), Sort.RELEVANCE, K), visibility=None)
                runs.append([h["asset_id"] for h in page.hits])
                totals.append(page.total)
            result.ranked[f"service:{mode}"], result.totals[str(mode)] = runs, totals
            _log(f"{ds.name}: {mode} done")
        result.nonsense_empty = sum(
            searcher.search(Query(q, Mode.HYBRID, Filters(), Sort.RELEVANCE, K), visibility=None).total == 0
            for q in NONSENSE)
    finally:
        es.indices.delete(index=f"{alias}-v*", allow_no_indices=True)
    result.seconds = time.perf_counter() - started
    return result


def measure(settings: Settings) -> str:
    started = time.perf_counter()
    es = make_client(settings.es)
    try:
        results = [run_set(es, settings, ds) for ds in all_sets()]
    finally:
        es.close()
    return report(settings, results, time.perf_counter() - started)


# ---------- report ----------

def _table(r: SetResult) -> list[str]:
    lines = ["| method | " + " | ".join(METRICS) + " |", "|---|" + "---:|" * len(METRICS)]
    for method in r.ranked:
        lines.append(f"| {method} | " + " | ".join(f"{r.mean(method, m):.3f}" for m in METRICS) + " |")
    return lines


def verdict(r: SetResult) -> tuple[bool, str]:
    """Whether hybrid is at least the raw model's best field on every metric, and the sentence saying so."""
    parts, ok = [], True
    for metric in METRICS:
        best = r.best_raw(metric)
        hybrid, raw = r.mean("service:hybrid", metric), r.mean(best, metric)
        ok &= hybrid >= raw - 1e-9
        parts.append(f"{metric} {hybrid:.3f} {'≥' if hybrid >= raw - 1e-9 else '**<**'} {raw:.3f} ({best})")
    return ok, f"**{r.name}**: hybrid against the raw model's best field — " + "; ".join(parts) + "."


def report(settings: Settings, results: Sequence[SetResult], elapsed: float) -> str:
    f = settings.search.fusion
    lines = [f"Text encoder {settings.models.text_encoder}; fusion weights title {f.title}, text {f.text}, keyword "
             f"{f.keyword}, bridge {f.bridge}, exact {f.exact}; floor {f.floor}; semantic_window "
             f"{settings.search.semantic_window}, num_candidates {settings.search.num_candidates}. "
             f"Whole run {elapsed:.0f} s."]
    passed = 0
    for r in results:
        ok, sentence = verdict(r)
        passed += ok
        median_total = sorted(r.totals["hybrid"])[len(r.totals["hybrid"]) // 2]
        lines += ["", f"**{r.name}** ({r.records} records, {len(r.queries)} queries, {r.seconds:.0f} s)", "",
                  *_table(r), "", sentence,
                  f"Hybrid `total`: median {median_total}; nonsense queries answered with nothing: "
                  f"{r.nonsense_empty}/{len(NONSENSE)}."]
    lines += ["", f"**Rule (service hybrid ≥ raw model's best field on every metric): {passed}/{len(results)} sets.**"]
    return "\n".join(lines)
