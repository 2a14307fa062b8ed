"""Accuracy of the AI classification (indexing/classify.py) against a majority-class baseline.

Two labelled sets: the 500 Tate rows of samples/tate (gold category = the Tate classification
through the taxonomy; 'on paper, unique' → drawing, 'relief' → sculpture…) and the 78 bilingual rows
of samples/bilingual (gold = 类别 through the taxonomy). Both manifests are read by the ingestion's
own reader (services/ingest/manifest.py) and turned into AssetRecords as the store step does, so the
text classified is exactly what `indexing.enrich.embedding_text` makes of them (the category is not
in it). For the material task the materials are removed from the record first, otherwise the task
is trivial.

Each set × task is scored by seeded 5-fold cross-validation: per fold a temporary Elasticsearch
index holds the other folds' items as curator-labelled assets (ids = their position in the set), and
the held-out fold is classified by the production `Classifier`, through `zero_shot`, `knn` and
`distributions` separately. The baseline predicts the most frequent gold class of the training folds.
"""

from __future__ import annotations

import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from elasticsearch import Elasticsearch

from indexing import classify
from indexing.bulk import index_documents
from indexing.classify import FIELD, Classifier, Subject
from indexing.client import make_client
from indexing.encoders import Modality, build_encoder
from indexing.enrich import embedding_text
from indexing.mappings import dense_vector
from schemas.asset import AssetRecord, LabelKind
from schemas.manifest import ManifestRow
from schemas.taxonomy import categories, category_for, fold, material_ids, materials
from services.ingest.manifest import read_manifest
from services.settings import PROJECT_ROOT, Settings

FOLDS, SEED = 5, 7
IMAGE_DIMS = 1280  # images.vector of the mapping (efficientnet-lite0); the benchmark indexes no images
TATE = PROJECT_ROOT / "samples/tate/batch/manifest.jsonl"
BILINGUAL = PROJECT_ROOT / "samples/bilingual/batch/manifest.csv"
SHUHUA = {"painting", "calligraphy"}  # the survey's 书法、绘画, one class
METHODS = ("baseline", "zero-shot", "knn", "combined")
METHOD_NAMES = {"baseline": "majority baseline", "zero-shot": "zero-shot", "knn": "kNN",
                "combined": "zero-shot+kNN"}
TASKS = {LabelKind.CATEGORY: "category", LabelKind.MATERIAL: "material"}


def _log(msg: str) -> None:
    print(f"[bench classification] {msg}", file=sys.stderr, flush=True)


# ---------- data ----------

@dataclass
class Item:
    object_id: str
    text: str  # embedding_text of the record
    text_no_materials: str  # the same without the materials (material task)
    category: str | None  # gold category id
    materials: list[str]  # gold material ids
    shuhua: bool  # the curator wrote the survey's combined 书法、绘画

    def gold(self, kind: LabelKind) -> frozenset[str]:
        if kind is LabelKind.CATEGORY:
            return frozenset([self.category] if self.category else [])
        return frozenset(self.materials)


@dataclass
class DataSet:
    name: str
    items: list[Item]


def _asset(row: ManifestRow) -> AssetRecord:
    return AssetRecord(**row.model_dump(), asset_id=row.object_id, institution="bench", batch_id="bench",
                       ingested_at=datetime.now(UTC))


def load(name: str, path: Path) -> DataSet:
    items = []
    for parsed in read_manifest(path):
        row = parsed.record
        if row is None:
            raise ValueError(f"{path}: row {parsed.row} is invalid: {parsed.errors}")
        asset = _asset(row)
        category = category_for(row.category)
        bare = asset.model_copy(update={"materials": []})
        items.append(Item(row.object_id, embedding_text(asset), embedding_text(bare), category,
                          material_ids(row.materials), category == "painting" and "书" in fold(row.category or "")))
    return DataSet(name, items)


# ---------- cross-validation ----------

@dataclass
class Prediction:
    """One held-out item of one task: the gold ids and each method's ranking (top 3)."""

    gold: frozenset[str]
    shuhua: bool
    ranked: dict[str, list[str]] = field(default_factory=dict)
    knn_found: bool = False
    knn_voters: int = 0
    combined_method: str = ""

    def hit(self, method: str, k: int = 1, shuhua_as_one: bool = False) -> bool:
        gold = self.gold | SHUHUA if shuhua_as_one and self.shuhua else self.gold
        return bool(set(self.ranked[method][:k]) & gold)


@dataclass
class TaskResult:
    dataset: str
    kind: LabelKind
    predictions: list[Prediction]
    classes: int


def _index_body(dims: int, settings: Settings) -> dict[str, Any]:
    return {"settings": {"number_of_shards": 1, "number_of_replicas": 0},
            "mappings": {"dynamic": "strict", "properties": {
                "text_vector": dense_vector(dims, settings.search),
                "category_ids": {"type": "keyword"},
                "material_ids": {"type": "keyword"},
                "images": {"type": "nested", "properties": {"vector": dense_vector(IMAGE_DIMS, settings.search)}},
            }}}


def _majority(labels: Sequence[frozenset[str]]) -> str:
    counts = Counter(label for gold in labels for label in gold)
    return min(counts, key=lambda label: (-counts[label], label))


def folds(n: int, seed: int = SEED) -> list[list[int]]:
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return [sorted(order[f::FOLDS]) for f in range(FOLDS)]


def evaluate(es: Elasticsearch, classifier: Classifier, settings: Settings, index: str, name: str,
             kind: LabelKind, golds: list[frozenset[str]], shuhua: list[bool], vectors: np.ndarray) -> TaskResult:
    """5-fold cross-validation of one task of one set; vectors[i] is the text of item i."""
    ids = [c.id for c in classifier.concepts[kind]]
    predictions: list[Prediction | None] = [None] * len(golds)
    for f, held_out in enumerate(folds(len(golds))):
        held = set(held_out)
        train = [i for i in range(len(golds)) if i not in held]
        es.indices.delete(index=index, ignore_unavailable=True)
        es.indices.create(index=index, **_index_body(vectors.shape[1], settings))
        result = index_documents(es, index, ((str(i), {"text_vector": [round(float(x), 6) for x in vectors[i]],
                                                       FIELD[kind]: sorted(golds[i])}) for i in train))
        if result.failed:
            raise RuntimeError(f"{len(result.failed)} documents refused, e.g. {next(iter(result.failed.values()))}")
        es.indices.refresh(index=index)
        subjects = [Subject(str(i), vectors[i].tolist()) for i in held_out]
        zero_shot = classifier.zero_shot(vectors[held_out], kind)
        knn = classifier.knn(subjects, kind)
        combined, methods = classifier.distributions(subjects, kind)
        majority = _majority([golds[i] for i in train])
        for row, i in enumerate(held_out):
            vote, voters = knn[row]
            found = voters >= 1 and vote.sum() > 0
            p = Prediction(golds[i], shuhua[i], knn_found=found, knn_voters=voters, combined_method=methods[row])
            p.ranked["baseline"] = [majority]
            p.ranked["zero-shot"] = [ids[j] for j in np.argsort(-zero_shot[row], kind="stable")[:3]]
            p.ranked["knn"] = ([ids[j] for j in np.argsort(-vote, kind="stable")[:3]] if found
                               else p.ranked["zero-shot"])
            p.ranked["combined"] = [ids[j] for j in np.argsort(-combined[row], kind="stable")[:3]]
            predictions[i] = p
        _log(f"{name} {TASKS[kind]}: fold {f + 1}/{FOLDS} ({len(train)} labelled, {len(held_out)} held out)")
    done = [p for p in predictions if p is not None]
    return TaskResult(name, kind, done, len({label for p in done for label in p.gold}))


def run(settings: Settings, es: Elasticsearch, classifier: Classifier, sets: list[DataSet],
        vectors: dict[tuple[str, LabelKind], np.ndarray]) -> list[TaskResult]:
    """Every set × task; the temporary index is deleted at the end, also on failure."""
    index = f"{settings.es.index_prefix}-bench-classify"
    classifier.index = index
    results = []
    try:
        for ds in sets:
            for kind in TASKS:
                keep = [i for i, it in enumerate(ds.items) if it.gold(kind)]
                golds = [ds.items[i].gold(kind) for i in keep]
                shuhua = [ds.items[i].shuhua and kind is LabelKind.CATEGORY for i in keep]
                results.append(evaluate(es, classifier, settings, index, ds.name, kind, golds, shuhua,
                                        vectors[ds.name, kind][keep]))
    finally:
        es.indices.delete(index=index, ignore_unavailable=True)
    return results


def prepare(settings: Settings) -> tuple[Classifier, list[DataSet], dict[tuple[str, LabelKind], np.ndarray]]:
    """The two sets, every text encoded once, and a Classifier (without index yet)."""
    sets = [load("Tate", TATE), load("bilingual", BILINGUAL)]
    encoder = build_encoder(settings.models.text_encoder, Modality.TEXT, settings.models)
    texts = [t for ds in sets for it in ds.items for t in (it.text, it.text_no_materials)]
    _log(f"encoding {len(texts)} texts with {encoder.name}")
    encoded = encoder.encode(texts, batch_size=settings.models.batch_size)
    vectors, at = {}, 0
    for ds in sets:
        block = encoded[at:at + 2 * len(ds.items)]
        at += 2 * len(ds.items)
        vectors[ds.name, LabelKind.CATEGORY] = block[0::2]
        vectors[ds.name, LabelKind.MATERIAL] = block[1::2]
    es = make_client(settings.es)
    return Classifier(encoder, settings.models, settings.search, es, None), sets, vectors


def measure(settings: Settings) -> str:
    from tests.bench import classification_periods  # imports this module
    started = time.perf_counter()
    classifier, sets, vectors = prepare(settings)
    assert classifier.es is not None
    try:
        results = run(settings, classifier.es, classifier, sets, vectors)
        periods = classification_periods.measure(settings, classifier)
    finally:
        classifier.es.close()
    elapsed = time.perf_counter() - started
    _log(f"done in {elapsed:.0f} s")
    return report(settings, results, elapsed) + "\n\n" + periods


# ---------- report ----------

def accuracy(predictions: Sequence[Prediction], method: str, k: int = 1, shuhua_as_one: bool = False) -> float:
    return sum(p.hit(method, k, shuhua_as_one) for p in predictions) / len(predictions)


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _table(r: TaskResult) -> list[str]:
    ps = r.predictions
    shuhua = r.kind is LabelKind.CATEGORY and any(p.shuhua for p in ps)
    top = "top-1" if r.kind is LabelKind.CATEGORY else "precision@1"
    three = "top-3" if r.kind is LabelKind.CATEGORY else "hit@3"
    head = f"| method | {top} | {three} |"
    rule = "|---|---:|---:|"
    if shuhua:
        head += f" {top}, 书画 as one class | {three}, 书画 as one class |"
        rule += "---:|---:|"
    lines = [head, rule]
    for method in METHODS:
        cells = [_pct(accuracy(ps, method)), _pct(accuracy(ps, method, 3)) if method == "combined" else "—"]
        if shuhua:
            cells += [_pct(accuracy(ps, method, 1, True)),
                      _pct(accuracy(ps, method, 3, True)) if method == "combined" else "—"]
        name = METHOD_NAMES[method]
        if method == "knn":
            covered = sum(p.knn_found for p in ps)
            name += f" (neighbours found for {covered}/{len(ps)}; zero-shot for the rest)"
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    total = len(categories() if r.kind is LabelKind.CATEGORY else materials())
    mixed = sum(p.combined_method == "zero-shot+knn" for p in ps)
    lines += ["", f"{len(ps)} items, {r.classes} gold {TASKS[r.kind]} classes (of {total} in the taxonomy); "
                  f"`distributions` mixed in kNN for {mixed}/{len(ps)} (≥ {classify.MIN_NEIGHBOURS} neighbours)."]
    return lines


def _per_class(r: TaskResult) -> list[str]:
    n: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    for p in r.predictions:
        (gold,) = p.gold
        n[gold] += 1
        correct[gold] += p.hit("combined")
    lines = ["| class | n | correct | accuracy |", "|---|---:|---:|---:|"]
    for cls, count in sorted(n.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"| {cls} | {count} | {correct[cls]} | {_pct(correct[cls] / count)} |")
    return lines


def _confusions(results: Sequence[TaskResult]) -> list[str]:
    pairs: Counter[tuple[str, str, str]] = Counter()
    for r in results:
        if r.kind is not LabelKind.CATEGORY:
            continue
        for p in r.predictions:
            if not p.hit("combined"):
                (gold,) = p.gold
                pairs[r.dataset, gold, p.ranked["combined"][0]] += 1
    lines = ["| set | gold | predicted | count |", "|---|---|---|---:|"]
    for (ds, gold, predicted), count in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[:5]:
        lines.append(f"| {ds} | {gold} | {predicted} | {count} |")
    return lines


def _conclusion(results: Sequence[TaskResult]) -> str:
    parts = []
    for r in results:
        base, combined = accuracy(r.predictions, "baseline"), accuracy(r.predictions, "combined")
        verdict = "beats" if combined > base else "does not beat"
        parts.append(f"{r.dataset} {TASKS[r.kind]}: {verdict} it ({_pct(combined)} vs {_pct(base)}, "
                     f"{100 * (combined - base):+.1f} points)")
    return "**Conclusion:** zero-shot+kNN against the majority baseline, top-1 — " + "; ".join(parts) + "."


def report(settings: Settings, results: Sequence[TaskResult], elapsed: float) -> str:
    m = settings.models
    method = (
        f"Labelled data: the Tate sample (gold = its classification through the taxonomy: 'on paper, unique' → "
        f"drawing, 'on paper, print' → print, 'relief' → sculpture…; rows without a mapping skipped) and the bilingual "
        f"sample (gold = 类别 through the taxonomy; its 8 书法、绘画 rows all resolve to painting, calligraphy or not, "
        f"so those tables also score them with painting and calligraphy as one class). Manifests are read by the "
        f"ingestion reader and turned into AssetRecords; the text is `embedding_text` (titles, descriptions, creator, "
        f"period, materials — never the category), encoded once with {m.text_encoder}. The material task is "
        f"multi-label (gold = `material_ids` of the materials cell; rows without one skipped) and its text leaves the "
        f"materials out, on both the held-out and the labelled side. Seeded ({SEED}) {FOLDS}-fold cross-validation: "
        f"per fold a temporary 1-shard index holds the other folds as curator-labelled assets (text_vector + "
        f"category_ids or material_ids, {settings.search.vector_index_type}), and the held-out fold goes through "
        f"the production `Classifier`: `zero_shot` (softmax over cosine similarity to the concept descriptions, "
        f"temperature {classify.TEMPERATURE}), `knn` ({m.knn_neighbours} neighbours, num_candidates "
        f"{settings.search.num_candidates}, similarity-weighted votes; top-1 only where a neighbour was found, "
        f"zero-shot otherwise) and `distributions` (kNN weight {classify.KNN_WEIGHT[LabelKind.CATEGORY]} for "
        f"categories and {classify.KNN_WEIGHT[LabelKind.MATERIAL]} for materials, when ≥ "
        f"{classify.MIN_NEIGHBOURS} neighbours). The majority baseline predicts the most frequent class (material) of "
        f"the training folds. Materials: precision@1 = the top material is one of the gold ones; hit@3 = one of the "
        f"top three is. No images are indexed or used. Whole run: {elapsed:.0f} s."
    )
    lines = [method]
    for r in results:
        lines += ["", f"**{r.dataset} — {TASKS[r.kind]}**", "", *_table(r)]
    tate = next((r for r in results if r.dataset == "Tate" and r.kind is LabelKind.CATEGORY), None)
    if tate is not None:
        lines += ["", "Per class, zero-shot+kNN, Tate categories:", "", *_per_class(tate)]
    lines += ["", "Most frequent confusions of zero-shot+kNN (categories, both sets):", "", *_confusions(results),
              "", _conclusion(results)]
    return "\n".join(lines)
