"""Datestamps: the record's `changed_at` to the second, in UTC; `from`/`until` at either granularity.

The repository's granularity is seconds (`YYYY-MM-DDThh:mm:ssZ`); a harvester may also send days.
A datestamp is shown truncated to its second, so `until` covers the whole of its second (or day)
and `from` starts at its beginning: a record is selected exactly when its shown datestamp is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any


class Granularity(StrEnum):
    DAY = "YYYY-MM-DD"
    SECOND = "YYYY-MM-DDThh:mm:ssZ"


REPOSITORY_GRANULARITY = Granularity.SECOND
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_SECOND = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_UTC_STORED = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")  # a UTC moment as stored


@dataclass(frozen=True)
class Stamp:
    """A `from` or `until` argument: where its day or second starts, and how fine it is."""

    start: datetime
    granularity: Granularity

    @property
    def end(self) -> datetime:
        """The first instant after the day or second it names."""
        return self.start + (timedelta(days=1) if self.granularity is Granularity.DAY else timedelta(seconds=1))


def parse(text: str) -> Stamp:
    """A datestamp argument; ValueError if it is neither granularity (offsets and fractions are refused)."""
    if _DAY.fullmatch(text):
        day = date.fromisoformat(text)
        return Stamp(datetime(day.year, day.month, day.day, tzinfo=UTC), Granularity.DAY)
    if _SECOND.fullmatch(text):
        return Stamp(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC), Granularity.SECOND)
    raise ValueError(f"{text!r} is not a UTC datestamp of the form YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ")


def selection(from_: str | None, until: str | None) -> dict[str, Any] | None:
    """The range clause on changed_at of a from/until pair; ValueError if they are not a valid pair."""
    low = parse(from_) if from_ is not None else None
    high = parse(until) if until is not None else None
    if low and high and low.granularity is not high.granularity:
        raise ValueError("from and until must have the same granularity")
    if low and high and low.start > high.start:
        raise ValueError("from is later than until")
    bounds: dict[str, str] = {}
    if low:
        bounds["gte"] = iso(low.start)
    if high:
        bounds["lt"] = iso(high.end)
    return {"range": {"changed_at": bounds}} if bounds else None


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def datestamp(value: datetime | str) -> str:
    """A record's datestamp at the repository's granularity (seconds, UTC)."""
    if isinstance(value, str) and _UTC_STORED.fullmatch(value):  # as the model writes it: no parsing needed
        return value[:19] + "Z"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return iso(moment)


def now() -> str:
    return iso(datetime.now(UTC))


def iso_from_unix(seconds: float) -> str:
    return iso(datetime.fromtimestamp(seconds, UTC))
