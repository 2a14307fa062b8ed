from __future__ import annotations

from datetime import UTC, datetime

from indexing.labels import Decision, apply_decisions, label_kind
from indexing.period_labels import ACCEPTED_FLAG, dynasties, dynasty_of, is_dated, vote, with_period_decisions
from indexing.periods import period_record
from schemas.asset import AssetRecord, LabelKind, LabelStatus
from tests.factories import make_asset


def test_a_reign_maps_to_its_dynasty_through_the_parent_chain() -> None:
    assert dynasty_of("qing-qianlong") == "qing"


def test_a_half_dynasty_and_a_period_of_divided_times_map_to_their_top_level_entry() -> None:
    assert [dynasty_of(p) for p in ("western-han", "northern-song", "spring-and-autumn", "liang")] == [
        "han", "song", "zhou", "southern-and-northern"]


def test_an_unknown_or_missing_period_maps_to_nothing() -> None:
    assert (dynasty_of("atlantis"), dynasty_of(None)) == (None, None)


def test_the_classes_are_the_top_level_entries_only() -> None:
    assert "qing" in dynasties() and "qing-qianlong" not in dynasties() and "western-han" not in dynasties()


def test_the_vote_pools_reigns_of_one_dynasty_and_weighs_by_similarity() -> None:
    shares = vote([("ming-yongle", 1.0), ("ming-xuande", 1.0), ("qing", 3.0), (None, 5.0)])

    assert list(shares) == ["qing", "ming"]
    assert shares == {"qing": 0.6, "ming": 0.4}


def test_no_voters_give_no_vote() -> None:
    assert vote([]) == {}


def test_a_parsed_curator_period_is_kept_whatever_was_accepted() -> None:
    own = period_record("清乾隆", None)

    assert is_dated(own)
    assert with_period_decisions(own, [(datetime.now(UTC), "ming")]) == own


def test_the_latest_accepted_period_fills_an_undated_record_marked_as_from_a_label() -> None:
    own = period_record("年代不详", None)
    early, late = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)

    filled = with_period_decisions(own, [(late, "ming"), (early, "yuan")])

    assert filled is not None and (filled.period_id, filled.start, filled.end) == ("ming", 1368, 1644)
    assert filled.parsed is False and filled.flag == ACCEPTED_FLAG and filled.source == "年代不详"


def test_period_ids_are_labels_of_kind_period() -> None:
    assert (label_kind("ming"), label_kind("bronze")) == (LabelKind.PERIOD, LabelKind.CATEGORY)


def _decision(label: str, status: LabelStatus) -> Decision:
    return Decision(asset_id="a", label=label, kind=label_kind(label), status=status, decided_by="c",
                    decided_at=datetime.now(UTC))


def test_rejecting_an_accepted_period_label_gives_the_curator_text_back() -> None:
    asset = AssetRecord.model_validate(make_asset(period="不详"))
    accepted = apply_decisions(asset, [_decision("ming", LabelStatus.ACCEPTED)])

    rejected = apply_decisions(accepted, [_decision("ming", LabelStatus.REJECTED)])

    assert accepted.period_norm is not None and accepted.period_norm.period_id == "ming"
    assert rejected.period_norm == period_record("不详", None)
