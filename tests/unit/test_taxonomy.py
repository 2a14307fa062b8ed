"""The classification taxonomy (schemas/taxonomy.py, taxonomy.json): categories, materials and their lookups."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from schemas import taxonomy
from schemas.taxonomy import (
    Concept,
    categories,
    category_for,
    concept,
    ids,
    load_taxonomy,
    material_ids,
    materials,
    ocr_categories,
)
from services.settings import ModelSettings
from tests.helpers import ROOT

SURVEY_CATEGORIES = [  # DOMAIN.md's table: 类别, English, and the id
    ("玉石器、宝石", "jade, stone objects and gems", "jade"),
    ("陶器", "pottery", "pottery"),
    ("瓷器", "porcelain", "porcelain"),
    ("铜器", "bronzes and copper objects", "bronze"),
    ("金银器", "gold and silver", "gold-silver"),
    ("铁器、其他金属器", "iron and other metals", "iron-metal"),
    ("漆器", "lacquer", "lacquer"),
    ("雕塑、造像", "sculpture and statues", "sculpture"),
    ("石器、石刻、砖瓦", "stone tools, stone carvings, bricks and tiles", "stone-carving"),
    ("书法、绘画", "calligraphy and painting", "painting"),
    ("文具", "scholar's implements", "stationery"),
    ("甲骨", "oracle bones", "oracle-bone"),
    ("玺印符牌", "seals, tallies and plaques", "seal"),
    ("钱币", "coins and currency", "coin"),
    ("牙骨角器", "ivory, bone and horn", "bone-ivory-horn"),
    ("竹木雕", "bamboo and wood carving", "bamboo-wood-carving"),
    ("家具", "furniture", "furniture"),
    ("珐琅器", "enamel", "enamel"),
    ("织绣", "textiles and embroidery", "textile"),
    ("古籍图书", "rare books", "rare-book"),
    ("碑帖拓本", "stele rubbings", "rubbing"),
    ("武器", "weapons", "weapon"),
    ("邮品", "philatelic items", "stamp"),
    ("文件、宣传品", "documents and printed matter", "document"),
    ("档案文书", "archives and manuscripts", "archive"),
    ("名人遗物", "belongings of notable people", "personal-relic"),
    ("玻璃器", "glass", "glass"),
    ("乐器、法器", "musical and ritual instruments", "instrument"),
    ("皮革", "leather", "leather"),
    ("音像制品", "audio-visual recordings", "audio-visual"),
    ("票据", "tickets, notes and bills", "banknote"),
    ("交通、运输工具", "vehicles", "vehicle"),
    ("度量衡器", "weights and measures", "measure"),
    ("标本、化石", "specimens and fossils", "specimen"),
    ("其他", "other", "other"),
]

TATE_CLASSIFICATIONS = [
    ("on paper, unique", "drawing"),
    ("on paper, print", "print"),
    ("painting", "painting"),
    ("sculpture", "sculpture"),
    ("relief", "sculpture"),
    ("installation", "installation"),
    ("block for printing", "printing-block"),
    ("time-based media", "time-based-media"),
    ("supporting material", "document"),
]

OTHER_NAMES = [
    ("书法", "calligraphy"),
    ("绘画", "painting"),
    ("书画", "painting"),
    ("書畫", "painting"),
    ("书法绘画", "painting"),
    ("calligraphy and painting", "painting"),
    ("玉器", "jade"),
    ("青铜器", "bronze"),
    ("碑刻", "stele"),
    ("刻铭", "inscription"),
    ("版画", "print"),
    ("素描", "drawing"),
    ("照片", "photograph"),
    ("雕版", "printing-block"),
    ("Porcelain", "porcelain"),
    ("Bronzes", "bronze"),
    ("  Rare Books ", "rare-book"),
    ("Oracle bones", "oracle-bone"),
    ("Stele rubbings", "rubbing"),
    ("Scholar's implements", "stationery"),
    ("Textiles and embroidery", "textile"),
    ("Weights and measures", "measure"),
    ("Cloisonne", "enamel"),
    ("Cloisonné", "enamel"),
    ("ＰＯＲＣＥＬＡＩＮ", "porcelain"),
    ("rare-book", "rare-book"),
    ("time based media", "time-based-media"),
]

MATERIAL_TEXTS = [
    (["Oil paint on canvas"], ["oil-paint", "canvas"]),
    (["Graphite on paper"], ["graphite", "paper"]),
    (["Graphite and watercolour on paper"], ["graphite", "watercolour", "paper"]),
    (["Etching on paper"], ["paper"]),
    (["Wood engraving on paper"], ["paper"]),
    (["Photograph, gelatin silver print on paper"], ["photographic", "paper"]),
    (["Bronze on marble base"], ["copper", "stone"]),
    (["Copper plate"], ["copper"]),
    (["Steel, rubber and acrylic sheets"], ["iron", "plastic"]),
    (["Oil paint and acrylic paint on 3 canvases"], ["oil-paint", "acrylic-paint", "canvas"]),
    (["Papier-mâché and wooden box"], ["paper", "wood"]),
    (["Video, projection, colour and sound"], ["electronic-media"]),
    (["Cloisonné enamel on copper"], ["enamel-material", "copper"]),
    (["青铜"], ["copper"]),
    (["铜"], ["copper"]),
    (["瓷"], ["porcelain-material"]),
    (["陶"], ["earthenware"]),
    (["绢本设色"], ["silk", "pigment"]),
    (["纸本水墨"], ["paper", "ink"]),
    (["絹本設色"], ["silk", "pigment"]),
    (["青铜", "金", "银"], ["copper", "gold", "silver"]),
    (["木胎", "漆", "金"], ["wood", "lacquer-material", "gold"]),
    (["漆、螺钿"], ["lacquer-material", "shell"]),
    (["鎏金铜"], ["gold", "copper"]),
    (["金属"], ["other-metal"]),
    (["铜合金"], ["copper"]),
    (["金丝楠木"], ["wood"]),
    (["石墨"], ["graphite"]),
    (["石膏"], ["plaster"]),
    (["汉白玉"], ["stone"]),
    (["有机玻璃"], ["plastic"]),
    (["玻璃"], ["glass-material"]),
    (["搪瓷"], ["enamel-material"]),
    (["铅笔", "纸"], ["graphite", "paper"]),
    (["纸本铜版画"], ["paper"]),
    (["布面油画"], ["canvas", "oil-paint"]),
    (["碧玉"], ["jade-material"]),
    (["紫砂"], ["earthenware"]),
    (["象牙", "犀角", "骨"], ["ivory", "horn", "bone"]),
    (["瓷", "porcelain", "瓷胎"], ["porcelain-material"]),
]


@pytest.mark.parametrize(("name", "english", "category_id"), SURVEY_CATEGORIES)
def test_every_survey_category_resolves_with_and_without_its_separators(
    name: str, english: str, category_id: str
) -> None:
    assert category_for(name) == category_id
    assert category_for(name.replace("、", "")) == category_id


@pytest.mark.parametrize(("name", "english", "category_id"), SURVEY_CATEGORIES)
def test_every_survey_category_resolves_by_its_english_name(name: str, english: str, category_id: str) -> None:
    assert category_for(english) == category_id
    assert category_for(english.upper()) == category_id


@pytest.mark.parametrize(("classification", "category_id"), TATE_CLASSIFICATIONS)
def test_tate_classifications_resolve(classification: str, category_id: str) -> None:
    assert category_for(classification) == category_id


@pytest.mark.parametrize(("name", "category_id"), OTHER_NAMES)
def test_short_english_and_variant_names_resolve(name: str, category_id: str) -> None:
    assert category_for(name) == category_id


@pytest.mark.parametrize("text", ["ceramics", "瓷器瓶", "sculpture of a horse", "unknown", "", "   ", "、", None])
def test_unknown_category_text_is_none_never_a_guess(text: str | None) -> None:
    assert category_for(text) is None


@pytest.mark.parametrize(("values", "expected"), MATERIAL_TEXTS)
def test_material_ids_found_in_cells(values: list[str], expected: list[str]) -> None:
    assert material_ids(values) == expected


@pytest.mark.parametrize("values", [[], [""], ["Mixed media"], ["Cast material"], ["silkscreen"]])
def test_cells_without_a_material_word_give_none(values: list[str]) -> None:
    assert material_ids(values) == []


def test_english_material_words_match_whole_words_only() -> None:
    assert material_ids(["Woodcut, silkscreen, plexiglass, stoneware"]) == ["plastic", "earthenware"]


def test_material_ids_are_known_material_ids() -> None:
    found = material_ids([text for values, _ in MATERIAL_TEXTS for text in values])

    assert set(found) <= set(ids("material"))


def test_taxonomy_is_large_enough() -> None:
    assert len(categories()) >= 15
    assert len(materials()) >= 20


def test_every_survey_number_has_a_category() -> None:
    assert {c.survey for c in categories() if c.survey is not None} == set(range(1, 36))


def test_ids_are_unique_across_both_kinds() -> None:
    all_ids = [c.id for c in load_taxonomy()]

    assert len(all_ids) == len(set(all_ids))
    assert set(ids("category")).isdisjoint(ids("material"))


@pytest.mark.parametrize("item", load_taxonomy(), ids=lambda c: c.id)
def test_every_concept_has_labels_and_descriptions(item: Concept) -> None:
    assert item.zh.strip() and item.en.strip()
    assert len(item.description_zh) >= 10 and len(item.description_en) >= 30
    assert item.label("zh-CN") == item.zh and item.label("en") == item.en


def test_materials_are_not_marked_for_ocr() -> None:
    assert not any(m.ocr for m in materials())


def test_concept_by_id_and_unknown_id_is_a_clear_key_error() -> None:
    assert concept("rubbing").zh == "碑帖拓本"
    assert concept("porcelain-material").kind == "material"

    with pytest.raises(KeyError, match="no-such-thing"):
        concept("no-such-thing")


def test_settings_ocr_categories_are_category_ids() -> None:
    assert set(ModelSettings().ocr_categories) <= set(ids("category"))


def test_ocr_categories_match_the_settings_default() -> None:
    assert set(ocr_categories()) == set(ModelSettings().ocr_categories)


def test_every_category_of_the_bilingual_sample_resolves() -> None:
    with (ROOT / "samples/bilingual/batch/manifest.csv").open(encoding="utf-8-sig", newline="") as f:
        names = {row["类别"] for row in csv.DictReader(f)}

    assert names
    assert {name: category_for(name) for name in names if category_for(name) is None} == {}


def test_every_material_of_the_bilingual_sample_resolves() -> None:
    with (ROOT / "samples/bilingual/batch/manifest.csv").open(encoding="utf-8-sig", newline="") as f:
        cells = {row["质地"] for row in csv.DictReader(f)}

    assert {cell for cell in cells if not material_ids([cell])} == set()


def test_every_category_of_the_tate_sample_resolves() -> None:
    lines = (ROOT / "samples/tate/batch/manifest.jsonl").read_text(encoding="utf-8").splitlines()
    names = {json.loads(line).get("category") for line in lines if line.strip()} - {None}

    assert names
    assert {name: category_for(name) for name in names if category_for(name) is None} == {}


@pytest.fixture
def use_table(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[[dict[str, object]], None]]:
    """Point the loader at a table written for the test; the real one is reloaded afterwards."""

    def write(table: dict[str, object]) -> None:
        path = tmp_path / "taxonomy.json"
        path.write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
        monkeypatch.setattr(taxonomy, "TABLE", path)
        taxonomy.load_taxonomy.cache_clear()

    yield write
    monkeypatch.undo()
    taxonomy.load_taxonomy.cache_clear()


def _entry(concept_id: str, *aliases: str) -> dict[str, object]:
    return {"id": concept_id, "zh": f"中{concept_id}", "en": f"en {concept_id}", "description_zh": "说明",
            "description_en": "A description.", "aliases": list(aliases), "survey": None}


def test_an_alias_naming_two_categories_is_refused(use_table: Callable[[dict[str, object]], None]) -> None:
    use_table({"categories": [_entry("a", "书画"), _entry("b", "书、画")], "materials": []})

    with pytest.raises(ValueError, match="书、画"):
        load_taxonomy()


def test_an_id_used_by_a_category_and_a_material_is_refused(use_table: Callable[[dict[str, object]], None]) -> None:
    use_table({"categories": [_entry("glass")], "materials": [_entry("glass")]})

    with pytest.raises(ValueError, match="glass"):
        load_taxonomy()


def test_a_material_marked_for_ocr_is_refused(use_table: Callable[[dict[str, object]], None]) -> None:
    use_table({"categories": [], "materials": [{**_entry("paper"), "ocr": True}]})

    with pytest.raises(ValueError, match="paper"):
        load_taxonomy()


def test_one_alias_may_name_a_category_and_a_material(use_table: Callable[[dict[str, object]], None]) -> None:
    use_table({"categories": [_entry("porcelain", "瓷")], "materials": [_entry("porcelain-material", "瓷")]})

    assert [c.id for c in load_taxonomy()] == ["porcelain", "porcelain-material"]
