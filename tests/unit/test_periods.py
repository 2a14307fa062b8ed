"""Period normalisation (indexing/periods.py) and the period table (schemas/periods.py, periods.json)."""

from __future__ import annotations

from collections import Counter

import pytest

from indexing.periods import NormalisedPeriod, PeriodFlag, normalise
from schemas.periods import Period, PeriodKind, lineage, load_periods, period_by_id, periods_named

CHINESE_NAMES = [
    ("清乾隆", 1736, 1795, "qing-qianlong"),
    ("明永乐", 1403, 1424, "ming-yongle"),
    ("清康熙年间", 1662, 1722, "qing-kangxi"),
    ("乾隆", 1736, 1795, "qing-qianlong"),
    ("大明宣德年制", 1426, 1435, "ming-xuande"),
    ("北宋", 960, 1127, "northern-song"),
    ("宋", 960, 1279, "song"),
    ("南宋", 1127, 1279, "southern-song"),
    ("唐代", 618, 907, "tang"),
    ("唐朝", 618, 907, "tang"),
    ("西汉时期", -206, 8, "western-han"),
    ("东汉", 25, 220, "eastern-han"),
    ("春秋", -770, -476, "spring-and-autumn"),
    ("战国", -475, -221, "warring-states"),
    ("秦", -221, -207, "qin"),
    ("三国吴", 222, 280, "eastern-wu"),
    ("南朝宋", 420, 479, "liu-song"),
    ("北魏", 386, 534, "northern-wei"),
    ("隋", 581, 618, "sui"),
    ("五代", 907, 960, "five-dynasties"),
    ("南汉", 917, 971, "southern-han"),
    ("辽", 907, 1125, "liao"),
    ("西夏", 1038, 1227, "western-xia"),
    ("金代", 1115, 1234, "jurchen-jin"),
    ("元", 1271, 1368, "yuan"),
    ("民国", 1912, 1949, "republic-of-china"),
    ("中华民国", 1912, 1949, "republic-of-china"),
    ("新石器时代", -10000, -2000, "neolithic"),
    ("萬曆", 1573, 1620, "ming-wanli"),
    ("東漢", 25, 220, "eastern-han"),
]
QUALIFIED_NAMES = [
    ("战国晚期", -305, -221, "warring-states"),
    ("清代中期", 1733, 1821, "qing"),
    ("晚清", 1822, 1911, "qing"),
    ("乾隆末年", 1776, 1795, "qing-qianlong"),
    ("Late Qing dynasty", 1822, 1911, "qing"),
    ("明末清初", 1552, 1732, None),
]
REGNAL_YEARS = [
    ("乾隆三十年", 1765, 1765, "qing-qianlong"),
    ("康熙五十二年", 1713, 1713, "qing-kangxi"),
    ("光绪元年", 1875, 1875, "qing-guangxu"),
    ("民国二十年", 1931, 1931, "republic-of-china"),
    ("民国38年", 1949, 1949, "republic-of-china"),
]
ENGLISH_NAMES = [
    ("Tang dynasty", 618, 907, "tang"),
    ("Northern Song", 960, 1127, "northern-song"),
    ("Song (Northern)", 960, 1127, "northern-song"),
    ("Song dynasty", 960, 1279, "song"),
    ("Ming dynasty, Yongle mark and period", 1403, 1424, "ming-yongle"),
    ("Warring States period", -475, -221, "warring-states"),
    ("Spring and Autumn period", -770, -476, "spring-and-autumn"),
    ("Han", -206, 220, "han"),
    ("Eastern Han dynasty", 25, 220, "eastern-han"),
    ("Western Jin", 265, 316, "western-jin"),
    ("Five Dynasties", 907, 960, "five-dynasties"),
    ("Neolithic period", -10000, -2000, "neolithic"),
    ("Ch'ien-lung", 1736, 1795, "qing-qianlong"),
    ("K'ang-hsi period", 1662, 1722, "qing-kangxi"),
]
CENTURIES = [
    ("12th century", 1100, 1199, None),
    ("late 18th century", 1766, 1799, None),
    ("early 19th century", 1800, 1832, None),
    ("mid-17th century", 1633, 1665, None),
    ("18th c.", 1700, 1799, None),
    ("1st century BCE", -100, -1, None),
    ("3rd century BC", -300, -201, None),
    ("5th–3rd century BCE", -500, -201, None),
    ("19th–20th century", 1800, 1999, None),
    ("first half of the 18th century", 1700, 1749, None),
    ("公元前3世纪", -300, -201, None),
    ("12世纪", 1100, 1199, None),
    ("公元1世纪", 1, 99, None),
    ("18世纪末", 1766, 1799, None),
    ("19世纪下半叶", 1850, 1899, None),
    ("18世纪末至19世纪初", 1766, 1832, None),
    ("20世纪50年代", 1950, 1959, None),
    ("二十世纪五十年代", 1950, 1959, None),
]
YEARS = [
    ("618–907", 618, 907, None),
    ("618-907", 618, 907, None),
    ("1736—1795", 1736, 1795, None),
    ("1736 to 1795", 1736, 1795, None),
    ("1736年至1795年", 1736, 1795, None),
    ("1736-95", 1736, 1795, None),
    ("1700", 1700, 1700, None),
    ("1700年", 1700, 1700, None),
    ("1789-03-12", 1789, 1789, None),
    ("200 BCE", -200, -200, None),
    ("公元前206年", -206, -206, None),
    ("206 BCE–9 CE", -206, 9, None),
    ("300 BC–AD 100", -300, 100, None),
    ("475–221 BCE", -475, -221, None),
    ("公元前475年—公元前221年", -475, -221, None),
    ("1789, reprinted 1831 or later", 1789, 1831, None),
    ("1990s", 1990, 1999, None),
    ("1990年代", 1990, 1999, None),
    ("early 1990s", 1990, 1992, None),
    ("1800s", 1800, 1899, None),
]
APPROXIMATE_YEARS = [
    ("c. 1700", 1690, 1710, None),
    ("circa 1700", 1690, 1710, None),
    ("ca. 1700", 1690, 1710, None),
    ("约1700年", 1690, 1710, None),
    ("1850年前后", 1840, 1860, None),
    ("c. 200 BCE", -210, -190, None),
    ("c. 5 CE", -6, 15, None),
]
MIXED = [
    ("Tang Dynasty (618–907)", 618, 907, "tang"),
    ("Qing dynasty, Qianlong period (1736–95)", 1736, 1795, "qing-qianlong"),
    ("Qianlong reign (1736–1795)", 1736, 1795, "qing-qianlong"),
    ("清乾隆 (1736–1795)", 1736, 1795, "qing-qianlong"),
    ("Tang dynasty 唐", 618, 907, "tang"),
    ("明 Ming dynasty", 1368, 1644, "ming"),
    ("Republic period (1912–49)", 1912, 1949, "republic-of-china"),
    ("Qing dynasty, 18th century", 1700, 1799, "qing"),
    ("Ming dynasty (1368–1644), Wanli period", 1368, 1644, "ming-wanli"),
    ("乾隆三十年(1765)", 1765, 1765, "qing-qianlong"),
    ("Jin dynasty (1115–1234)", 1115, 1234, "jurchen-jin"),
    ("Eastern Han, Later Han", 25, 220, "eastern-han"),
    ("春秋战国", -770, -221, "eastern-zhou"),
    ("秦汉", -221, 220, None),
]
UNPARSEABLE = [
    ("", PeriodFlag.EMPTY),
    ("   ", PeriodFlag.EMPTY),
    ("<空>", PeriodFlag.EMPTY),
    ("无", PeriodFlag.EMPTY),
    ("/", PeriodFlag.EMPTY),
    ("unknown", PeriodFlag.UNKNOWN),
    ("不详", PeriodFlag.UNKNOWN),
    ("年代不详", PeriodFlag.UNKNOWN),
    ("date not known", PeriodFlag.UNKNOWN),
    ("various", PeriodFlag.UNKNOWN),
    ("n.d.", PeriodFlag.UNKNOWN),
    ("?", PeriodFlag.UNKNOWN),
    ("Edo period", PeriodFlag.UNRECOGNISED),
    ("先秦", PeriodFlag.UNRECOGNISED),
    ("50年代", PeriodFlag.UNRECOGNISED),
    ("2 vols", PeriodFlag.UNRECOGNISED),
    ("Jin dynasty", PeriodFlag.AMBIGUOUS),
    ("后汉", PeriodFlag.AMBIGUOUS),
    ("1795–1736", PeriodFlag.INCONSISTENT),
    ("乾隆七十年", PeriodFlag.INCONSISTENT),
]
SURVEY_PERIODS = [  # DOMAIN.md, Periods
    "旧石器时代", "新石器时代", "夏", "商", "周", "西周", "东周", "春秋", "战国", "秦", "汉", "西汉", "新莽", "东汉",
    "三国", "魏", "蜀", "吴", "晋", "西晋", "东晋", "十六国", "南北朝", "南朝", "北朝", "北魏", "隋", "唐",
    "五代十国", "五代", "宋", "北宋", "南宋", "辽", "西夏", "金", "元", "明", "清", "中华民国", "中华人民共和国",
]
ALL_PARSED = (CHINESE_NAMES + QUALIFIED_NAMES + REGNAL_YEARS + ENGLISH_NAMES + CENTURIES + YEARS + APPROXIMATE_YEARS
              + MIXED)


def _got(result: NormalisedPeriod) -> tuple[int | None, int | None, str | None]:
    return result.start, result.end, result.period_id


@pytest.mark.parametrize(("text", "start", "end", "period_id"), CHINESE_NAMES + REGNAL_YEARS)
def test_chinese_dynasty_reign_and_regnal_year_give_the_most_specific_entry(
        text: str, start: int, end: int, period_id: str) -> None:
    result = normalise(text)

    assert _got(result) == (start, end, period_id)


@pytest.mark.parametrize(("text", "start", "end", "period_id"), QUALIFIED_NAMES)
def test_early_mid_late_take_a_third_of_the_named_period(text: str, start: int, end: int, period_id: str) -> None:
    result = normalise(text)

    assert _got(result) == (start, end, period_id)


@pytest.mark.parametrize(("text", "start", "end", "period_id"), ENGLISH_NAMES)
def test_english_and_wade_giles_names_resolve_like_chinese_ones(
        text: str, start: int, end: int, period_id: str) -> None:
    result = normalise(text)

    assert _got(result) == (start, end, period_id)


@pytest.mark.parametrize(("text", "start", "end", "period_id"), CENTURIES)
def test_centuries_count_as_museums_do_and_narrow_by_thirds_or_halves(
        text: str, start: int, end: int, period_id: None) -> None:
    result = normalise(text)

    assert _got(result) == (start, end, period_id)


@pytest.mark.parametrize(("text", "start", "end", "period_id"), YEARS)
def test_years_ranges_and_decades_are_exact_and_bce_is_negative(
        text: str, start: int, end: int, period_id: None) -> None:
    result = normalise(text)

    assert _got(result) == (start, end, period_id)


@pytest.mark.parametrize(("text", "start", "end", "period_id"), APPROXIMATE_YEARS)
def test_approximate_year_is_a_window_of_ten_years_each_side_skipping_year_zero(
        text: str, start: int, end: int, period_id: None) -> None:
    result = normalise(text)

    assert _got(result) == (start, end, period_id)


@pytest.mark.parametrize(("text", "start", "end", "period_id"), MIXED)
def test_explicit_years_win_for_the_range_and_the_name_gives_the_period(
        text: str, start: int, end: int, period_id: str | None) -> None:
    result = normalise(text)

    assert _got(result) == (start, end, period_id)


@pytest.mark.parametrize(("text", "flag"), UNPARSEABLE)
def test_unparseable_text_is_flagged_never_guessed_and_kept(text: str, flag: PeriodFlag) -> None:
    result = normalise(text)

    assert result == NormalisedPeriod(text=text, start=None, end=None, period_id=None, parsed=False, flag=flag)


@pytest.mark.parametrize("text", [case[0] for case in ALL_PARSED])
def test_parsed_text_is_kept_verbatim_without_a_flag(text: str) -> None:
    result = normalise(text)

    assert (result.text, result.parsed, result.flag) == (text, True, None)


def test_the_peoples_republic_is_open_ended() -> None:
    result = normalise("中华人民共和国")

    assert _got(result) == (1949, None, "peoples-republic-of-china")


@pytest.mark.parametrize("period", load_periods(), ids=lambda p: p.id)
def test_every_name_in_the_table_normalises_to_its_entry_unless_shared(period: Period) -> None:
    results = {name: normalise(name) for name in period.names}

    for name, result in results.items():
        expected = (None, PeriodFlag.AMBIGUOUS) if len(periods_named(name)) > 1 else (period.id, None)
        assert (result.period_id, result.flag) == expected, name


def test_table_ids_are_unique() -> None:
    ids = Counter(period.id for period in load_periods())

    assert [pid for pid, n in ids.items() if n > 1] == []


def test_table_has_no_year_zero_and_starts_before_it_ends() -> None:
    periods = load_periods()

    assert all(p.start != 0 and p.end != 0 for p in periods)
    assert all(p.end is None or p.start <= p.end for p in periods)


def test_only_the_peoples_republic_is_open_ended() -> None:
    open_ended = [p.id for p in load_periods() if p.end is None]

    assert open_ended == ["peoples-republic-of-china"]


def test_every_parent_is_an_entry_of_the_table() -> None:
    missing = [p.id for p in load_periods() if p.parent is not None and period_by_id(p.parent) is None]

    assert missing == []


def test_every_reign_lies_inside_its_parent_dynasty() -> None:
    outside = []
    for reign in (p for p in load_periods() if p.kind is PeriodKind.REIGN):
        dynasty = period_by_id(reign.parent or "")
        assert dynasty is not None and dynasty.kind is PeriodKind.DYNASTY
        if not dynasty.start <= reign.start <= (reign.end or 0) <= (dynasty.end or 0):
            outside.append(reign.id)

    assert outside == []


def test_other_children_overlap_their_parent() -> None:
    apart = []
    for child in (p for p in load_periods() if p.parent is not None and p.kind is not PeriodKind.REIGN):
        parent = period_by_id(child.parent or "")
        assert parent is not None and parent.end is not None and child.end is not None
        if child.start > parent.end or child.end < parent.start:
            apart.append(child.id)

    assert apart == []


def test_every_survey_period_and_the_ming_and_qing_reigns_are_in_the_table() -> None:
    reigns = Counter(p.parent for p in load_periods() if p.kind is PeriodKind.REIGN)

    assert [name for name in SURVEY_PERIODS if not periods_named(name)] == []
    assert (reigns["ming"], reigns["qing"]) == (17, 10)


def test_reigns_have_ascii_pinyin_english_names() -> None:
    reigns = [p for p in load_periods() if p.kind is PeriodKind.REIGN]

    assert all(p.en.isascii() and p.en.isalpha() and p.en[0].isupper() for p in reigns)


def test_lookup_by_name_accepts_suffixes_and_traditional_characters() -> None:
    found = [periods_named(name) for name in ("Tang dynasty", "唐代", "唐朝", "T'ang", "唐")]

    assert {tuple(p.id for p in periods) for periods in found} == {("tang",)}


def test_lookup_by_shared_name_returns_every_entry() -> None:
    found = periods_named("Jin")

    assert sorted(p.id for p in found) == ["jin", "jurchen-jin"]


def test_lookup_of_an_unknown_id_or_name_finds_nothing() -> None:
    assert (period_by_id("atlantis"), periods_named("Atlantis")) == (None, ())


def test_lineage_runs_from_the_reign_to_its_dynasty() -> None:
    qianlong = period_by_id("qing-qianlong")
    assert qianlong is not None

    chain = lineage(qianlong)

    assert [p.id for p in chain] == ["qing-qianlong", "qing"]
