"""Period normalisation: a free-text 年代 or date cell → a year range and an entry of the period table.

`normalise(text)` reads 清乾隆, 战国晚期, "Qing dynasty, Qianlong period (1736–95)", "late 18th
century", "c. 1700", 公元前3世纪, "206 BCE–9 CE" … and returns a `NormalisedPeriod` that always keeps
the original text. Years have no year 0 (1 BCE = -1).

- Names (schemas/periods.json; Chinese, pinyin, Wade–Giles; traditional characters folded): the
  longest wins (北宋 over 宋). A one-character name after 前/后/南/北/东/西/先, or an English one after
  Northern/Southern/…/Later/Former, is refused unless the table has the pair (南汉 is not 汉, 先秦 not 秦);
  so is 元 in 公元 and 元年. Dynasty with reign (清乾隆) gives the reign; unrelated names (明末清初, 秦汉)
  give their joint span and nearest common parent, if any. A shared name ("Jin", 后汉) is settled by
  the explicit years or the other names, else flagged.
- Explicit dates win for start/end; the name still gives `period_id`. Several dates give their
  envelope: "1789, reprinted 1831 or later" → 1789–1831 (the text vouches for both years).
- A year is exact (start = end); c./ca./circa/about/约/左右 widen a year or range by ±10 years. Ranges
  take -, –, —, ~, to, 至, 到; an abbreviated end is completed (1736–95 → 1795); an era written once
  covers both ends (475–221 BCE). A bare number is a year only with 3 or 4 digits.
- Centuries as museums count them: 18th century = 1700–1799 (1st CE 1–99, 3rd BCE -300 to -201);
  "1990s" / 1990年代 = 1990–1999, "1800s" = 1800–1899. Regnal years count from the era's first year
  (乾隆三十年 → 1765, 民国二十年 → 1931).
- Early/mid/late (早期/中期/晚期, 初/末, 晚清, "mid-17th century") take the first, middle or last third
  of the span in whole years; "first half" / 上半叶 the half.
- Otherwise nothing is guessed: parsed is False, start and end None, and `flag` says why.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache

from pydantic import BaseModel, ConfigDict

from schemas.asset import PeriodRecord, YearRange
from schemas.columns import is_empty
from schemas.periods import Period, PeriodKind, fold, lineage, name_index, name_key

Span = tuple[int, int | None]  # (start, end) in years, end None while a period continues
APPROX_YEARS = 10


class PeriodFlag(StrEnum):
    EMPTY = "empty"  # blank, <空>, 无, /
    UNKNOWN = "unknown"  # the cell says the date is not known: 不详, "unknown", "various"
    UNRECOGNISED = "unrecognised"  # text that names no period and no date
    AMBIGUOUS = "ambiguous"  # a name shared by several periods, nothing to choose between them
    INCONSISTENT = "inconsistent"  # a range that ends before it starts, a regnal year past its era


class NormalisedPeriod(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    start: int | None = None
    end: int | None = None
    period_id: str | None = None
    parsed: bool = False
    flag: PeriodFlag | None = None


_PARTS = {word: part for part, words in (
    ("early", "early 早期 前期 初期 初年 初叶 初 早"), ("mid", "mid middle 中期 中叶 中"),
    ("late", "late 晚期 后期 末期 末年 末叶 末 晚"), ("first-half", "first 1st 上半叶 前半叶"),
    ("second-half", "second 2nd 下半叶 后半叶")) for word in words.split()}
_SHARES = {"early": (0, 1, 3), "mid": (1, 2, 3), "late": (2, 3, 3), "first-half": (0, 1, 2), "second-half": (1, 2, 2)}
_ZQ = "上半叶|下半叶|前半叶|后半叶|早期|前期|初期|初年|初叶|中期|中叶|晚期|后期|末期|末年|末叶|初|末"
_EQ = r"(?:(?P<{t}q>early|mid|middle|late)[\s-]+)?"
_DASH = r"(?:\s*(?:[-‐‑‒–—―−~〜]|至|到)\s*|\s+(?:to|until|till|through)\s+)"
_ERA_EN = r"(?:b\.?c\.?e?\.?|c\.?e\.?|a\.?d\.?)(?![a-z])"
_APPROX = r"(?P<approx>(?<![a-z])(?:circa|ca\.?|c\.?|approx\.?|approximately|about|around)\s*|大约|约)?"
_NUM = r"\d{1,2}|[一二三四五六七八九十廿]{1,3}"
_DIGITS = dict(zip("〇零一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))


def _year(t: str) -> str:
    return (rf"(?:(?P<{t}pre>公元前|公元|前|(?<![a-z])(?:ad|a\.d\.|ce|c\.e\.)\s*))?(?<![\d.])(?P<{t}>\d{{1,4}})(?!\d)"
            rf"(?:\s*(?P<{t}era>{_ERA_EN})|(?P<{t}nian>年)(?![代间]))?")


def _ordinal(t: str) -> str:
    return _EQ.format(t=t) + rf"(?P<{t}>\d{{1,2}})(?:st|nd|rd|th)"


_ISO = re.compile(r"(?<!\d)(?P<a>\d{4})-[01]\d-[0-3]\d(?!\d)")
_CENTURY_EN = re.compile(
    rf"(?:(?P<half>first|second|1st|2nd)\s+half\s+of\s+(?:the\s+)?)?{_ordinal('a')}"
    rf"(?:\s*(?:century\s*)?(?P<aera>{_ERA_EN})?{_DASH}(?:the\s+)?{_ordinal('b')})?"
    rf"\s*(?:centur(?:y|ies)|cent\.|c\.)(?:\s*(?P<bera>{_ERA_EN}))?")
_CENTURY_ZH = re.compile(
    rf"(?P<aera>公元前|公元|前)?(?<!\d)(?P<a>{_NUM})(?:世纪(?P<dec>{_NUM})年代|(?:世纪(?P<aq>{_ZQ})?)?{_DASH}"
    rf"(?P<bera>公元前|公元|前)?(?P<b>{_NUM})世纪|世纪)(?P<bq>{_ZQ})?")
_DECADE = re.compile(rf"{_EQ.format(t='b')}(?<![\d.])(?P<a>\d{{2,3}}0)(?:'?s(?![a-z])|年代)(?P<aq>{_ZQ})?")
_RANGE = re.compile(rf"{_APPROX}{_year('a')}{_DASH}{_year('b')}(?P<after>左右|前后)?")
_SINGLE = re.compile(rf"{_APPROX}{_year('a')}(?P<after>左右|前后)?")
_UNKNOWN = re.compile(r"unknown|not known|undated|unclear|various|\bn\.\s?d\b|^[?？]+$|不详|未详|未知|待考|不明|待定")
_ZH_BEFORE = re.compile(r"(?P<q>早|初|中|晚)$")
_ZH_AFTER = re.compile(rf"(?:代|朝|时期|时代|王朝)?(?P<q>{_ZQ})")
_EN_BEFORE = re.compile(r"(?P<q>early|mid|middle|late)[\s-]+(?:the\s+)?$")
_EN_PAIR = re.compile(r"(?:northern|southern|eastern|western|later|former)[\s-]+$")


def _astro(year: int) -> int:
    return year + 1 if year < 0 else year


def _civil(astro: int) -> int:
    return astro - 1 if astro <= 0 else astro


def _narrow(span: Span, part: str | None) -> Span:
    start, end = span
    if part is None or end is None:
        return span
    lo, hi, parts = _SHARES[_PARTS[part]]
    first, length = _astro(start), _astro(end) - _astro(start) + 1
    if length < parts:
        return span
    return _civil(first + length * lo // parts), _civil(first + length * hi // parts - 1)


def _widen(span: Span, years: int) -> Span:
    start, end = span
    return _civil(_astro(start) - years), None if end is None else _civil(_astro(end) + years)


def _century(n: int, bce: bool) -> Span:
    return (-100 * n, -100 * (n - 1) - 1) if bce else (max(100 * (n - 1), 1), 100 * (n - 1) + 99)


def _cn_int(text: str) -> int:
    """Regnal years and centuries in Chinese numerals (元 = 1, 三十五, 廿, 一百, 一七三六) or digits."""
    if text.isdigit():
        return int(text)
    if text == "元":
        return 1
    total = digit = 0
    for ch in text.replace("廿", "二十").replace("卅", "三十"):
        if ch in "十百":
            total, digit = total + (digit or 1) * (10 if ch == "十" else 100), 0
        else:
            digit = digit * 10 + _DIGITS[ch]
    return total + digit


def _counts_years(period: Period) -> bool:
    """Years are counted in reign eras and in the Republic's calendar (民国二十年 = 1931)."""
    return period.kind is PeriodKind.REIGN or period.id == "republic-of-china"


@cache
def _names() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, tuple[Period, ...]]]:
    index = name_index()
    keys = sorted(index, key=len, reverse=True)
    zh = [re.escape(k) for k in keys if not k.isascii()]
    en = [re.escape(k).replace(r"\ ", r"[\s-]+") for k in keys if k.isascii()]
    names = re.compile(rf"{'|'.join(zh)}|(?<![a-z])(?:{'|'.join(en)})(?![a-z])")
    counted = [re.escape(k) for k, ps in index.items() if not k.isascii() and any(map(_counts_years, ps))]
    regnal = re.compile(rf"(?P<name>{'|'.join(sorted(counted, key=len, reverse=True))})"
                        r"(?P<n>元|\d{1,3}|[〇零一二两三四五六七八九十百廿卅]{1,5})年(?![代间])")
    return names, regnal, index


@dataclass(frozen=True)
class _Hit:
    candidates: tuple[Period, ...]
    part: str | None = None


@dataclass
class _Scan:
    text: str
    dates: list[Span] = field(default_factory=list)
    hits: list[_Hit] = field(default_factory=list)
    inconsistent: bool = False

    def take(self, pattern: re.Pattern[str], read: Callable[[re.Match[str]], Span | None]) -> None:
        for match in list(pattern.finditer(self.text)):
            span = read(match)
            if span is not None:
                self.dates.append(span)
                a, b = match.span()
                self.text = self.text[:a] + "\0" * (b - a) + self.text[b:]

    def regnal(self, m: re.Match[str]) -> Span | None:
        (era,) = [p for p in _names()[2][m["name"]] if _counts_years(p)]
        n = _cn_int(m["n"])
        year = _civil(_astro(era.start) + n - 1)
        self.hits.append(_Hit((era,)))
        self.inconsistent |= n < 1 or (era.kind is PeriodKind.REIGN and era.end is not None and year > era.end)
        return year, year

    def ranged(self, m: re.Match[str]) -> Span | None:
        a, b = m["a"], m["b"]
        a_bce, b_bce = _is_bce(m["apre"] or m["aera"]), _is_bce(m["bpre"] or m["bera"])
        a_marked, b_marked = a_bce is not None or bool(m["anian"]), b_bce is not None or bool(m["bnian"])
        a_bce, b_bce = a_bce if a_bce is not None else b_bce, b_bce if b_bce is not None else a_bce
        end = int(b)
        if not (a_marked or len(a) >= 3) or int(a) == 0 or end == 0:
            return None
        if not b_marked and len(b) < len(a) and not a_bce:
            end = int(a[: len(a) - len(b)] + b)  # 1736–95 → 1795
        elif not (b_marked or len(b) >= 3):
            return None
        span = (-int(a) if a_bce else int(a), -end if b_bce else end)
        self.inconsistent |= span[0] > span[1]
        return _widen(span, APPROX_YEARS) if m["approx"] or m["after"] else span

    def single(self, m: re.Match[str]) -> Span | None:
        bce = _is_bce(m["apre"] or m["aera"])
        if not (bce is not None or m["anian"] or len(m["a"]) >= 3) or int(m["a"]) == 0:
            return None
        year = -int(m["a"]) if bce else int(m["a"])
        return _widen((year, year), APPROX_YEARS) if m["approx"] or m["after"] else (year, year)

    def names(self) -> None:
        pattern, _, index = _names()
        for m in pattern.finditer(self.text):
            before, after, name = self.text[: m.start()], self.text[m.end():], m.group()
            if _refused(name, before, after):
                continue
            q = _EN_BEFORE.search(before) if name.isascii() else _ZH_AFTER.match(after) or _ZH_BEFORE.search(before)
            self.hits.append(_Hit(index[name_key(name)], q["q"] if q else None))


def _is_bce(marker: str | None) -> bool | None:
    return None if not marker else marker.startswith(("前", "公元前", "b"))


def _refused(name: str, before: str, after: str) -> bool:
    if name == "元" and (before.endswith("公") or after.startswith("年")):
        return True
    if name.isascii():
        return " " not in name.strip() and _EN_PAIR.search(before) is not None
    return len(name) == 1 and before.endswith(tuple("前后南北东西先"))


def _centuries(m: re.Match[str]) -> Span | None:
    a, b = _cn_int(m["a"]), _cn_int(m["b"] or m["a"])
    a_bce, b_bce = _is_bce(m["aera"]), _is_bce(m["bera"])
    a_bce, b_bce = a_bce if a_bce is not None else b_bce, b_bce if b_bce is not None else a_bce
    if a < 1 or b < 1:
        return None
    first, last = _century(a, bool(a_bce)), _century(b, bool(b_bce))
    if m.re is _CENTURY_ZH and m["dec"]:
        decade = 100 * (a - 1) + _cn_int(m["dec"])
        return _narrow((decade, decade + 9), m["bq"])
    a_part = m["half"] if m.re is _CENTURY_EN and m["half"] else m["aq"]
    if m["b"] is None:
        return _narrow(first, a_part or m["bq"])
    return _narrow(first, a_part)[0], _narrow(last, m["bq"])[1]


def _decade(m: re.Match[str]) -> Span | None:
    start = int(m["a"])
    return _narrow((start, start + (99 if start % 100 == 0 else 9)), m["bq"] or m["aq"])


def _envelope(spans: list[Span]) -> Span | None:
    if not spans:
        return None
    ends = [end for _, end in spans]
    return min(start for start, _ in spans), None if None in ends else max(e for e in ends if e is not None)


def _related(a: Period, b: Period) -> bool:
    return a in lineage(b) or b in lineage(a)


def _overlaps(period: Period, span: Span) -> bool:
    start, end = span
    return (end is None or period.start <= end) and (period.end is None or start <= period.end)


def _choose(hits: list[_Hit], explicit: Span | None) -> tuple[dict[str, tuple[Period, str | None]], bool]:
    """The named entries that count, most specific only, and whether a shared name stayed unsettled."""
    sure = [hit.candidates[0] for hit in hits if len(hit.candidates) == 1]
    chosen: dict[str, tuple[Period, str | None]] = {}
    unsettled = False
    for hit in hits:
        found = hit.candidates
        if len(found) > 1 and explicit is not None:
            found = tuple(p for p in found if _overlaps(p, explicit))
        if len(found) > 1:
            found = tuple(p for p in found if any(_related(p, other) for other in sure))
        if len(found) != 1:
            unsettled |= explicit is None
            continue
        period = found[0]
        chosen[period.id] = (period, hit.part or chosen.get(period.id, (period, None))[1])
    inner = {ancestor.id for period, _ in chosen.values() for ancestor in lineage(period)[1:]}
    return {pid: entry for pid, entry in chosen.items() if pid not in inner}, unsettled


def _common(periods: list[Period]) -> str | None:
    shared = [p for p in lineage(periods[0]) if all(p in lineage(other) for other in periods[1:])]
    return shared[0].id if shared else None


def normalise(text: str) -> NormalisedPeriod:
    scan = _Scan(fold(text))
    scan.take(_names()[1], scan.regnal)
    scan.take(_ISO, lambda m: (int(m["a"]), int(m["a"])))
    for pattern, read in ((_CENTURY_EN, _centuries), (_CENTURY_ZH, _centuries), (_DECADE, _decade),
                          (_RANGE, scan.ranged), (_SINGLE, scan.single)):
        scan.take(pattern, read)
    scan.names()
    if scan.inconsistent:
        return NormalisedPeriod(text=text, flag=PeriodFlag.INCONSISTENT)
    explicit = _envelope(scan.dates)
    leaves, unsettled = _choose(scan.hits, explicit)
    if unsettled:
        return NormalisedPeriod(text=text, flag=PeriodFlag.AMBIGUOUS)
    period_id = _common([p for p, _ in leaves.values()]) if leaves else None
    span = explicit or _envelope([_narrow((p.start, p.end), part) for p, part in leaves.values()])
    if span is None:
        return NormalisedPeriod(text=text, flag=_why_not(text))
    return NormalisedPeriod(text=text, start=span[0], end=span[1], period_id=period_id, parsed=True)


def _why_not(text: str) -> PeriodFlag:
    if is_empty(text):
        return PeriodFlag.EMPTY
    return PeriodFlag.UNKNOWN if _UNKNOWN.search(fold(text).strip()) else PeriodFlag.UNRECOGNISED


def period_record(period: str | None, date: str | None) -> PeriodRecord | None:
    """The asset's period_norm: its 年代 and 具体年代 read together (explicit years win, the name gives the id)."""
    source = " ".join(t for t in (period, date) if t and not is_empty(t))
    if not source:
        return None
    n = normalise(source)
    years = YearRange(gte=n.start, lte=n.end) if n.start is not None else None
    return PeriodRecord(source=source, period_id=n.period_id, start=n.start, end=n.end, years=years,
                        parsed=n.parsed, flag=n.flag.value if n.flag else None)
