"""Search quality of the production search (services/search.py): keyword, semantic and hybrid, on two labelled sets.

- **Tate**: the 500 rows of samples/tate, indexed as ingestion stores them. Queries are Tate subject
  terms ('hill', 'boat, sailing', 'individuals: male'…) used by 3 to 50 records, at most 100 of them
  (a seeded sample); the relevant records are those tagged with the term. The subjects arrive in the
  row's `extra` (a column Wenyuan does not know), which neither BM25 (`KEYWORD_FIELDS`) nor the text
  vector (`embedding_text`) reads: the task is to find by its subject a record described by title,
  creator and materials only.
- **Bilingual, cross-lingual**: the 54 rows of samples/bilingual with both Chinese and English titles and
  descriptions, indexed twice: once with only the English fields (title_zh, original_title and
  description_zh removed) and queried by each record's Chinese title (zh→en), once with only the Chinese
  fields (title_en and description_en removed) and queried by the English title (en→zh). One relevant
  record per query: the record itself.

Each set lives in its own temporary index (a unique `es.index_prefix`, deleted at the end), enriched
by the production `Enricher` with the configured text encoder (no images, no OCR). Every query goes
through `Searcher.search` in each mode, first page of 10, relevance order. Scores: recall@10, nDCG@10
(binary relevance) and MRR (reciprocal rank of the first relevant record in the top 10, else 0),
averaged over the queries; and Elasticsearch's own time per page (`Page.took_ms`).
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from elasticsearch import Elasticsearch

from indexing.aliases import assets_alias, ensure_assets_index
from indexing.bulk import index_documents
from indexing.client import make_client
from indexing.enrich import TEXT_FIELDS, Enricher
from indexing.query import KEYWORD_FIELDS, RRF_K, Filters, Mode, Sort
from schemas.asset import AssetRecord
from schemas.manifest import ManifestRow
from services.ingest.manifest import read_manifest
from services.search import Query, Searcher
from services.settings import Settings
from tests.bench.classification import BILINGUAL, SEED, TATE, _asset

K = 10
MAX_QUERIES, MIN_TAGGED, MAX_TAGGED = 100, 3, 50
MODES = (Mode.KEYWORD, Mode.SEMANTIC, Mode.HYBRID)
ZH_FIELDS = ("title_zh", "original_title", "description_zh")
EN_FIELDS = ("title_en", "description_en")
METRICS = ("recall@10", "nDCG@10", "MRR")


def _log(msg: str) -> None:
    print(f"[bench quality] {msg}", file=sys.stderr, flush=True)


# ---------- data ----------

@dataclass
class EvalQuery:
    q: str
    relevant: frozenset[str]


@dataclass
class EvalSet:
    name: str
    assets: list[AssetRecord]
    queries: list[EvalQuery]


def _rows(path: Path) -> list[ManifestRow]:
    rows = []
    for parsed in read_manifest(path):
        if parsed.record is None:
            raise ValueError(f"{path}: row {parsed.row} is invalid: {parsed.errors}")
        rows.append(parsed.record)
    return rows


def _subjects(value: str | None) -> set[str]:
    """Tate subjects: 'a; b; c' in the sample; a list (JSON-encoded into `extra` by the reader) also works."""
    if not value:
        return set()
    terms = json.loads(value) if value.lstrip().startswith("[") else value.split(";")
    return {t.strip() for t in terms if t and t.strip()}


def tate_set() -> EvalSet:
    # The subjects must stay out of what is searched: `extra` is neither a BM25 field nor embedded.
    assert not any(f.startswith("extra") for f in KEYWORD_FIELDS) and "extra" not in TEXT_FIELDS
    rows = _rows(TATE)
    tagged: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        for term in _subjects(row.extra.get("subjects")):
            tagged[term].add(row.object_id)
    candidates = sorted(t for t, ids in tagged.items() if MIN_TAGGED <= len(ids) <= MAX_TAGGED)
    chosen = sorted(random.Random(SEED).sample(candidates, min(MAX_QUERIES, len(candidates))))
    queries = [EvalQuery(t, frozenset(tagged[t])) for t in chosen]
    return EvalSet("Tate subjects", [_asset(row) for row in rows], queries)


def bilingual_sets() -> list[EvalSet]:
    rows = [r for r in _rows(BILINGUAL) if r.title_zh and r.title_en and r.description_zh and r.description_en]
    assets = [_asset(row) for row in rows]
    en_only = [a.model_copy(update=dict.fromkeys(ZH_FIELDS)) for a in assets]
    zh_only = [a.model_copy(update=dict.fromkeys(EN_FIELDS)) for a in assets]
    return [EvalSet("Bilingual zh→en", en_only, [EvalQuery(r.title_zh or "", frozenset([r.object_id])) for r in rows]),
            EvalSet("Bilingual en→zh", zh_only, [EvalQuery(r.title_en or "", frozenset([r.object_id])) for r in rows])]


# ---------- metrics ----------

def recall(ids: Sequence[str], relevant: frozenset[str]) -> float:
    return len(set(ids[:K]) & relevant) / len(relevant)


def ndcg(ids: Sequence[str], relevant: frozenset[str]) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, x in enumerate(ids[:K]) if x in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), K)))
    return dcg / ideal


def first_rank(ids: Sequence[str], relevant: frozenset[str]) -> int | None:
    return next((i for i, x in enumerate(ids[:K], start=1) if x in relevant), None)


def mrr(ids: Sequence[str], relevant: frozenset[str]) -> float:
    rank = first_rank(ids, relevant)
    return 1 / rank if rank else 0.0


SCORERS = {"recall@10": recall, "nDCG@10": ndcg, "MRR": mrr}


# ---------- runs ----------

@dataclass
class Outcome:
    query: EvalQuery
    ids: dict[Mode, list[str]] = field(default_factory=dict)
    took_ms: dict[Mode, int] = field(default_factory=dict)
    keyword_total: int = 0  # how many records BM25 matches at all
    matched_in: Counter[str] = field(default_factory=Counter)  # BM25 field → records the query matches in it

    def score(self, mode: Mode, metric: str) -> float:
        return SCORERS[metric](self.ids[mode], self.query.relevant)

    def hybrid_gain(self) -> float:
        """Hybrid's nDCG@10 minus the better single mode's, for this query."""
        return self.score(Mode.HYBRID, "nDCG@10") - max(self.score(m, "nDCG@10") for m in (Mode.KEYWORD, Mode.SEMANTIC))


@dataclass
class SetResult:
    name: str
    records: int
    outcomes: list[Outcome]
    seconds: float

    def mean(self, mode: Mode, metric: str) -> float:
        return sum(o.score(mode, metric) for o in self.outcomes) / len(self.outcomes)

    def took(self, mode: Mode) -> float:
        return sum(o.took_ms[mode] for o in self.outcomes) / len(self.outcomes)


def _matched_fields(es: Elasticsearch, index: str, q: str) -> Counter[str]:
    """Which BM25 fields the query matches, and in how many records (named per-field queries)."""
    names = [f.split("^")[0] for f in KEYWORD_FIELDS]
    resp = es.search(index=index, size=1000, source=False,
                     query={"bool": {"should": [{"match": {f: {"query": q, "_name": f}}} for f in names]}})
    return Counter(f for h in resp["hits"]["hits"] for f in h.get("matched_queries", []))


def run_set(es: Elasticsearch, settings: Settings, ds: EvalSet) -> SetResult:
    started = time.perf_counter()
    prefix = f"bench-quality-{uuid.uuid4().hex[:8]}"
    scoped = settings.model_copy(update={"es": settings.es.model_copy(update={"index_prefix": prefix})})
    alias = assets_alias(scoped.es)
    try:
        enricher = Enricher(scoped, None, None, use_ocr=False)
        ensure_assets_index(es, scoped, enricher.encoders)
        _log(f"{ds.name}: enriching {len(ds.assets)} records")
        enriched = enricher.enrich(ds.assets)
        result = index_documents(es, alias, [(a.asset_id, a.model_dump(mode="json")) for a in enriched])
        if result.failed:
            raise RuntimeError(f"{len(result.failed)} documents refused, e.g. {next(iter(result.failed.values()))}")
        es.indices.refresh(index=alias)
        # One segment, so that each page (each with its own point in time) searches the same HNSW graph and
        # records with identical text keep one order: semantic and hybrid are then comparable query by query.
        es.indices.forcemerge(index=alias, max_num_segments=1)
        searcher = Searcher(es, scoped)
        outcomes = []
        for n, eq in enumerate(ds.queries, start=1):
            out = Outcome(eq)
            for mode in MODES:
                page = searcher.search(Query(eq.q, mode, Filters(), Sort.RELEVANCE, K), visibility=None)
                out.ids[mode] = [h["asset_id"] for h in page.hits]
                out.took_ms[mode] = page.took_ms
                if mode is Mode.KEYWORD:
                    out.keyword_total = page.total
            if out.keyword_total:
                out.matched_in = _matched_fields(es, alias, eq.q)
            outcomes.append(out)
            if n % 25 == 0 or n == len(ds.queries):
                _log(f"{ds.name}: {n}/{len(ds.queries)} queries")
    finally:
        es.indices.delete(index=f"{alias}-v*", allow_no_indices=True)
    return SetResult(ds.name, len(ds.assets), outcomes, time.perf_counter() - started)


def measure(settings: Settings) -> str:
    started = time.perf_counter()
    sets = [tate_set(), *bilingual_sets()]
    es = make_client(settings.es)
    try:
        results = [run_set(es, settings, ds) for ds in sets]
    finally:
        es.close()
    elapsed = time.perf_counter() - started
    _log(f"done in {elapsed:.0f} s")
    return report(settings, results, elapsed)


# ---------- report ----------

def _table(r: SetResult) -> list[str]:
    lines = ["| mode | recall@10 | nDCG@10 | MRR | ES took (ms, mean) | queries |", "|---|---:|---:|---:|---:|---:|"]
    for mode in MODES:
        cells = [f"{r.mean(mode, m):.3f}" for m in METRICS]
        lines.append(f"| {mode} | " + " | ".join(cells) + f" | {r.took(mode):.1f} | {len(r.outcomes)} |")
    return lines


def _verdict(r: SetResult) -> str:
    parts = []
    for metric in METRICS:
        best = max((Mode.KEYWORD, Mode.SEMANTIC), key=lambda m: r.mean(m, metric))
        hybrid, single = r.mean(Mode.HYBRID, metric), r.mean(best, metric)
        verb = "is" if hybrid >= single - 1e-9 else "is **not**"
        parts.append(f"{verb} at least as good as the best single mode on {metric} "
                     f"({hybrid:.3f} vs {best} {single:.3f})")
    return f"**{r.name}:** hybrid " + "; ".join(parts) + "."


def _diagnosis(r: SetResult) -> list[str]:
    """Where hybrid loses to the best single mode, and whether an empty keyword leg leaves semantic unchanged."""
    no_keyword = [o for o in r.outcomes if o.keyword_total == 0]
    same = sum(o.ids[Mode.HYBRID] == o.ids[Mode.SEMANTIC] for o in no_keyword)
    worse = [o for o in r.outcomes if o.hybrid_gain() < -1e-9]
    better = [o for o in r.outcomes if o.hybrid_gain() > 1e-9]
    lost_to: Counter[str] = Counter()
    for o in worse:
        lost_to[max((Mode.KEYWORD, Mode.SEMANTIC), key=lambda m: o.score(m, "nDCG@10"))] += 1
    matched = [o.keyword_total for o in r.outcomes]
    below = f" ({', '.join(f'{n} below {m}' for m, n in lost_to.most_common())})" if lost_to else ""
    lines = [f"BM25 matched nothing for {len(no_keyword)}/{len(r.outcomes)} queries (median matches "
             f"{sorted(matched)[len(matched) // 2]} of {r.records} records); on those, hybrid's top 10 equals "
             f"semantic's for {same}/{len(no_keyword)}. Per query (nDCG@10), hybrid is below the better single mode "
             f"on {len(worse)}{below} and above both on {len(better)}."]
    if worse:
        worst = sorted(worse, key=lambda o: (o.hybrid_gain(), o.query.q))[:5]
        lines += ["", "| query | relevant | BM25 matches (in field: records) | nDCG@10 keyword / semantic / hybrid | "
                      "first relevant rank k / s / h | hybrid's non-relevant hits not in semantic's top 10 |",
                  "|---|---:|---|---|---|---:|"]
        for o in worst:
            ranks = " / ".join(str(first_rank(o.ids[m], o.query.relevant) or "—") for m in MODES)
            scores = " / ".join(f"{o.score(m, 'nDCG@10'):.2f}" for m in MODES)
            semantic_top = set(o.ids[Mode.SEMANTIC])
            intruders = [x for x in o.ids[Mode.HYBRID] if x not in o.query.relevant and x not in semantic_top]
            where = ", ".join(f"{f}: {n}" for f, n in o.matched_in.most_common())
            lines.append(f"| {o.query.q} | {len(o.query.relevant)} | {o.keyword_total} ({where}) | {scores} | "
                         f"{ranks} | {len(intruders)} |")
        fields: Counter[str] = Counter()
        for o in worse:
            fields.update(o.matched_in.keys())
        lines += ["", f"BM25 fields matched by the {len(worse)} queries where hybrid loses (queries per field): "
                      + ", ".join(f"{f} {n}" for f, n in fields.most_common()) + "."]
    return lines


def _rrf_note(settings: Settings) -> str:
    """What RRF with this k does when the semantic window covers the whole set: computed, not assumed."""
    k, window = RRF_K, settings.search.semantic_window
    reach = {rk: max((rs for rs in range(1, window + 1) if 1 / (k + rk) + 1 / (k + rs) > 1 / (k + 1)), default=0)
             for rk in (1, 2, 5, 10)}
    parts = [f"#{rk} {'always' if reach[rk] == window else f'if semantic ranks it in its top {reach[rk]}'}"
             if reach[rk] else f"#{rk} never" for rk in reach]
    return (f"**Why hybrid loses where it does.** RRF (k = {k}) scores a record 1/(k + rank) per leg, and the semantic "
            f"window ({window}) holds every record of these sets, so every BM25 match collects two terms and a "
            f"semantic-only record one: a record at BM25 rank {', '.join(parts)} outranks semantic's own #1 "
            f"(window {window}). Hybrid is therefore close to \"BM25 matches first, in fused order, then the rest in "
            f"semantic order\": it gains where BM25's matches are right and loses wherever BM25 matches the "
            f"wrong records. An empty BM25 leg leaves semantic's order unchanged (the "
            f"counts above), as it should.")


def report(settings: Settings, results: Sequence[SetResult], elapsed: float) -> str:
    s = settings.search
    by_name = {r.name: r for r in results}
    tate = by_name.get("Tate subjects")
    bilingual = by_name.get("Bilingual zh→en")
    method = (
        f"Each set is ingested into its own temporary index (unique `es.index_prefix`, deleted afterwards): rows read "
        f"by the ingestion reader, turned into AssetRecords and enriched by the production `Enricher` "
        f"({settings.models.text_encoder} text vectors of `embedding_text`; no images, no OCR), force-merged to one "
        f"segment, and every query runs "
        f"through `Searcher.search` in each mode (first page of {K}, relevance order, no filters; semantic and hybrid "
        f"with `semantic_window` {s.semantic_window}, num_candidates {s.num_candidates}, "
        f"{s.vector_index_type}; hybrid = RRF with k = {RRF_K}). "
        + (f"**Tate subjects:** all {tate.records} Tate rows; searchable text is what the row says of the work: "
           f"`title_en` and `creator` for BM25 (the row has no period, provenance or Chinese fields; `date`, "
           f"`materials` and `acquisition` are not BM25 fields), title, creator and materials for the text vector. "
           f"The Tate subject terms travel in `extra`, which neither reads. {len(tate.outcomes)} queries: a "
           f"seeded ({SEED}) sample of the subject terms tagged on {MIN_TAGGED}–{MAX_TAGGED} records, used verbatim "
           f"('boat, sailing', 'individuals: male'); relevant = the records tagged with it. " if tate else "")
        + (f"**Bilingual:** the {bilingual.records} rows of the bilingual sample with Chinese and English titles "
           f"and descriptions, indexed twice: English fields only (title_zh, original_title, description_zh removed) "
           f"and queried by the Chinese title (zh→en); Chinese fields only (title_en, description_en removed) and "
           f"queried by the English title (en→zh). Fields the manifest writes in Chinese either way stay in both "
           f"(period 明永乐, materials 瓷, provenance 浙江, creator 佚名), so the English-only records are not "
           f"entirely English: their period is a BM25 field and period and materials are in the text vector. One "
           f"relevant record per query (itself). " if bilingual else "")
        + f"recall@10 = share of the relevant records in the top {K}; nDCG@10 with binary gains; MRR = 1/rank of the "
          f"first relevant record in the top {K}, else 0; all averaged over queries. ES took = Elasticsearch's own "
          f"time for the page, summed over its requests (legs, facets, hydration). Whole run: {elapsed:.0f} s."
    )
    lines = [method]
    for r in results:
        lines += ["", f"**{r.name}** ({r.records} records, {len(r.outcomes)} queries)", "", *_table(r), "",
                  _verdict(r), "", *_diagnosis(r)]
    lines += ["", _rrf_note(settings)]
    return "\n".join(lines)
