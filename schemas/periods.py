"""Chinese periods (年代): the table of ages, dynasties, periods and reign eras, and lookups into it.

The table is `periods.json` next to this module, one entry a line, in the survey's dynastic order
(DOMAIN.md): 旧石器时代 … 中华人民共和国, with the Ming and Qing reign eras and a few earlier ones.

- Years are integers with no year 0: negative is BCE (1 BCE = -1), both ends inclusive. `end` is
  null only for the People's Republic, which continues. Dates are the usual scholarly ones (the
  Xia–Shang–Zhou Chronology Project before 841 BCE).
- `parent` nests reigns in dynasties and dynasties in larger periods (西周 in 周, 乾隆 in 清). A reign
  lies inside its dynasty; other children only overlap their parent, because history overlaps
  (战国 runs to 221 BCE, past 东周's end in 256 BCE; 十六国 outlasts 晋; 北朝 begins before 南北朝).
- Names are compared after `name_key`: diacritics and case dropped, the traditional characters that
  occur in period names folded to simplified (漢 → 汉, 萬曆 → 万历), spaces and hyphens collapsed.
  A name may belong to more than one entry (English "Jin" is 晋 and 金; 后汉 / "Later Han" is 东汉
  and 五代后汉), so `periods_named` returns every entry and callers must not pick blindly.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

TABLE = Path(__file__).resolve().with_name("periods.json")

_TRADITIONAL = str.maketrans(
    "舊時東戰國漢吳晉齊陳貞觀開寶後遼樂統順慶萬曆歷啟啓禎豐緒華兩劉孫蕭滿葉紀間約",
    "旧时东战国汉吴晋齐陈贞观开宝后辽乐统顺庆万历历启启祯丰绪华两刘孙萧满叶纪间约",
)
_QUOTES = str.maketrans("’‘ʻ`", "''''")
_GAPS = re.compile(r"[\s\-‐‑_]+")
_SUFFIXES = re.compile(r"(?:\s+(?:dynasty|period|reign|era)|代|朝|时期|时代|年间)$")


class PeriodKind(StrEnum):
    AGE = "age"  # 旧石器时代, 新石器时代
    DYNASTY = "dynasty"  # 唐, 北宋, and the states of divided times (魏, 南唐)
    PERIOD = "period"  # 春秋, 三国, 南北朝, 中华民国: a span named for its times, not one house
    REIGN = "reign"  # 年号: 贞观, 永乐, 乾隆


class Period(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", description="Stable ASCII slug, e.g. qing-qianlong.")
    zh: str
    zh_aliases: tuple[str, ...] = ()
    en: str
    en_aliases: tuple[str, ...] = ()
    start: int = Field(description="First year, inclusive; negative is BCE, no year 0.")
    end: int | None = Field(description="Last year, inclusive; None while the period continues.")
    kind: PeriodKind
    parent: str | None = None

    @model_validator(mode="after")
    def _years_are_real(self) -> Period:
        if self.start == 0 or self.end == 0:
            raise ValueError(f"{self.id}: there is no year 0 (1 BCE is -1)")
        if self.end is not None and self.start > self.end:
            raise ValueError(f"{self.id}: start {self.start} is after end {self.end}")
        return self

    @property
    def names(self) -> tuple[str, ...]:
        return (self.zh, *self.zh_aliases, self.en, *self.en_aliases)


def fold(text: str) -> str:
    """Text as names are compared: compatibility forms (full-width digits), diacritics, case and
    traditional characters folded. Spaces are kept, so a folded text can still be scanned."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.translate(_TRADITIONAL).translate(_QUOTES).lower()


def name_key(name: str) -> str:
    return _GAPS.sub(" ", fold(name)).strip()


@cache
def load_periods() -> tuple[Period, ...]:
    return tuple(TypeAdapter(list[Period]).validate_json(TABLE.read_bytes()))


@cache
def _by_id() -> dict[str, Period]:
    return {period.id: period for period in load_periods()}


@cache
def _by_name() -> dict[str, tuple[Period, ...]]:
    index: dict[str, list[Period]] = {}
    for period in load_periods():
        for key in dict.fromkeys(name_key(name) for name in period.names):
            index.setdefault(key, []).append(period)
    return {key: tuple(periods) for key, periods in index.items()}


def period_by_id(period_id: str) -> Period | None:
    return _by_id().get(period_id)


def periods_named(name: str) -> tuple[Period, ...]:
    """Every entry with this name, Chinese or English; "dynasty", 代, 朝, 时期 and the like may follow it."""
    key = name_key(name)
    found = _by_name().get(key)
    if found is None:
        found = _by_name().get(_SUFFIXES.sub("", key).strip(), ())
    return found


def name_index() -> dict[str, tuple[Period, ...]]:
    """Every name key and the entries it names (for scanners that build one pattern from all names)."""
    return dict(_by_name())


def lineage(period: Period) -> tuple[Period, ...]:
    """The entry and its ancestors, nearest first: 乾隆 → (乾隆, 清)."""
    chain = [period]
    while chain[-1].parent is not None:
        chain.append(_by_id()[chain[-1].parent])
    return tuple(chain)
