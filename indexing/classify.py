"""Classification into the taxonomy of schemas/taxonomy.json (categories, materials) and into the dynasties
of schemas/periods.json (periods), with confidence.

Two signals, both over the asset's text vector (and its first image's vector when there is one):

- **zero-shot**: cosine similarity to each concept's own vector — its descriptions in
  Chinese and English, encoded by the same text encoder — turned into probabilities by a softmax
  at a fixed temperature;
- **kNN label propagation**: the nearest assets that carry curator labels (`category_ids`,
  `material_ids`) vote for their labels, weighted by similarity. The search is Elasticsearch kNN
  on `text_vector` and on `images.vector`, filtered to labelled assets and excluding the asset itself.

When enough labelled neighbours exist, the two distributions are mixed (KNN_WEIGHT); otherwise the
zero-shot distribution stands alone. Periods are by kNN alone (zero-shot over period names is measured
in the benchmark and is not used, see PERIOD_ZERO_SHOT_WEIGHT), among neighbours whose curator period
parsed, voted at the dynasty level, and only for subjects whose own period did not parse
(indexing/period_labels.py); with fewer than MIN_NEIGHBOURS dated neighbours no period is suggested.

Labels keep the method and the encoder that made them and are
suggestions until a curator accepts or rejects them (indexing/labels.py). The accuracy of each
method against a majority-class baseline is in docs/BENCHMARKS.md (tests/bench/classification.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from elasticsearch import Elasticsearch

from indexing.encoders.base import Encoder, Vectors
from indexing.period_labels import DATED_FILTER, PERIOD_FIELD, dynasties, dynasty_of
from schemas.asset import AILabel, LabelKind
from schemas.periods import period_by_id
from schemas.taxonomy import Concept, categories, materials
from services.settings import ModelSettings, SearchSettings

# Tuned by 5-fold cross-validation on the two samples (tests/bench/classification.py, docs/BENCHMARKS.md).
TEMPERATURE = 0.05  # softmax temperature over cosine similarities (zero-shot)
# Share of the kNN distribution when labelled neighbours were found: materials lean on neighbours more,
# because their descriptions alone say little about a Western record's medium line.
KNN_WEIGHT = {LabelKind.CATEGORY: 0.5, LabelKind.MATERIAL: 0.7}
MIN_NEIGHBOURS = 3  # fewer labelled neighbours than this: zero-shot alone
IMAGE_WEIGHT = 0.5  # a neighbour by image counts half as much as one by text
KNN_TEMPERATURE = 0.05  # neighbour weights: softmax of cosine similarity, so the closest dominate
FIELD = {LabelKind.CATEGORY: "category_ids", LabelKind.MATERIAL: "material_ids", LabelKind.PERIOD: PERIOD_FIELD}
# Share of zero-shot over period names in a period suggestion: 0, because on the dev sets it is far below
# kNN and barely above the majority baseline (docs/BENCHMARKS.md, "Period suggestions").
PERIOD_ZERO_SHOT_WEIGHT = 0.0


def concept_text(concept: Concept) -> list[str]:
    """What a concept is compared with: its description in each language (each starts with its name)."""
    return [concept.description_zh, concept.description_en]


def period_text(period_id: str) -> list[str]:
    """What a dynasty is compared with in zero-shot: its Chinese and its English name."""
    period = period_by_id(period_id)
    assert period is not None
    return [f"{period.zh}代", f"{period.en} dynasty"]


def _labels_of(source: dict[str, Any], kind: LabelKind) -> list[str]:
    """A neighbour's labels of one kind; its period at the dynasty level."""
    if kind is LabelKind.PERIOD:
        dynasty = dynasty_of((source.get("period_norm") or {}).get("period_id"))
        return [dynasty] if dynasty else []
    labels: list[str] = source.get(FIELD[kind], [])
    return labels


def softmax(scores: np.ndarray[Any, Any], temperature: float | None = None) -> np.ndarray[Any, Any]:
    z = scores / (temperature or TEMPERATURE)
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray[Any, Any] = e / e.sum(axis=1, keepdims=True)
    return out


@dataclass
class Subject:
    """What is classified: an asset's id and vectors (text required, image optional)."""

    asset_id: str
    text_vector: Sequence[float]
    image_vector: Sequence[float] | None = None
    dated: bool = False  # its curator period parsed: no period suggestion


class Classifier:
    def __init__(self, encoder: Encoder, models: ModelSettings, search: SearchSettings,
                 es: Elasticsearch | None = None, index: str | None = None) -> None:
        self.encoder = encoder
        self.models = models
        self.search = search
        self.es = es
        self.index = index
        self.model = f"{encoder.name}@{encoder.version}"
        self.concepts: dict[LabelKind, tuple[Concept, ...]] = {
            LabelKind.CATEGORY: categories(), LabelKind.MATERIAL: materials()}
        self.ids: dict[LabelKind, tuple[str, ...]] = {
            **{kind: tuple(c.id for c in concepts) for kind, concepts in self.concepts.items()},
            LabelKind.PERIOD: dynasties()}
        self.concept_vectors: dict[LabelKind, Vectors] = {
            kind: self._encode_pairs([concept_text(c) for c in concepts]) for kind, concepts in self.concepts.items()}
        self.concept_vectors[LabelKind.PERIOD] = self._encode_pairs([period_text(p) for p in dynasties()])

    def _encode_pairs(self, pairs: Sequence[list[str]]) -> Vectors:
        texts = [t for pair in pairs for t in pair]
        vectors = self.encoder.encode(texts).reshape(len(pairs), 2, -1).mean(axis=1)
        normed: Vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        return normed

    # -- the two signals -------------------------------------------------------------------------

    def zero_shot(self, text_vectors: Vectors, kind: LabelKind) -> np.ndarray[Any, Any]:
        """(n, concepts) probabilities."""
        return softmax(np.asarray(text_vectors, dtype=np.float32) @ self.concept_vectors[kind].T)

    def knn(self, subjects: Sequence[Subject], kind: LabelKind) -> list[tuple[np.ndarray[Any, Any], int]]:
        """Per subject: the neighbours' vote as probabilities over the concepts, and how many voted."""
        ids = self.ids[kind]
        position = {cid: i for i, cid in enumerate(ids)}
        if self.es is None or self.index is None:
            return [(np.zeros(len(ids)), 0) for _ in subjects]
        field = FIELD[kind]
        searches: list[dict[str, Any]] = []
        for s in subjects:
            wanted = DATED_FILTER if kind is LabelKind.PERIOD else [{"exists": {"field": field}}]
            labelled = {"bool": {"filter": wanted,
                                 "must_not": [{"ids": {"values": [s.asset_id]}}]}}
            knn = [{"field": "text_vector", "query_vector": list(s.text_vector), "k": self.models.knn_neighbours,
                    "num_candidates": self.search.num_candidates, "filter": labelled}]
            if s.image_vector is not None:
                knn.append({"field": "images.vector", "query_vector": list(s.image_vector),
                            "k": self.models.knn_neighbours, "num_candidates": self.search.num_candidates,
                            "filter": labelled, "boost": IMAGE_WEIGHT})
            searches += [{"index": self.index}, {"knn": knn, "size": self.models.knn_neighbours * 2,
                                                 "_source": [field]}]
        out = []
        for response in self.es.msearch(searches=searches)["responses"]:
            votes = np.zeros(len(ids))
            hits = response.get("hits", {}).get("hits", []) if "error" not in response else []
            # Elasticsearch's cosine score is (1 + cos) / 2 (times the boost for image neighbours).
            best = max((hit["_score"] for hit in hits), default=0.0)
            for hit in hits:
                weight = np.exp(2 * (hit["_score"] - best) / KNN_TEMPERATURE)
                for cid in _labels_of(hit["_source"], kind):
                    if cid in position:
                        votes[position[cid]] += weight
            total = votes.sum()
            out.append((votes / total if total else votes, len(hits)))
        return out

    # -- labels ----------------------------------------------------------------------------------

    def distributions(self, subjects: Sequence[Subject], kind: LabelKind) -> tuple[np.ndarray[Any, Any], list[str]]:
        """(n, classes) final probabilities and the method behind each row ('' : no suggestion)."""
        if not subjects:
            return np.zeros((0, len(self.ids[kind]))), []
        zs = self.zero_shot(np.asarray([s.text_vector for s in subjects], dtype=np.float32), kind)
        methods = []
        for i, (vote, voters) in enumerate(self.knn(subjects, kind)):
            found = voters >= MIN_NEIGHBOURS and vote.sum() > 0
            if kind is LabelKind.PERIOD:
                zs[i] = PERIOD_ZERO_SHOT_WEIGHT * zs[i] + (1 - PERIOD_ZERO_SHOT_WEIGHT) * vote if found else 0
                methods.append("knn" if found else "")
            elif found:
                zs[i] = KNN_WEIGHT[kind] * vote + (1 - KNN_WEIGHT[kind]) * zs[i]
                methods.append("zero-shot+knn")
            else:
                methods.append("zero-shot")
        return zs, methods

    def labels(self, subjects: Sequence[Subject]) -> list[list[AILabel]]:
        """Top labels per subject and kind, above the configured confidence (periods: undated subjects only)."""
        out: dict[int, list[AILabel]] = defaultdict(list)
        undated = [i for i, s in enumerate(subjects) if not s.dated]
        for kind in (LabelKind.CATEGORY, LabelKind.MATERIAL, LabelKind.PERIOD):
            rows = undated if kind is LabelKind.PERIOD else list(range(len(subjects)))
            probabilities, methods = self.distributions([subjects[i] for i in rows], kind)
            ids = self.ids[kind]
            for i, row, method in zip(rows, probabilities, methods, strict=True):
                for j in np.argsort(-row)[: self.models.label_top_k]:
                    if method and row[j] >= self.models.label_min_confidence:
                        out[i].append(AILabel(id=ids[j], kind=kind, confidence=round(float(row[j]), 4),
                                              method=method, model=self.model))
        return [out[i] for i in range(len(subjects))]
