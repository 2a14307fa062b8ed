"""Period suggestions (indexing/classify.py, kind period) against the majority-period baseline.

Three sets of Chinese records with curator periods: the bilingual sample (samples/bilingual) and
the dev sets zh-en and script (tests/bench/devsets, CC0). Gold = the record's period as the
pipeline parses it (indexing/periods.py), at the dynasty level (indexing/period_labels.py);
records whose period does not parse to a period id are left out. The text classified is
`embedding_text` of the record with its period and date removed, i.e. what an undated record
would have; titles and descriptions that name a reign (成化款, 元代) keep it, as such records do.

Seeded 5-fold cross-validation as in tests/bench/classification.py: per fold a temporary index
holds the other folds as dated assets (text_vector + period_norm.period_id as parsed, at its
own level, so the dynasty mapping of the vote is exercised), and the held-out fold goes through
the production `Classifier` (`zero_shot`, `knn`, `distributions` of kind period). Accuracy@k:
a gold dynasty among the top k; an item without a suggestion (fewer than MIN_NEIGHBOURS dated
neighbours) counts as a miss. No images are indexed or used.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from elasticsearch import Elasticsearch

from indexing import classify
from indexing.bulk import index_documents
from indexing.classify import Classifier, Subject
from indexing.enrich import embedding_text
from indexing.mappings import dense_vector
from indexing.period_labels import dynasty_of
from indexing.periods import period_record
from schemas.asset import AssetRecord, LabelKind
from services.ingest.manifest import read_manifest
from services.settings import PROJECT_ROOT, Settings
from tests.bench.classification import BILINGUAL, _log, folds

DEVSETS = PROJECT_ROOT / "tests/bench/devsets"
SETS = {"bilingual": BILINGUAL, "zh-en": DEVSETS / "zh-en.records.jsonl", "script": DEVSETS / "script.records.jsonl"}
METHODS = {"baseline": "majority baseline", "zero-shot": "zero-shot (period names)", "knn": "kNN (production)",
           "mix": "kNN + 0.3 zero-shot"}


@dataclass
class Dated:
    text: str
    period_id: str  # as parsed (may be a reign)
    dynasty: str


def _rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".csv":
        return [p.record.model_dump() for p in read_manifest(path) if p.record is not None]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load(path: Path) -> list[Dated]:
    out = []
    for row in _rows(path):
        fields = {k: v for k, v in row.items() if k in AssetRecord.model_fields}
        asset = AssetRecord(**fields | {"asset_id": str(row["object_id"]), "institution": "bench",
                                        "batch_id": "bench", "ingested_at": datetime.now(UTC)})
        period = period_record(asset.period, asset.date)
        dynasty = dynasty_of(period.period_id) if period is not None and period.parsed else None
        if period is not None and period.period_id and dynasty:
            out.append(Dated(embedding_text(asset.model_copy(update={"period": None, "date": None})),
                             period.period_id, dynasty))
    return out


def _body(dims: int, settings: Settings) -> dict[str, Any]:
    return {"settings": {"number_of_shards": 1, "number_of_replicas": 0},
            "mappings": {"dynamic": "strict", "properties": {
                "text_vector": dense_vector(dims, settings.search),
                "period_norm": {"properties": {"period_id": {"type": "keyword"}, "parsed": {"type": "boolean"}}},
                "images": {"type": "nested", "properties": {"vector": dense_vector(1280, settings.search)}}}}}


def evaluate(es: Elasticsearch, classifier: Classifier, settings: Settings, index: str,
             items: list[Dated], vectors: np.ndarray) -> dict[str, Any]:
    ids = classifier.ids[LabelKind.PERIOD]
    ranked: dict[str, list[list[str]]] = {m: [[] for _ in items] for m in METHODS}
    covered = 0
    for held_out in folds(len(items)):
        held = set(held_out)
        train = [i for i in range(len(items)) if i not in held]
        es.indices.delete(index=index, ignore_unavailable=True)
        es.indices.create(index=index, **_body(vectors.shape[1], settings))
        docs = ((str(i), {"text_vector": [round(float(x), 6) for x in vectors[i]],
                          "period_norm": {"period_id": items[i].period_id, "parsed": True}}) for i in train)
        if index_documents(es, index, docs).failed:
            raise RuntimeError("documents refused")
        es.indices.refresh(index=index)
        subjects = [Subject(str(i), vectors[i].tolist()) for i in held_out]
        zero_shot = classifier.zero_shot(vectors[held_out], LabelKind.PERIOD)
        combined, methods = classifier.distributions(subjects, LabelKind.PERIOD)
        counts = Counter(items[i].dynasty for i in train)
        majority = sorted(counts, key=lambda d: (-counts[d], d))[:3]  # @3: the three most frequent
        for row, i in enumerate(held_out):
            ranked["baseline"][i] = majority
            ranked["zero-shot"][i] = [ids[j] for j in np.argsort(-zero_shot[row], kind="stable")[:3]]
            if methods[row]:
                covered += 1
                ranked["knn"][i] = [ids[j] for j in np.argsort(-combined[row], kind="stable")[:3]
                                    if combined[row][j] > 0]
                mix = combined[row] * 0.7 + zero_shot[row] * 0.3
                ranked["mix"][i] = [ids[j] for j in np.argsort(-mix, kind="stable")[:3]]
    gold = [it.dynasty for it in items]
    acc = {m: {k: sum(g in r[:k] for g, r in zip(gold, ranked[m], strict=True)) / len(items) for k in (1, 3)}
           for m in METHODS}
    return {"n": len(items), "classes": len(set(gold)), "covered": covered, "accuracy": acc}


def measure(settings: Settings, classifier: Classifier) -> str:
    assert classifier.es is not None
    sets = {name: load(path) for name, path in SETS.items()}
    texts = [it.text for items in sets.values() for it in items]
    encoded = classifier.encoder.encode(texts, batch_size=settings.models.batch_size)
    index = f"{settings.es.index_prefix}-bench-classify-periods"
    classifier.index = index
    results, at = {}, 0
    try:
        for name, items in sets.items():
            results[name] = evaluate(classifier.es, classifier, settings, index, items, encoded[at:at + len(items)])
            at += len(items)
            _log(f"periods {name}: {results[name]['accuracy']}")
    finally:
        es = classifier.es
        es.indices.delete(index=index, ignore_unavailable=True)
    return report(settings, results)


def report(settings: Settings, results: dict[str, dict[str, Any]]) -> str:
    lines = [f"Period suggestions: seeded 5-fold cross-validation, kNN over text_vector "
             f"({settings.models.text_encoder}, "
             f"{settings.models.knn_neighbours} neighbours, ≥ {classify.MIN_NEIGHBOURS} to suggest), dynasty level; "
             "an item without a suggestion counts as a miss.", "",
             "| set | items | dynasties | method | accuracy@1 | accuracy@3 |", "|---|---:|---:|---|---:|---:|"]
    for name, r in results.items():
        for m, title in METHODS.items():
            a = r["accuracy"][m]
            extra = f" (suggested for {r['covered']}/{r['n']})" if m in ("knn", "mix") else ""
            lines.append(f"| {name} | {r['n']} | {r['classes']} | {title}{extra} | {100 * a[1]:.1f} % | "
                         f"{100 * a[3]:.1f} % |")
    return "\n".join(lines)


if __name__ == "__main__":
    from indexing.client import make_client
    from indexing.encoders import Modality, build_encoder

    cfg = Settings()
    encoder = build_encoder(cfg.models.text_encoder, Modality.TEXT, cfg.models)
    print(measure(cfg, Classifier(encoder, cfg.models, cfg.search, make_client(cfg.es), None)))
