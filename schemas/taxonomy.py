"""The classification taxonomy: categories (类别) and materials (质地), in Chinese and English.

The table is `taxonomy.json` next to this module, two lists of concepts. Each has a stable id, labels,
a description in each language written for zero-shot classification (what such objects are and the
words for them: the text a multilingual encoder compares an image or a record against), and aliases,
the ways catalogues write it. Ids are unique across both lists, so a bare id names one concept.

- Categories are the 35 of the First National Survey of Movable Cultural Relics (DOMAIN.md; `survey`
  is the number), with survey 10 书法、绘画 split into `calligraphy` and `painting`, 碑刻 (`stele`)
  drawn out of survey 9, and classes that Western collections need: `drawing`, `print`, `installation`,
  `time-based-media`, `printing-block`, `photograph`, and `inscription` for objects read for their text.
  `ocr` marks the categories whose images are worth reading by OCR.
- The survey's combined 书法、绘画 (also 书法绘画, 书画) cannot name two ids: it resolves to `painting`.
  Curators refine it to `calligraphy` where that is what the object is.
- Materials follow the survey's 质地 vocabulary (石, 玉, 陶, 瓷, 铜, 铁, 金, 银 … 木, 竹, 纸, 丝, 棉麻, 皮革,
  骨角牙) and the media lines of Western records (oil paint, graphite, canvas, photographic material).
  A material whose English name is also a category id carries a `-material` suffix (`porcelain-material`,
  `jade-material`, `glass-material`, `lacquer-material`, `enamel-material`, `leather-material`); 陶 is
  `earthenware` and 铜 is `copper`.

Lookups. A name is compared after `name_key`: compatibility forms (NFKC), accents and case folded,
common traditional characters folded to simplified (書畫 → 书画), spaces and the separators 、，,/;；·-_'
dropped; a category text resolves only by an exact name (id, zh, en or alias), never by a guess.
Material texts are scanned instead, because a cell is a phrase ("Graphite and watercolour on paper",
"木胎、漆、金"): an English alias matches as whole words (a plural s/es allowed), a Chinese one as a
substring, and at each place the longest alias wins and consumes its characters. So 石墨 is graphite and
not stone, 金属 other metal and not gold, 汉白玉 stone and not jade, 有机玻璃 plastic and not glass, and
"gelatin silver print" photographic material and not silver; 鎏金 counts as gold (the survey writes
gilt bronze 铜、金), so 鎏金铜 is gold and copper. Print techniques that contain a material word
(铜版画, 木刻, 丝网, "wood engraving") match and name nothing: a print's material is its paper.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

TABLE = Path(__file__).resolve().with_name("taxonomy.json")

ConceptKind = Literal["category", "material"]

_TRADITIONAL = str.maketrans(
    "書畫繪銅鐵銀錢幣璽織繡紙絹絲綾緞錦紗貝鈿琺瑯顏設鉛筆寶瑪檔遺樂運輸標郵傳據鑄鋼錫鋁鋅鉑屬殼龜膠製蠟氈黃紅綠藍礦燈圖數電視"
    "錄頻攝銘誌簡牘傢軍貨鈔學蓮鏡爐壺盤硯漢龍鳳磚彫綢緙線錯雜項車馬轎權寫報單證鐘藝術裝",
    "书画绘铜铁银钱币玺织绣纸绢丝绫缎锦纱贝钿珐琅颜设铅笔宝玛档遗乐运输标邮传据铸钢锡铝锌铂属壳龟胶制蜡毡黄红绿蓝矿灯图数电视"
    "录频摄铭志简牍家军货钞学莲镜炉壶盘砚汉龙凤砖雕绸缂线错杂项车马轿权写报单证钟艺术装",
)
_SEPARATORS = re.compile(r"[\s、，,/;；·・\-‐‑–—_'’]+")
_GAPS = re.compile(r"[\s\-‐‑–—_]+")
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")

# Print techniques that contain a material word: they match, and name no material.
_TECHNIQUES = ("铜版画", "木刻", "木版画", "石版画", "丝网", "wood engraving", "copper engraving", "steel engraving",
               "silk screen")


class Concept(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", description="Stable ASCII slug, e.g. rare-book.")
    kind: ConceptKind
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    description_zh: str = Field(min_length=1)
    description_en: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    survey: int | None = Field(None, ge=1, le=35, description="Number of the survey category (1–35), if any.")
    ocr: bool = Field(False, description="Text on the object matters: its images are read by OCR.")

    @model_validator(mode="after")
    def _ocr_only_on_categories(self) -> Concept:
        if self.ocr and self.kind != "category":
            raise ValueError(f"{self.id}: only categories are marked for OCR")
        return self

    @property
    def names(self) -> tuple[str, ...]:
        """zh and en labels, then the aliases."""
        return (self.zh, self.en, *self.aliases)

    def label(self, lang: str) -> str:
        """The Chinese label for zh, zh-CN, zh-Hant…; the English one for any other language."""
        return self.zh if lang.casefold().startswith("zh") else self.en

    def description(self, lang: str) -> str:
        return self.description_zh if lang.casefold().startswith("zh") else self.description_en


def fold(text: str) -> str:
    """Compatibility forms, accents, case and common traditional characters folded; spaces kept."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFKC", bare).casefold().translate(_TRADITIONAL)


def name_key(name: str) -> str:
    """A name as category names are compared: folded, with spaces and separators dropped."""
    return _SEPARATORS.sub("", fold(name))


def _scan_form(text: str) -> str:
    return _GAPS.sub(" ", fold(text)).strip()


@cache
def load_taxonomy() -> tuple[Concept, ...]:
    """Every concept, categories first, in the table's order; raises ValueError on a bad table."""
    raw = json.loads(TABLE.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or set(raw) != {"categories", "materials"}:
        raise ValueError(f"{TABLE.name}: expected exactly the lists 'categories' and 'materials'")
    concepts = tuple(
        Concept.model_validate({**entry, "kind": kind})
        for kind, key in (("category", "categories"), ("material", "materials"))
        for entry in raw[key]
    )
    seen: set[str] = set()
    for concept in concepts:
        if concept.id in seen:
            raise ValueError(f"{TABLE.name}: id {concept.id!r} is used twice")
        seen.add(concept.id)
    for kind in ("category", "material"):
        _names(tuple(c for c in concepts if c.kind == kind))
    return concepts


def _names(concepts: tuple[Concept, ...]) -> dict[str, str]:
    """name key → id for these concepts (one kind); a key that names two concepts is an error."""
    index: dict[str, str] = {}
    for concept in concepts:
        for name in (concept.id, *concept.names):
            key = name_key(name)
            if not key:
                raise ValueError(f"{TABLE.name}: {concept.id} has an empty name")
            other = index.setdefault(key, concept.id)
            if other != concept.id:
                raise ValueError(f"{TABLE.name}: {concept.kind} name {name!r} of {concept.id} is already "
                                 f"a name of {other}")
    return index


def categories() -> tuple[Concept, ...]:
    return tuple(c for c in load_taxonomy() if c.kind == "category")


def materials() -> tuple[Concept, ...]:
    return tuple(c for c in load_taxonomy() if c.kind == "material")


@cache
def _by_id() -> dict[str, Concept]:
    return {c.id: c for c in load_taxonomy()}


def concept(concept_id: str) -> Concept:
    found = _by_id().get(concept_id)
    if found is None:
        raise KeyError(f"no category or material with id {concept_id!r} in {TABLE.name}")
    return found


def ids(kind: ConceptKind) -> tuple[str, ...]:
    return tuple(c.id for c in load_taxonomy() if c.kind == kind)


def ocr_categories() -> tuple[str, ...]:
    """Ids of the categories whose images are read by OCR (the default of the OCR settings)."""
    return tuple(c.id for c in categories() if c.ocr)


@cache
def _category_names() -> dict[str, str]:
    return _names(categories())


def category_for(text: str | None) -> str | None:
    """The category id a curator's category text names exactly ("瓷器", "书法、绘画", "on paper, print"),
    or None."""
    if text is None:
        return None
    key = name_key(text)
    return _category_names().get(key) if key else None


@cache
def _material_scanner() -> tuple[re.Pattern[str], dict[str, str | None]]:
    """One pattern over every material alias, longest first, and the id each alias form names."""
    target: dict[str, str | None] = {_scan_form(t): None for t in _TECHNIQUES}
    for material in materials():
        for name in material.names:
            target.setdefault(_scan_form(name), material.id)
    by_length = sorted(target, key=len, reverse=True)
    english = "|".join(re.escape(form) for form in by_length if not _CJK.search(form))
    chinese = "|".join(re.escape(form) for form in by_length if _CJK.search(form))
    pattern = re.compile(rf"(?<![a-z0-9])({english})(?:e?s)?(?![a-z0-9])|({chinese})")
    return pattern, target


def material_ids(values: Iterable[str]) -> list[str]:
    """The material ids named in these cells, in order of first mention, each once:
    ["Graphite and watercolour on paper"] → ["graphite", "watercolour", "paper"]; ["纸本水墨"] → ["paper", "ink"]."""
    pattern, target = _material_scanner()
    found: dict[str, None] = {}
    for value in values:
        for match in pattern.finditer(_scan_form(value)):
            material_id = target[match.group(1) or match.group(2)]
            if material_id is not None:
                found.setdefault(material_id)
    return list(found)
