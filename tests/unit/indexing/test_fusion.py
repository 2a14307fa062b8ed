"""indexing/fusion.py: weighted fusion of the legs, the gate and the floor."""

from __future__ import annotations

import pytest

from indexing.fusion import LegHit, fuse, leg_values
from indexing.query import EXACT_TITLE, EXACT_TITLE_BOOST, LITERAL_TITLE, Filters, keyword_query
from indexing.terms import default_analyzer

WEIGHTS = {"title": 0.5, "text": 0.5, "keyword": 0.6, "bridge": 0.3, "exact": 1.0}


def test_cosine_legs_use_the_cosine_and_bm25_legs_the_share_of_the_best() -> None:
    assert leg_values("title", [LegHit("a", 0.9)]) == {"a": pytest.approx(0.8)}
    assert leg_values("keyword", [LegHit("a", 10.0), LegHit("b", 5.0)]) == {"a": 1.0, "b": 0.5}


def test_the_exact_title_bonus_is_its_own_leg_not_bm25() -> None:
    exact = LegHit("a", 4.0 + EXACT_TITLE_BOOST, (EXACT_TITLE,))

    fused = fuse({"keyword": [exact, LegHit("b", 8.0)]}, WEIGHTS, floor=-10)

    assert fused[0].asset_id == "a" and fused[0].values == {"keyword": 0.5, "exact": 1.0}
    assert fused[1].values == {"keyword": 1.0, "exact": 0.0}


def test_a_record_missing_from_a_knn_leg_gets_that_legs_lowest_cosine() -> None:
    legs = {"title": [LegHit("a", 0.9), LegHit("b", 0.7)], "text": [LegHit("a", 0.8)]}

    fused = {f.asset_id: f for f in fuse(legs, WEIGHTS, floor=-10)}

    assert fused["b"].values["text"] == pytest.approx(0.6)  # a's, the only one the text leg returned
    assert fused["b"].ranks == {"title": 2}


def test_below_the_gate_nothing_above_it_down_to_the_floor() -> None:
    legs = {"title": [LegHit("a", 0.8), LegHit("b", 0.6)], "text": [LegHit("a", 0.8), LegHit("b", 0.6)]}

    assert fuse(legs, WEIGHTS, floor=0.1, gate=0.7) == []  # best: cos 0.6
    assert [f.asset_id for f in fuse(legs, WEIGHTS, floor=0.1, gate=0.5)] == ["a", "b"]
    assert [f.asset_id for f in fuse(legs, WEIGHTS, floor=0.5, gate=0.5)] == ["a"]
    assert fuse({}, WEIGHTS, floor=0.0) == []


def test_of_equal_scores_the_title_as_written_goes_first() -> None:
    # "[blank]" (a) and "Blank" (z) match the query "Blank" alike after normalisation, and on every other leg
    hits = [LegHit(i, 101.0, (EXACT_TITLE, *extra)) for i, extra in (("a", ()), ("z", (LITERAL_TITLE,)))]
    ranked = fuse({"keyword": hits, "title": [LegHit("a", 0.9), LegHit("z", 0.9)]}, WEIGHTS, floor=0.0)
    assert [f.asset_id for f in ranked] == ["z", "a"] and ranked[0].score == ranked[1].score


def test_the_literal_key_tells_a_title_as_written_from_its_normalised_key() -> None:
    analyzer = default_analyzer()
    assert analyzer.title_key("[blank]") == analyzer.title_key("Blank")
    assert analyzer.literal_key("[blank]") != analyzer.literal_key("Blank") == analyzer.literal_key("  blank ")
    assert analyzer.literal_key("Blank") != analyzer.title_key("Blank")
    clauses = keyword_query("Blank", Filters(), None)["bool"]["should"]
    assert [c["term"]["terms.title_keys"]["_name"] for c in clauses] == [EXACT_TITLE, LITERAL_TITLE]
