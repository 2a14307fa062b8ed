"""Datestamps and from/until: day and second granularity, UTC only, a selection that matches what is shown."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.oai import dates
from services.oai.dates import Granularity


def test_both_granularities_parse_to_the_start_of_their_day_or_second() -> None:
    day = dates.parse("2026-03-05")
    second = dates.parse("2026-03-05T10:20:30Z")

    assert (day.start, day.granularity) == (datetime(2026, 3, 5, tzinfo=UTC), Granularity.DAY)
    assert day.end == datetime(2026, 3, 6, tzinfo=UTC)
    assert (second.start, second.granularity) == (datetime(2026, 3, 5, 10, 20, 30, tzinfo=UTC), Granularity.SECOND)
    assert second.end == datetime(2026, 3, 5, 10, 20, 31, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2026-3-5", "2026-03-05T10:20:30", "2026-03-05T10:20:30+08:00",
                                  "2026-03-05T10:20:30.5Z", "2026-02-30", "2026-03-05T10:20Z", "yesterday", ""])
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        dates.parse(text)


def test_until_covers_its_whole_second_or_day_and_from_starts_at_its_beginning() -> None:
    assert dates.selection("2026-03-05", "2026-03-05") == {
        "range": {"changed_at": {"gte": "2026-03-05T00:00:00Z", "lt": "2026-03-06T00:00:00Z"}}}
    assert dates.selection(None, "2026-03-05T10:20:30Z") == {"range": {"changed_at": {"lt": "2026-03-05T10:20:31Z"}}}
    assert dates.selection("2026-03-05T10:20:30Z", None) == {"range": {"changed_at": {"gte": "2026-03-05T10:20:30Z"}}}
    assert dates.selection(None, None) is None


def test_mixed_granularities_and_a_from_after_until_are_refused() -> None:
    with pytest.raises(ValueError, match="same granularity"):
        dates.selection("2026-03-05", "2026-03-06T00:00:00Z")
    with pytest.raises(ValueError, match="later than until"):
        dates.selection("2026-03-06", "2026-03-05")


def test_a_datestamp_is_truncated_to_its_second_in_utc() -> None:
    assert dates.datestamp("2026-03-05T10:20:30.987654Z") == "2026-03-05T10:20:30Z"
    assert dates.datestamp("2026-03-05T18:20:30.5+08:00") == "2026-03-05T10:20:30Z"
    assert dates.datestamp(datetime(2026, 3, 5, 10, 20, 30, 999_999)) == "2026-03-05T10:20:30Z"
    assert dates.REPOSITORY_GRANULARITY.value == "YYYY-MM-DDThh:mm:ssZ"
