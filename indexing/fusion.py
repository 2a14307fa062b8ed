"""Calibrated fusion of the legs of a search, and the relevance floor.

Each leg returns its top window with scores:

- `title` and `text`: kNN on the title vector and on the whole-record vector. Elasticsearch's cosine
  score is (1 + cos) / 2; fusion uses the cosine itself. A record outside a kNN leg's window gets the
  lowest cosine that leg returned (it is at most that).
- `keyword` (BM25 within the query's language) and `bridge` (BM25 of the translated query): scores
  divided by the leg's best, so each is in [0, 1]; absent = 0. The exact-title bonus is taken out of
  the keyword score and counted as a leg of its own (`exact`: 0 or 1).
- `image` (CLIP text → image vectors, when configured): cosine, like the text legs.

fused = Σ weight(leg) · value(leg). Two thresholds, Settings (search.fusion) chosen with the weights on the
dev sets of tests/bench/quality.py (tests/bench/fusion_tuning.py):
- the **gate**, per query: when even the best result's fused score is below it, the query found
  nothing similar enough and the answer is empty (nonsense, or nothing like it in the collection);
- the **floor**, per result: once a query passes the gate, results down to the floor are returned.
A gate above the floor keeps recall for queries with a clear answer and still turns nonsense away;
`total` counts what is returned. Equal scores go to the record whose title is the query as written (the
keyword leg's `literal_title` clause: "Blank" before "[blank]", which match alike after normalisation).
(A gate on the best cosine alone, apart from the weights, was measured too and lost recall: cross-lingual
matches score cosines of 0.4–0.6, as nonsense does against short records.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from indexing.query import EXACT_TITLE, EXACT_TITLE_BOOST, LITERAL_TITLE

COSINE_LEGS = frozenset({"title", "text", "image"})
BM25_LEGS = frozenset({"keyword", "bridge"})


@dataclass(frozen=True)
class LegHit:
    asset_id: str
    score: float  # Elasticsearch's _score
    matched: tuple[str, ...] = ()  # named queries that matched


@dataclass
class Fused:
    asset_id: str
    score: float
    ranks: dict[str, int] = field(default_factory=dict)  # leg → 1-based rank
    values: dict[str, float] = field(default_factory=dict)  # leg → the value fusion used


def leg_values(leg: str, hits: Sequence[LegHit]) -> dict[str, float]:
    """A leg's hits as comparable values: cosines for kNN legs, BM25 / best for BM25 legs."""
    if leg in COSINE_LEGS:
        return {h.asset_id: 2 * h.score - 1 for h in hits}
    scores = {h.asset_id: h.score - (EXACT_TITLE_BOOST if EXACT_TITLE in h.matched else 0.0) for h in hits}
    best = max(scores.values(), default=0.0)
    return {i: s / best if best > 0 else 0.0 for i, s in scores.items()}


def fuse(legs: Mapping[str, Sequence[LegHit]], weights: Mapping[str, float], floor: float,
         gate: float | None = None) -> list[Fused]:
    """The union of the legs' hits, scored by the weighted sum of their values, best first, down to `floor` —
    or nothing when the best is below `gate` (default: the floor)."""
    values = {leg: leg_values(leg, hits) for leg, hits in legs.items()}
    exact = {h.asset_id for h in legs.get("keyword", ()) if EXACT_TITLE in h.matched}
    if exact:
        values["exact"] = dict.fromkeys(exact, 1.0)
    missing = {leg: (min(v.values(), default=0.0) if leg in COSINE_LEGS else 0.0) for leg, v in values.items()}
    fused: dict[str, Fused] = {}
    for leg, hits in legs.items():
        for rank, hit in enumerate(hits, start=1):
            fused.setdefault(hit.asset_id, Fused(hit.asset_id, 0.0)).ranks[leg] = rank
    for item in fused.values():
        for leg, v in values.items():
            item.values[leg] = v.get(item.asset_id, missing[leg])
        item.score = round(sum(weights.get(leg, 0.0) * v for leg, v in item.values.items()), 6)
    literal = {h.asset_id for h in legs.get("keyword", ()) if LITERAL_TITLE in h.matched}
    ranked = sorted(fused.values(), key=lambda f: (-f.score, f.asset_id not in literal, f.asset_id))
    if not ranked or ranked[0].score < (floor if gate is None else gate):
        return []
    return [f for f in ranked if f.score >= floor]
