"""Classification into the taxonomy of schemas/taxonomy.json: categories and materials, with confidence.

Two signals, both over the asset's text vector (and its first image's vector when there is one):

- **zero-shot**: cosine similarity to each concept's own vector — its descriptions in
  Chinese and English, encoded by the same text encoder — turned into probabilities by a softmax
  at a fixed temperature;
- **kNN label propagation**: the nearest assets that carry curator labels (`category_ids`,
  `material_ids`) vote for their labels, weighted by similarity. The search is Elasticsearch kNN
  on `text_vector` and on `images.vector`, filtered to labelled assets and excluding the asset itself.

When enough labelled neighbours exist, the two distributions are mixed (KNN_WEIGHT); otherwise the
zero-shot distribution stands alone. Labels keep the method and the encoder that made them and are
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
from schemas.asset import AILabel, LabelKind
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
FIELD = {LabelKind.CATEGORY: "category_ids", LabelKind.MATERIAL: "material_ids"}


def concept_text(concept: Concept) -> list[str]:
    """What a concept is compared with: its description in each language (each starts with its name)."""
    return [concept.description_zh, concept.description_en]


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
        self.concept_vectors: dict[LabelKind, Vectors] = {
            kind: self._encode_concepts(concepts) for kind, concepts in self.concepts.items()}

    def _encode_concepts(self, concepts: Sequence[Concept]) -> Vectors:
        texts = [t for c in concepts for t in concept_text(c)]
        vectors = self.encoder.encode(texts).reshape(len(concepts), 2, -1).mean(axis=1)
        normed: Vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        return normed

    # -- the two signals -------------------------------------------------------------------------

    def zero_shot(self, text_vectors: Vectors, kind: LabelKind) -> np.ndarray[Any, Any]:
        """(n, concepts) probabilities."""
        return softmax(np.asarray(text_vectors, dtype=np.float32) @ self.concept_vectors[kind].T)

    def knn(self, subjects: Sequence[Subject], kind: LabelKind) -> list[tuple[np.ndarray[Any, Any], int]]:
        """Per subject: the neighbours' vote as probabilities over the concepts, and how many voted."""
        ids = [c.id for c in self.concepts[kind]]
        position = {cid: i for i, cid in enumerate(ids)}
        if self.es is None or self.index is None:
            return [(np.zeros(len(ids)), 0) for _ in subjects]
        field = FIELD[kind]
        searches: list[dict[str, Any]] = []
        for s in subjects:
            labelled = {"bool": {"filter": [{"exists": {"field": field}}],
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
                for cid in hit["_source"].get(field, []):
                    if cid in position:
                        votes[position[cid]] += weight
            total = votes.sum()
            out.append((votes / total if total else votes, len(hits)))
        return out

    # -- labels ----------------------------------------------------------------------------------

    def distributions(self, subjects: Sequence[Subject], kind: LabelKind) -> tuple[np.ndarray[Any, Any], list[str]]:
        """(n, concepts) final probabilities and the method behind each row."""
        if not subjects:
            return np.zeros((0, len(self.concepts[kind]))), []
        zs = self.zero_shot(np.asarray([s.text_vector for s in subjects], dtype=np.float32), kind)
        methods = []
        for i, (vote, voters) in enumerate(self.knn(subjects, kind)):
            if voters >= MIN_NEIGHBOURS and vote.sum() > 0:
                zs[i] = KNN_WEIGHT[kind] * vote + (1 - KNN_WEIGHT[kind]) * zs[i]
                methods.append("zero-shot+knn")
            else:
                methods.append("zero-shot")
        return zs, methods

    def labels(self, subjects: Sequence[Subject]) -> list[list[AILabel]]:
        """Top labels per subject and kind, above the configured confidence."""
        out: dict[int, list[AILabel]] = defaultdict(list)
        for kind in (LabelKind.CATEGORY, LabelKind.MATERIAL):
            probabilities, methods = self.distributions(subjects, kind)
            concepts = self.concepts[kind]
            for i, row in enumerate(probabilities):
                for j in np.argsort(-row)[: self.models.label_top_k]:
                    if row[j] >= self.models.label_min_confidence:
                        out[i].append(AILabel(id=concepts[j].id, kind=kind, confidence=round(float(row[j]), 4),
                                              method=methods[i], model=self.model))
        return [out[i] for i in range(len(subjects))]
