"""The sample batches: both manifests validate row by row, the bilingual set has the zh-only and
en-only records cross-lingual search tests need, the Tate set covers every classification, and
the generated images are deterministic and exactly the files the manifests list."""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from samples import images
from schemas.columns import field_for, is_empty
from schemas.licences import parse_licence
from schemas.manifest import ManifestRow
from tests.helpers import ROOT

SAMPLES = ROOT / "samples"
BILINGUAL = SAMPLES / "bilingual" / "batch" / "manifest.csv"
TATE = SAMPLES / "tate" / "batch" / "manifest.jsonl"
BILINGUAL_HEADER = [
    "文物编号", "名称", "英文名称", "描述", "英文描述", "类别", "年代", "具体年代",
    "尺寸", "质地", "作者", "出土地点", "部门", "文物级别", "许可", "图像",
]
SURVEY_CATEGORIES = {  # the 35 categories of the national survey (DOMAIN.md)
    "玉石器、宝石", "陶器", "瓷器", "铜器", "金银器", "铁器、其他金属器", "漆器", "雕塑、造像",
    "石器、石刻、砖瓦", "书法、绘画", "文具", "甲骨", "玺印符牌", "钱币", "牙骨角器", "竹木雕",
    "家具", "珐琅器", "织绣", "古籍图书", "碑帖拓本", "武器", "邮品", "文件、宣传品",
    "档案文书", "名人遗物", "玻璃器", "乐器、法器", "皮革", "音像制品", "票据", "交通、运输工具",
    "度量衡器", "标本、化石", "其他",
}
GRADES = {"一级", "二级", "三级", "一般", "未定级"}
# every named classification of the 69,202 Tate records (a further 181 have none)
TATE_CLASSIFICATIONS = {"on paper, unique", "on paper, print", "painting", "sculpture", "installation", "relief",
                        "block for printing", "supporting material", "time-based media"}


def read_cells(path: Path) -> list[dict[str, Any]]:
    """The manifest's records as {column: cell}, CSV (BOM tolerated) or JSON Lines."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as f:
            return list(csv.DictReader(f))
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def to_row(cells: dict[str, Any]) -> ManifestRow:
    """Map headers to fields; empty cells dropped, unknown columns kept in `extra`."""
    data: dict[str, Any] = {}
    extra: dict[str, str] = {}
    for column, value in cells.items():
        if value is None or (isinstance(value, str) and is_empty(value)):
            continue
        target = field_for(column)
        if target is None:
            extra[column] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        else:
            data[target] = value
    return ManifestRow.model_validate({**data, "extra": extra})


@pytest.fixture(scope="module")
def bilingual() -> list[ManifestRow]:
    return [to_row(cells) for cells in read_cells(BILINGUAL)]


@pytest.fixture(scope="module")
def tate() -> list[ManifestRow]:
    return [to_row(cells) for cells in read_cells(TATE)]


def test_bilingual_manifest_is_an_excel_style_chinese_export() -> None:
    raw = BILINGUAL.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, as Chinese Excel saves CSV"
    with BILINGUAL.open(encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader(f))
    assert header == BILINGUAL_HEADER
    assert all(field_for(column) for column in header), "every Chinese header maps to a manifest field"


def test_bilingual_rows_validate_and_mix_languages(bilingual: list[ManifestRow]) -> None:
    assert len(bilingual) >= 60
    ids = [r.object_id for r in bilingual]
    assert len(ids) == len(set(ids))
    zh_only = [r for r in bilingual if r.title_zh and not r.title_en and not r.description_en]
    en_only = [r for r in bilingual if r.title_en and not r.title_zh and not r.description_zh]
    both = [r for r in bilingual if r.title_zh and r.title_en]
    assert len(zh_only) >= 10 and len(en_only) >= 10 and len(both) >= 30
    assert all(r.description_zh or r.description_en for r in bilingual)
    assert {r.category for r in bilingual} <= SURVEY_CATEGORIES
    assert len({r.category for r in bilingual}) >= 15
    assert {r.grade for r in bilingual} <= GRADES
    assert len({r.period for r in bilingual}) >= 15


def test_bilingual_licences_and_media(bilingual: list[ManifestRow]) -> None:
    with BILINGUAL.open(encoding="utf-8-sig", newline="") as f:
        cells = [row["许可"] for row in csv.DictReader(f)]
    assert all(parse_licence(cell) for cell in cells)
    assert any("://" in cell for cell in cells) and any("://" not in cell for cell in cells), "codes and URIs"
    codes = Counter(r.licence.code for r in bilingual)
    assert {"CC0", "CC-BY-4.0", "PDM", "InC-EDU", "InC", "CC-BY-NC-4.0", "restricted:institution"} <= set(codes)
    assert 2 <= codes["restricted:institution"] <= 8
    for r in bilingual:
        assert r.media[0].path == f"images/{r.object_id}.png"
        assert all(m.label for m in r.media)
    second_views = [r for r in bilingual if len(r.media) == 2]
    assert len(second_views) >= 8
    assert all(r.media[1].path == f"images/{r.object_id}-2.png" for r in second_views)


def test_tate_sample_covers_every_classification(tate: list[ManifestRow]) -> None:
    assert 450 <= len(tate) <= 550
    ids = [r.object_id for r in tate]
    assert len(ids) == len(set(ids)) and ids == sorted(ids)
    categories = {r.category for r in tate if r.category}
    assert categories == TATE_CLASSIFICATIONS
    with_subjects = [r for r in tate if r.extra.get("subjects")]
    assert len(with_subjects) >= 0.8 * len(tate)
    for r in tate:
        assert r.licence.code == "CC0"
        assert r.title_en and not r.title_zh
        assert r.extra["tate_url"].startswith("http://www.tate.org.uk/art/artworks/")
        assert [m.path for m in r.media] == [f"images/{r.object_id}.png"]
    centuries = Counter(r.date[:2] for r in tate if r.date and r.date[:4].isdigit())
    assert len(centuries) >= 5, "a mix of centuries"


def test_samples_keep_their_licence_and_ignore_generated_images() -> None:
    assert "CC0 1.0 Universal" in (SAMPLES / "tate" / "LICENCE.txt").read_text(encoding="utf-8")
    assert "**/images/" in (SAMPLES / ".gitignore").read_text(encoding="utf-8").splitlines()
    for module in SAMPLES.glob("*.py"):  # only the one-off tate/build.py may read ../shared
        text = module.read_text(encoding="utf-8")
        assert '"shared"' not in text and "shared/data" not in text, module


@pytest.mark.parametrize("kind", images.KINDS)
def test_render_is_deterministic_for_every_kind(kind: str) -> None:
    first = images.encode(images.render("WY-TEST-0001", kind, "测试 test"), ".png")
    second = images.encode(images.render("WY-TEST-0001", kind, "测试 test"), ".png")
    assert first == second
    other = images.encode(images.render("WY-TEST-0002", kind, "测试 test"), ".png")
    assert other != first
    assert len(first) < 160_000


def test_views_show_the_same_object_differently() -> None:
    main = images.render("WY-CER-9999", "porcelain", "青花梅瓶", view="正面", path="images/a.png")
    again = images.render("WY-CER-9999", "porcelain", "青花梅瓶", view="front", path="images/b.png")
    back = images.render("WY-CER-9999", "porcelain", "青花梅瓶", view="背面", path="images/a-2.png")
    detail = images.render("WY-CER-9999", "porcelain", "青花梅瓶", view="局部", path="images/a-3.png")
    assert main.tobytes() == again.tobytes()
    assert back.tobytes() == main.transpose(Image.Transpose.FLIP_LEFT_RIGHT).tobytes()
    assert detail.size == main.size and detail.tobytes() != main.tobytes()


def test_kind_for_categories() -> None:
    assert images.kind_for("瓷器") == "porcelain"
    assert images.kind_for("玉石器宝石") == images.kind_for("玉石器、宝石") == "jade"
    assert images.kind_for("书法、绘画", "行书七言诗轴") == "calligraphy"
    assert images.kind_for("书法、绘画", "山水图轴") == "painting"
    assert images.kind_for("on paper, print") == "western-print"
    assert images.kind_for(None, "Untitled") == "western-painting"


def _small_batch(tmp_path: Path, source: Path, ids: set[str]) -> Path:
    batch = tmp_path / source.parent.name
    batch.mkdir()
    if source.suffix == ".csv":
        lines = source.read_bytes().decode("utf-8").splitlines(keepends=True)
        keep = [lines[0]] + [line for line in lines[1:] if line.split(",", 1)[0] in ids]
        (batch / source.name).write_bytes("".join(keep).encode("utf-8"))
    else:
        keep = [line for line in source.read_text(encoding="utf-8").splitlines(keepends=True)
                if json.loads(line)["object_id"] in ids]
        (batch / source.name).write_text("".join(keep), encoding="utf-8")
    return batch


def _listed(batch: Path) -> set[str]:
    manifest = images.manifest_path(batch)
    return {m.path for cells in read_cells(manifest) for m in to_row(cells).media}


def test_build_writes_exactly_the_listed_files_and_is_cheap_to_rerun(tmp_path: Path,
                                                                     bilingual: list[ManifestRow]) -> None:
    ids = {r.object_id for r in bilingual if len(r.media) == 2}
    ids |= {r.object_id for r in bilingual[:6]}
    batch = _small_batch(tmp_path, BILINGUAL, ids)
    listed = _listed(batch)
    assert images.build(batch, workers=1) == len(listed)
    written = {str(p.relative_to(batch)) for p in (batch / "images").rglob("*") if p.is_file()}
    assert written == listed
    for path in listed:
        with Image.open(batch / path) as im:
            assert im.format == "PNG" and im.size == images.SIZE
    mtimes = {p: (batch / p).stat().st_mtime_ns for p in listed}
    assert images.build_batch(batch, workers=1) == (len(listed), 0)
    assert mtimes == {p: (batch / p).stat().st_mtime_ns for p in listed}
    damaged = batch / sorted(listed)[0]
    damaged.write_bytes(damaged.read_bytes()[:1000])
    assert images.build_batch(batch, workers=1) == (len(listed), 1)
    # the same record gives byte-identical files in another folder
    other = tmp_path / "again"
    other.mkdir()
    shutil.copy(batch / BILINGUAL.name, other / BILINGUAL.name)
    images.build(other, workers=1)
    assert all((other / p).read_bytes() == (batch / p).read_bytes() for p in listed)


def test_build_tate_rows_and_jpeg(tmp_path: Path, tate: list[ManifestRow]) -> None:
    by_class: dict[str, str] = {}
    for r in tate:
        by_class.setdefault(r.category or "", r.object_id)
    batch = _small_batch(tmp_path, TATE, set(by_class.values()))
    assert images.build(batch, workers=1) == len(by_class)
    assert {str(p.relative_to(batch)) for p in (batch / "images").iterdir()} == _listed(batch)
    jpeg_batch = tmp_path / "jpeg"
    jpeg_batch.mkdir()
    manifest = ["文物编号,名称,类别,许可,图像",
                "WY-J-1,“开元通宝”铜钱,钱币,CC0,photos/WY-J-1.jpg|正面; photos/WY-J-1b.JPEG|背面"]
    (jpeg_batch / "manifest.csv").write_text("\ufeff" + "\r\n".join(manifest) + "\r\n", encoding="utf-8")
    assert images.build(jpeg_batch, workers=1) == 2
    for name in ("WY-J-1.jpg", "WY-J-1b.JPEG"):
        with Image.open(jpeg_batch / "photos" / name) as im:
            assert im.format == "JPEG"
    first = (jpeg_batch / "photos" / "WY-J-1.jpg").read_bytes()
    (jpeg_batch / "photos" / "WY-J-1.jpg").unlink()
    assert images.build_batch(jpeg_batch, workers=1) == (2, 1)
    assert (jpeg_batch / "photos" / "WY-J-1.jpg").read_bytes() == first


def test_build_refuses_paths_outside_the_batch(tmp_path: Path) -> None:
    (tmp_path / "manifest.jsonl").write_text(json.dumps({"object_id": "X", "title": "x", "licence": "CC0",
                                                         "media": ["../escape.png"]}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="leaves the batch"):
        images.build(tmp_path, workers=1)
    assert not (tmp_path.parent / "escape.png").exists()


def test_the_media_sample_makes_every_file_its_manifest_lists_each_of_its_kind(tmp_path: Path) -> None:
    from samples import media
    from schemas.taxonomy import category_for
    from services.ingest.media_kinds import Kind, sniff

    rows = [to_row(cells) for cells in read_cells(SAMPLES / "media" / "batch" / "manifest.csv")]
    listed = [m.path for r in rows for m in r.media]
    assert sorted(listed) == sorted(media.MAKERS) and all(category_for(r.category) for r in rows)
    assert media.build_batch(tmp_path) == (len(listed), len(listed))
    assert media.build_batch(tmp_path) == (len(listed), 0)  # kept
    kinds = {name: sniff(tmp_path / name, name) for name in listed}
    assert set(kinds.values()) == {Kind.DOCUMENT, Kind.AV, Kind.MODEL, Kind.IMAGE}
    assert not list(tmp_path.rglob(".partial-*"))
