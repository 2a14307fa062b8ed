"""Choosing the fusion weights and the floor on the dev sets (`python -m tests.bench.fusion_tuning`).

Each set of tests/bench/quality.py is indexed once; every query's legs (the same bodies as
`Searcher._leg_bodies`, hybrid mode) are fetched once and kept; then a grid of weights and floors is
fused offline (indexing/fusion.py) and scored. It prints the best settings by the mean over sets of
hit@10 + MRR, with the nonsense queries' share of empty answers, and each set's numbers for them.
The chosen values go into services/settings.py (FusionSettings); `make bench` then measures them
end to end against the raw model.
"""

from __future__ import annotations

import itertools
import pickle
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from indexing.aliases import assets_alias, ensure_assets_index
from indexing.bulk import index_documents
from indexing.client import make_client
from indexing.encoders import text_encoder
from indexing.enrich import Enricher
from indexing.fusion import LegHit, fuse
from indexing.query import Filters, Mode, Sort
from services.search import Cursor, Query, Searcher
from services.settings import Settings, get_settings
from tests.bench.quality import NONSENSE, EvalSet, K, all_sets, score

GRID = {"title": [0.5, 1.0], "text": [0.5, 1.0], "keyword": [0.3, 0.6], "bridge": [0.3, 0.6], "exact": [1.0]}
FLOORS = [-1.0, 0.0, 0.1, 0.2, 0.3]
GATES = [0.3, 0.35, 0.4, 0.45, 0.5]
CACHE = Path(".cache/bench/fusion-legs.pkl")  # the collected legs, so a new grid needs no re-indexing
Legs = dict[str, list[LegHit]]


@dataclass
class Collected:
    name: str
    ds: EvalSet
    legs: list[Legs]
    nonsense: list[Legs]


def _legs(searcher: Searcher, q: str) -> Legs:
    query = Query(q, Mode.HYBRID, Filters(), Sort.RELEVANCE, K)
    state = Cursor(pit=None, fingerprint=query.fingerprint())
    responses, _ = searcher._msearch(state, searcher._leg_bodies(query, state, None))
    return {leg: [LegHit(h["_id"], float(h["_score"]), tuple(h.get("matched_queries", ()))) for h in r["hits"]["hits"]]
            for leg, r in responses.items()}


def collect(settings: Settings, ds: EvalSet) -> Collected:
    es = make_client(settings.es)
    prefix = f"bench-tuning-{uuid.uuid4().hex[:8]}"
    scoped = settings.model_copy(update={"es": settings.es.model_copy(update={"index_prefix": prefix})})
    alias = assets_alias(scoped.es)
    encoder = text_encoder()
    try:
        enricher = Enricher(scoped, None, None, text=encoder, use_ocr=False)
        ensure_assets_index(es, scoped, enricher.encoders)
        index_documents(es, alias, [(a.asset_id, a.model_dump(mode="json")) for a in enricher.enrich(ds.assets)])
        es.indices.refresh(index=alias)
        searcher = Searcher(es, scoped, text=encoder)
        out = Collected(ds.name, ds, [_legs(searcher, q.q) for q in ds.queries], [_legs(searcher, q) for q in NONSENSE])
    finally:
        es.indices.delete(index=f"{alias}-v*", allow_no_indices=True)
        es.close()
    print(f"[tuning] collected {ds.name}", file=sys.stderr, flush=True)
    return out


def evaluate(c: Collected, weights: dict[str, float], floor: float, gate: float) -> tuple[float, float, float]:
    """(hit@10, MRR, share of nonsense queries answered with nothing) for one setting."""
    hits = mrr = 0.0
    for legs, q in zip(c.legs, c.ds.queries, strict=True):
        ids = [f.asset_id for f in fuse(legs, weights, floor, gate)[:K]]
        hits += score("hit@10", ids, q.relevant)
        mrr += score("MRR", ids, q.relevant)
    empty = sum(not fuse(legs, weights, floor, gate) for legs in c.nonsense) / len(c.nonsense)
    return hits / len(c.legs), mrr / len(c.legs), empty


def collected_sets(settings: Settings) -> list[Collected]:
    if CACHE.exists():
        cached: list[Collected] = pickle.loads(CACHE.read_bytes())
        return cached
    collected = [collect(settings, ds) for ds in all_sets()]
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    CACHE.write_bytes(pickle.dumps(collected))
    return collected


def main() -> None:
    settings = get_settings()
    collected = collected_sets(settings)
    results = []
    for values in itertools.product(*GRID.values()):
        weights = dict(zip(GRID, values, strict=True))
        for floor, gate in itertools.product(FLOORS, GATES):
            per_set = [evaluate(c, weights, floor, gate) for c in collected]
            objective = sum(h + m for h, m, _ in per_set) / len(per_set)
            empty = sum(e for _, _, e in per_set) / len(per_set)
            results.append((objective, empty, weights, (floor, gate), per_set))
    # The gate must turn most nonsense away; among those settings, the best retrieval.
    eligible = [r for r in results if r[1] >= 0.9] or results
    for objective, empty, weights, (floor, gate), per_set in sorted(eligible, key=lambda r: -r[0])[:6]:
        print(f"objective {objective:.4f} nonsense-empty {empty:.2f} floor {floor} gate {gate} {weights}")
        for c, (h, m, e) in zip(collected, per_set, strict=True):
            print(f"    {c.name}: hit@10 {h:.3f} MRR {m:.3f} nonsense-empty {e:.2f}")


if __name__ == "__main__":
    main()
