"""Choosing the fusion weights and the thresholds on the dev sets (`python -m tests.bench.fusion_tuning`).

Each set of tests/bench/quality.py is indexed once; every query's legs (the same bodies as
`Searcher._leg_bodies`, hybrid mode) are fetched once and kept, with the raw model's exact rankings
of the same run (quality.raw_rankings); then a grid of weights, floors and gates is fused offline with
indexing/fusion.py's value rules (vectorised here) and scored. A setting is eligible when it keeps the
rule — hybrid ≥ the raw model's best field on every metric of every set — and turns most nonsense
away; among those (or, if none, those breaking the rule on the fewest sets) the best mean of
hit@10 + MRR wins. The chosen values go into services/settings.py (FusionSettings); `make bench`
then measures them end to end against the raw model.
"""

from __future__ import annotations

import itertools
import pickle
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexing.aliases import assets_alias, ensure_assets_index
from indexing.bulk import index_documents
from indexing.client import make_client
from indexing.encoders import text_encoder
from indexing.enrich import Enricher
from indexing.fusion import LegHit, fuse, leg_values
from indexing.query import EXACT_TITLE, Filters, Mode, Sort
from services.search import Cursor, Query, Searcher
from services.settings import Settings, get_settings
from tests.bench.quality import METRICS, NONSENSE, EvalSet, K, all_sets, raw_rankings, score

LEGS = ("title", "text", "keyword", "bridge", "exact")
GRID = {"title": [0.25, 0.5, 0.75], "text": [0.5, 0.75, 1.0, 1.5], "keyword": [0.3, 0.6, 1.0],
        "bridge": [0.15, 0.3, 0.6], "exact": [0.5, 1.0]}
FLOORS = [0.0, 0.1, 0.2]
GATES = [0.3, 0.35, 0.4, 0.45, 0.5, 0.6]
CACHE = Path(".cache/bench/fusion-legs-v2.pkl")  # the collected legs, so a new grid needs no re-indexing
Legs = dict[str, list[LegHit]]


@dataclass
class Collected:
    name: str
    ds: EvalSet
    legs: list[Legs]
    nonsense: list[Legs]
    raw: dict[str, list[list[str]]]


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
    encoder = text_encoder(settings.models)
    try:
        enricher = Enricher(scoped, None, None, text=encoder, use_ocr=False)
        ensure_assets_index(es, scoped, enricher.encoders)
        index_documents(es, alias, [(a.asset_id, a.model_dump(mode="json")) for a in enricher.enrich(ds.assets)])
        es.indices.refresh(index=alias)
        es.indices.forcemerge(index=alias, max_num_segments=1)
        searcher = Searcher(es, scoped, text=encoder)
        out = Collected(ds.name, ds, [_legs(searcher, q.q) for q in ds.queries], [_legs(searcher, q) for q in NONSENSE],
                        raw_rankings(ds, lambda texts: encoder.encode(texts, batch_size=64)))
    finally:
        es.indices.delete(index=f"{alias}-v*", allow_no_indices=True)
        es.close()
    print(f"[tuning] collected {ds.name}", file=sys.stderr, flush=True)
    return out


@dataclass
class Matrix:
    """One query's candidates × legs values (fusion.py's rules), ready for any weights."""
    ids: np.ndarray
    values: np.ndarray  # candidates × len(LEGS)


def matrix(legs: Legs) -> Matrix:
    ids = sorted({h.asset_id for hits in legs.values() for h in hits})
    values = np.zeros((len(ids), len(LEGS)))
    index = {i: n for n, i in enumerate(ids)}
    for leg, hits in legs.items():
        v = leg_values(leg, hits)
        col = LEGS.index(leg)
        values[:, col] = min(v.values(), default=0.0) if leg in ("title", "text") else 0.0
        for i, x in v.items():
            values[index[i], col] = x
    for h in legs.get("keyword", ()):
        if EXACT_TITLE in h.matched:
            values[index[h.asset_id], LEGS.index("exact")] = 1.0
    return Matrix(np.array(ids), values)


def ranked(m: Matrix, w: np.ndarray, floor: float, gate: float) -> list[str]:
    if not len(m.ids):
        return []
    s = np.round(m.values @ w, 6)
    order = np.lexsort((m.ids, -s))[:K]
    if s[order[0]] < gate:
        return []
    return [str(m.ids[i]) for i in order if s[i] >= floor]


def check_against_fuse(c: Collected, weights: dict[str, float], floor: float, gate: float) -> None:
    """The vectorised ranking is fusion.py's: checked on a few queries."""
    w = np.array([weights[leg] for leg in LEGS])
    for legs in c.legs[:20]:
        expected = [f.asset_id for f in fuse(legs, weights, floor, gate)[:K]]
        assert ranked(matrix(legs), w, floor, gate) == expected, (expected, ranked(matrix(legs), w, floor, gate))


def collected_sets(settings: Settings) -> list[Collected]:
    if CACHE.exists():
        cached: list[Collected] = pickle.loads(CACHE.read_bytes())
        return cached
    collected = [collect(settings, ds) for ds in all_sets()]
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    CACHE.write_bytes(pickle.dumps(collected))
    return collected


def gate_report(collected: list[Collected], settings: Settings) -> None:
    """What the gate costs (`--gate`): each set with the configured weights, with and without the gate, and
    how the best whole-record and title cosines of real queries compare with the nonsense queries'."""
    f = settings.search.fusion
    w = np.array([getattr(f, leg) for leg in LEGS])
    for c in collected:
        ms = [matrix(legs) for legs in c.legs]
        line = []
        for label, gate in (("gate", f.gate), ("no gate", -9.0)):
            runs = [ranked(m, w, f.floor if gate > -9 else -9.0, gate) for m in ms]
            hits = np.mean([score("hit@10", r, q.relevant) for r, q in zip(runs, c.ds.queries, strict=True)])
            line.append(f"{label} hit@10 {hits:.3f}")

        def best(legs: Legs, leg: str) -> float:
            return max((2 * h.score - 1 for h in legs.get(leg, ())), default=0.0)
        real = np.array([[best(legs, "title"), best(legs, "text")] for legs in c.legs])
        junk = np.array([[best(legs, "title"), best(legs, "text")] for legs in c.nonsense])
        print(f"{c.name}: {', '.join(line)}; best cosine title/text — real queries p10 "
              f"{np.percentile(real[:, 0], 10):.2f}/{np.percentile(real[:, 1], 10):.2f}, p50 "
              f"{np.median(real[:, 0]):.2f}/{np.median(real[:, 1]):.2f}; nonsense p50 {np.median(junk[:, 0]):.2f}/"
              f"{np.median(junk[:, 1]):.2f}, max {junk[:, 0].max():.2f}/{junk[:, 1].max():.2f}; nonsense with a "
              f"keyword or bridge hit: {sum(bool(legs.get('keyword') or legs.get('bridge')) for legs in c.nonsense)}")


def nonword_report(collected: list[Collected], settings: Settings) -> None:
    """The gate of indexing/query_sense.py (`--nonword`): each set with the configured weights, for several
    thresholds of the non-word probe, against the raw model's best field; and how much nonsense answers nothing."""
    from indexing.encoders.base import info
    from indexing.query_sense import gate

    f = settings.search.fusion
    w = np.array([getattr(f, leg) for leg in LEGS])
    encoder = text_encoder(settings.models)
    about = info(encoder)
    nonsense_vectors = encoder.encode(NONSENSE, batch_size=64)
    for threshold in (0.5, 0.6, 0.7, 0.8, 0.9):
        fusion = f.model_copy(update={"nonword": threshold})
        print(f"non-word threshold {threshold}:")
        for c in collected:
            vectors = encoder.encode([q.q for q in c.ds.queries], batch_size=64)
            runs = []
            for legs, v in zip(c.legs, vectors, strict=True):
                g = gate(legs, v, about, fusion)
                runs.append(ranked(matrix(legs), w, f.floor, f.floor if g is None else g))
            got = {m: float(np.mean([score(m, ids, q.relevant) for ids, q in zip(runs, c.ds.queries, strict=True)]))
                   for m in METRICS}
            best = {m: max(np.mean([score(m, ids, q.relevant) for ids, q in zip(r, c.ds.queries, strict=True)])
                           for r in c.raw.values()) for m in METRICS}
            empty = 0
            for legs, v in zip(c.nonsense, nonsense_vectors, strict=True):
                g = gate(legs, v, about, fusion)
                empty += not ranked(matrix(legs), w, f.floor, f.floor if g is None else g)
            below = [m for m in METRICS if got[m] < best[m] - 1e-9]
            print(f"    {c.name}: " + " ".join(f"{m} {got[m]:.3f} (raw {best[m]:.3f})" for m in METRICS)
                  + f"; nonsense answered with nothing {empty}/{len(NONSENSE)}"
                  + (f" BELOW on {below}" if below else ""))


def main() -> None:
    settings = get_settings()
    collected = collected_sets(settings)
    if sys.argv[1:] == ["--gate"]:
        gate_report(collected, settings)
        return
    if sys.argv[1:] == ["--nonword"]:
        nonword_report(collected, settings)
        return
    current = settings.search.fusion
    check_against_fuse(collected[0], {leg: getattr(current, leg) for leg in LEGS}, current.floor, current.gate)
    mats = [[matrix(legs) for legs in c.legs] for c in collected]
    nonsense = [[matrix(legs) for legs in c.nonsense] for c in collected]
    raw_best = [{m: max(np.mean([score(m, ids, q.relevant) for ids, q in zip(r, c.ds.queries, strict=True)])
                        for r in c.raw.values()) for m in METRICS} for c in collected]
    results = []
    for values in itertools.product(*GRID.values()):
        w = np.array(values)
        for floor, gate in itertools.product(FLOORS, GATES):
            per_set, broken = [], 0
            for c, ms, ns, best in zip(collected, mats, nonsense, raw_best, strict=True):
                runs = [ranked(m, w, floor, gate) for m in ms]
                got = {m: float(np.mean([score(m, ids, q.relevant) for ids, q in zip(runs, c.ds.queries, strict=True)]))
                       for m in METRICS}
                empty = sum(not ranked(m, w, floor, gate) for m in ns) / len(ns)
                broken += any(got[m] < best[m] - 1e-9 for m in METRICS)
                per_set.append((got, empty))
            objective = sum(g["hit@10"] + g["MRR"] for g, _ in per_set) / len(per_set)
            empty = min(e for _, e in per_set)
            results.append((broken, objective, empty, dict(zip(GRID, values, strict=True)), (floor, gate), per_set))
    eligible = [r for r in results if r[2] >= 0.85] or results
    for broken, objective, empty, weights, (floor, gate), per_set in sorted(eligible, key=lambda r: (r[0], -r[1]))[:8]:
        print(f"sets below raw {broken} objective {objective:.4f} nonsense-empty(min) {empty:.2f} "
              f"floor {floor} gate {gate} {weights}")
        for c, best, (got, e) in zip(collected, raw_best, per_set, strict=True):
            below = [m for m in METRICS if got[m] < best[m] - 1e-9]
            print(f"    {c.name}: hit@10 {got['hit@10']:.3f} (raw {best['hit@10']:.3f}) MRR {got['MRR']:.3f} "
                  f"(raw {best['MRR']:.3f}) empty {e:.2f}" + (f" BELOW on {below}" if below else ""))


if __name__ == "__main__":
    main()
