"""Period labels: dynasty suggestions for undated assets, and what a curator's decision on one changes.

- **Level.** Suggestions name a *top-level* entry of schemas/periods.json, reached through the `parent`
  chain: qing-qianlong → qing, western-han → han, northern-song → song, spring-and-autumn → zhou,
  liang → southern-and-northern. Neighbours' style, form and material tell dynasties apart; they
  rarely tell a reign or a half-dynasty, and a coarse label a curator can accept beats a fine one
  that is wrong. The top-level entries are the classes voted over (`dynasties`).
- **Who gets one.** Only assets whose own period did not parse (no text, "不详", a text that names
  nothing): a parsed curator period is the record, and a suggestion for it could change nothing but
  would fill the review queue. Dated neighbours vote only with a period their *curator's text* gave
  (`period_norm.parsed`), never with one filled from an accepted label, so suggestions do not
  feed on themselves.
- **Accepting** a period label fills `period_norm` of an asset whose own text did not parse: the
  label's period id and years, `parsed` still False (the curator's text still did not parse) and
  `flag` = `accepted-label`, so the year filter and the period facet find it and anyone can tell it
  from a parsed date. The latest accepted period label wins; rejecting it removes the fill. A
  parsed period is never overwritten. Decisions are re-applied after every enrichment
  (indexing/labels.py), as for categories.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache

from schemas.asset import PeriodRecord, YearRange
from schemas.periods import lineage, load_periods, period_by_id

ACCEPTED_FLAG = "accepted-label"  # period_norm.flag of a period filled from an accepted label
PERIOD_FIELD = "period_norm.period_id"
# Neighbours vote only with the period their curator's text gave.
DATED_FILTER: list[dict[str, object]] = [{"exists": {"field": PERIOD_FIELD}}, {"term": {"period_norm.parsed": True}}]


@cache
def dynasties() -> tuple[str, ...]:
    """The classes of period suggestions: every top-level entry of the table, in its order."""
    return tuple(p.id for p in load_periods() if p.parent is None)


def dynasty_of(period_id: str | None) -> str | None:
    """The top-level entry a period belongs to (qing-qianlong → qing); None for an unknown id."""
    period = period_by_id(period_id) if period_id else None
    return lineage(period)[-1].id if period is not None else None


def is_period(label: str) -> bool:
    return period_by_id(label) is not None


def is_dated(period: PeriodRecord | None) -> bool:
    """The curator's own period parsed: such an asset needs no suggestion."""
    return period is not None and period.parsed


def vote(neighbours: Iterable[tuple[str | None, float]]) -> dict[str, float]:
    """Weighted votes of (period id, weight) neighbours, each at the dynasty level, as shares summing to 1."""
    totals: dict[str, float] = {}
    for period_id, weight in neighbours:
        if (dynasty := dynasty_of(period_id)) is not None and weight > 0:
            totals[dynasty] = totals.get(dynasty, 0.0) + weight
    whole = sum(totals.values())
    return {d: w / whole for d, w in sorted(totals.items(), key=lambda kv: -kv[1])} if whole else {}


def filled(period: PeriodRecord | None, label: str) -> PeriodRecord:
    """period_norm of an undated asset once a curator accepted the period `label`."""
    entry = period_by_id(label)
    if entry is None:
        raise KeyError(f"no period with id {label!r} in schemas/periods.json")
    return PeriodRecord(source=period.source if period else "", period_id=entry.id, start=entry.start,
                        end=entry.end, years=YearRange(gte=entry.start, lte=entry.end), parsed=False,
                        flag=ACCEPTED_FLAG)


def with_period_decisions(own: PeriodRecord | None,
                          accepted: Sequence[tuple[datetime, str]]) -> PeriodRecord | None:
    """period_norm from the curator's own (`own`, as the text gives it) and the accepted period labels
    (decided_at, label): the latest accepted one fills an undated asset; a parsed period stays as it is."""
    if is_dated(own) or not accepted:
        return own
    return filled(own, max(accepted)[1])
