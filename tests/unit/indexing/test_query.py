"""indexing/query.py and the cursors of services/search.py: pure functions, no services."""

from __future__ import annotations

import pytest

from indexing.query import Filters, Mode, Sort, keyword_query, knn_clause, rrf
from services.search import Cursor, CursorError, Query


def test_rrf_adds_one_over_k_plus_rank_per_leg_and_breaks_ties_by_id() -> None:
    fused = rrf({"keyword": ["a", "b", "c"], "semantic": ["c", "d"]}, k=60)

    assert [f.asset_id for f in fused] == ["c", "a", "b", "d"]
    assert fused[0].score == pytest.approx(1 / 63 + 1 / 61)
    assert fused[0].ranks == {"keyword": 3, "semantic": 1}
    assert [f.asset_id for f in rrf({"x": ["b"], "y": ["a"]})] == ["a", "b"]  # equal scores: by id


def test_an_empty_leg_leaves_the_other_legs_order() -> None:
    assert [f.asset_id for f in rrf({"keyword": [], "semantic": ["q", "p", "r"]})] == ["q", "p", "r"]


def test_filters_become_clauses_and_the_period_overlaps() -> None:
    clauses = Filters(category=["bronze"], region=["CN-BJ"], reusable=True, year_from=-1300).clauses()

    assert {"terms": {"category_ids": ["bronze"]}} in clauses
    assert {"terms": {"region": ["CN-BJ"]}} in clauses
    assert {"term": {"licence.reusable": True}} in clauses
    assert {"range": {"period_norm.years": {"gte": -1300, "relation": "intersects"}}} in clauses
    assert Filters().is_empty() and not Filters(has_image=False).is_empty()


def test_the_callers_visibility_goes_into_every_leg() -> None:
    visibility = {"term": {"licence.reusable": True}}

    keyword = keyword_query("鼎", Filters(institution=["m"]), visibility)
    knn = knn_clause("text_vector", [0.1, 0.2], 10, 100, Filters(), visibility)

    assert visibility in keyword["bool"]["filter"]
    assert knn["filter"] == [visibility] and knn["num_candidates"] == 100
    assert all(leg["multi_match"]["minimum_should_match"] == "2<70%"
               for leg in keyword["bool"]["must"][0]["bool"]["should"])


def test_a_cursor_round_trips_and_refuses_tampering() -> None:
    cursor = Cursor(pit="abc", fingerprint="f" * 16, offset=40, after=[1.5, "id-9"], tail=True)

    assert Cursor.decode(cursor.encode()) == cursor
    with pytest.raises(CursorError, match="not one this service issued"):
        Cursor.decode("%%%")
    with pytest.raises(CursorError, match="not one this service issued"):
        Cursor.decode(cursor.encode()[:-6])


def test_the_query_fingerprint_changes_with_any_parameter_but_the_page_size() -> None:
    base = Query("vase", Mode.HYBRID, Filters(), Sort.RELEVANCE, 20)

    assert base.fingerprint() == Query("vase", Mode.HYBRID, Filters(), Sort.RELEVANCE, 50).fingerprint()
    assert base.fingerprint() != Query("vase", Mode.KEYWORD, Filters(), Sort.RELEVANCE, 20).fingerprint()
    assert base.fingerprint() != Query("vase", Mode.HYBRID, Filters(reusable=True), Sort.RELEVANCE, 20).fingerprint()
