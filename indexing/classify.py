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
MSEARCH_TIMEOUT_S = 300  # one chunk's neighbour searches, in one request


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


def _encode_pairs(encoder: Encoder, pairs: Sequence[list[str]]) -> Vectors:
    texts = [t for pair in pairs for t in pair]
    vectors = encoder.encode(texts).reshape(len(pairs), 2, -1).mean(axis=1)
    normed: Vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return normed


# Concept vectors per encoder object (kept alive with them): encoding every concept's descriptions takes
# seconds on two cores, and a process makes Classifiers per chunk and per reindex with the same encoder.
_CONCEPT_VECTORS: dict[int, tuple[Encoder, dict[LabelKind, Vectors]]] = {}


def concept_vectors(encoder: Encoder, concepts: dict[LabelKind, tuple[Concept, ...]]) -> dict[LabelKind, Vectors]:
    """Each kind's concept vectors by `encoder`, encoded once per process (ingest workers warm them before
    forking tasks: services/ingest/executor.py)."""
    cached = _CONCEPT_VECTORS.get(id(encoder))
    if cached is None or cached[0] is not encoder:
        vectors = {kind: _encode_pairs(encoder, [concept_text(c) for c in cs]) for kind, cs in concepts.items()}
        vectors[LabelKind.PERIOD] = _encode_pairs(encoder, [period_text(p) for p in dynasties()])
        cached = _CONCEPT_VECTORS[id(encoder)] = (encoder, vectors)
    return dict(cached[1])


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
        self.concept_vectors = concept_vectors(encoder, self.concepts)

    # -- the two signals -------------------------------------------------------------------------

    def zero_shot(self, text_vectors: Vectors, kind: LabelKind) -> np.ndarray[Any, Any]:
        """(n, concepts) probabilities."""
        return softmax(np.asarray(text_vectors, dtype=np.float32) @ self.concept_vectors[kind].T)

    def knn(self, subjects: Sequence[Subject], kind: LabelKind) -> list[tuple[np.ndarray[Any, Any], int]]:
        """Per subject: the neighbours' vote as probabilities over the concepts, and how many voted."""
        return self.knn_all([(kind, subjects)])[0]

    def knn_all(self, groups: Sequence[tuple[LabelKind, Sequence[Subject]]]
                ) -> list[list[tuple[np.ndarray[Any, Any], int]]]:
        """`knn` for several kinds at once, in one _msearch (a chunk's neighbour searches in one request)."""
        if self.es is None or self.index is None:
            return [[(np.zeros(len(self.ids[kind])), 0) for _ in subjects] for kind, subjects in groups]
        searches = [line for kind, subjects in groups for s in subjects for line in self._knn_search(s, kind)]
        # A chunk's searches (up to 3 per asset) take a while on a busy node: more than the client's default
        # 30 s, after which it would retry them all.
        es = self.es.options(request_timeout=MSEARCH_TIMEOUT_S)
        responses = iter(es.msearch(searches=searches)["responses"]) if searches else iter([])
        return [[self._votes(next(responses), kind) for _ in subjects] for kind, subjects in groups]

    def _knn_search(self, s: Subject, kind: LabelKind) -> list[dict[str, Any]]:
        """The _msearch header and body that find `s`'s labelled neighbours for `kind`."""
        field = FIELD[kind]
        wanted = DATED_FILTER if kind is LabelKind.PERIOD else [{"exists": {"field": field}}]
        labelled = {"bool": {"filter": wanted, "must_not": [{"ids": {"values": [s.asset_id]}}]}}
        knn = [{"field": "text_vector", "query_vector": list(s.text_vector), "k": self.models.knn_neighbours,
                "num_candidates": self.search.num_candidates, "filter": labelled}]
        if s.image_vector is not None:
            knn.append({"field": "images.vector", "query_vector": list(s.image_vector),
                        "k": self.models.knn_neighbours, "num_candidates": self.search.num_candidates,
                        "filter": labelled, "boost": IMAGE_WEIGHT})
        return [{"index": self.index}, {"knn": knn, "size": self.models.knn_neighbours * 2, "_source": [field]}]

    def _votes(self, response: dict[str, Any], kind: LabelKind) -> tuple[np.ndarray[Any, Any], int]:
        ids = self.ids[kind]
        position = {cid: i for i, cid in enumerate(ids)}
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
        return votes / total if total else votes, len(hits)

    # -- labels ----------------------------------------------------------------------------------

    def distributions(self, subjects: Sequence[Subject], kind: LabelKind,
                      votes: Sequence[tuple[np.ndarray[Any, Any], int]] | None = None
                      ) -> tuple[np.ndarray[Any, Any], list[str]]:
        """(n, classes) final probabilities and the method behind each row ('' : no suggestion); `votes`: the
        subjects' `knn` when already searched."""
        if not subjects:
            return np.zeros((0, len(self.ids[kind]))), []
        zs = self.zero_shot(np.asarray([s.text_vector for s in subjects], dtype=np.float32), kind)
        methods = []
        for i, (vote, voters) in enumerate(votes if votes is not None else self.knn(subjects, kind)):
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
        kinds = (LabelKind.CATEGORY, LabelKind.MATERIAL, LabelKind.PERIOD)
        rows_of = {kind: undated if kind is LabelKind.PERIOD else list(range(len(subjects))) for kind in kinds}
        searched = self.knn_all([(kind, [subjects[i] for i in rows_of[kind]]) for kind in kinds])
        for kind, votes in zip(kinds, searched, strict=True):
            rows = rows_of[kind]
            probabilities, methods = self.distributions([subjects[i] for i in rows], kind, votes)
            ids = self.ids[kind]
            for i, row, method in zip(rows, probabilities, methods, strict=True):
                for j in np.argsort(-row)[: self.models.label_top_k]:
                    if method and row[j] >= self.models.label_min_confidence:
                        out[i].append(AILabel(id=ids[j], kind=kind, confidence=round(float(row[j]), 4),
                                              method=method, model=self.model))
        return [out[i] for i in range(len(subjects))]
