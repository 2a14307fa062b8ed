"""services/ingest/manifest.py: every record comes out, valid or with row, field and reason."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from services.ingest.errors import ErrorCode
from services.ingest.manifest import ManifestError, ParsedRow, read_manifest

HEADER = "文物编号,名称,英文名称,许可,图像\n"


def _read(tmp_path: Path, data: bytes, name: str = "manifest.csv") -> list[ParsedRow]:
    path = tmp_path / name
    path.write_bytes(data)
    return list(read_manifest(path))


def _codes(rows: list[ParsedRow]) -> dict[int, set[ErrorCode]]:
    return {r.row: {e.code for e in r.errors} for r in rows}


def test_a_bom_is_tolerated_and_rows_are_numbered_as_a_spreadsheet_shows_them(tmp_path: Path) -> None:
    rows = _read(tmp_path, ("\ufeff" + HEADER + "A1,瓶,Vase,CC0,a.jpg\nA2,鼎,Ding,CC0,b.jpg\n").encode())

    assert [(r.row, r.object_id, r.record is not None) for r in rows] == [(2, "A1", True), (3, "A2", True)]


def test_an_unbalanced_quote_rejects_its_row_and_reading_resumes_on_the_next_line(tmp_path: Path) -> None:
    data = HEADER + 'A1,"瓶,Vase,CC0,a.jpg\nA2,鼎,Ding,CC0,b.jpg\nA3,"多行\n说明",Multi,CC0,c.jpg\n'

    rows = _read(tmp_path, data.encode())

    assert _codes(rows) == {2: {ErrorCode.UNBALANCED_QUOTE}, 3: set(), 4: set()}
    assert rows[2].record is not None and rows[2].record.title_zh == "多行\n说明"


def test_gbk_bytes_reject_only_their_row_and_name_the_encoding(tmp_path: Path) -> None:
    data = HEADER.encode() + b"A1," + "瓷瓶".encode("gbk") + b",Vase,CC0,a.jpg\nA2,\xe9\xbc\x8e,Ding,CC0,b.jpg\n"

    rows = _read(tmp_path, data)

    assert _codes(rows) == {2: {ErrorCode.INVALID_ENCODING}, 3: set()}
    assert rows[0].errors[0].field == "名称"
    assert "GBK/GB18030" in rows[0].errors[0].reason


def test_a_missing_required_field_names_the_column(tmp_path: Path) -> None:
    rows = _read(tmp_path, (HEADER + ",瓶,Vase,CC0,a.jpg\n").encode())

    assert rows[0].errors[0].code is ErrorCode.MISSING_FIELD
    assert rows[0].errors[0].field == "文物编号 (object_id)"


def test_an_unknown_licence_is_rejected_with_the_accepted_forms(tmp_path: Path) -> None:
    rows = _read(tmp_path, (HEADER + "A1,瓶,Vase,All rights mine,a.jpg\n").encode())

    error = rows[0].errors[0]
    assert (error.code, error.field) == (ErrorCode.UNKNOWN_LICENCE, "许可 (licence)")
    assert "CC0, CC-BY-4.0" in error.reason


def test_every_row_of_a_duplicated_object_id_is_rejected_pointing_at_the_others(tmp_path: Path) -> None:
    rows = _read(tmp_path, (HEADER + "A1,瓶,Vase,CC0,a.jpg\nA2,鼎,Ding,CC0,b.jpg\nA1,壶,Pot,CC0,c.jpg\n").encode())

    assert _codes(rows) == {2: {ErrorCode.DUPLICATE_OBJECT_ID}, 3: set(), 4: {ErrorCode.DUPLICATE_OBJECT_ID}}
    assert "also row 4" in rows[0].errors[0].reason


@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd"])
def test_unsafe_paths_are_rejected(tmp_path: Path, path: str) -> None:
    rows = _read(tmp_path, (HEADER + f"A1,瓶,Vase,CC0,{path}\n").encode())

    assert rows[0].errors[0].code is ErrorCode.UNSAFE_PATH
    assert rows[0].media_paths == []


def test_an_invalid_row_still_names_its_files_so_they_are_not_counted_unlisted(tmp_path: Path) -> None:
    rows = _read(tmp_path, (HEADER + "A1,,,CC0,img/a.jpg|正面; img/b.jpg\n").encode())

    assert rows[0].record is None
    assert rows[0].media_paths == ["img/a.jpg", "img/b.jpg"]


def test_a_row_with_too_many_cells_is_rejected(tmp_path: Path) -> None:
    rows = _read(tmp_path, (HEADER + "A1,瓶,Vase,CC0,a.jpg,surplus\n").encode())

    assert ErrorCode.WRONG_CELL_COUNT in {e.code for e in rows[0].errors}


def test_json_lines_manifests_take_english_keys_lists_and_keep_unknown_keys(tmp_path: Path) -> None:
    data = ('{"object_id": "T1", "title": "Sunset", "licence": "CC0", "media": [{"path": "i/1.png", "label": "main"}],'
            ' "subjects": ["sun", "sea"]}\nnot json\n')

    rows = _read(tmp_path, data.encode(), "manifest.jsonl")

    assert rows[0].record is not None
    assert rows[0].record.title_en == "Sunset"
    assert rows[0].record.extra == {"subjects": '["sun", "sea"]'}
    assert rows[1].errors[0].code is ErrorCode.INVALID_VALUE


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty"),
    ("名称,许可\n瓶,CC0\n".encode(), "no object id column"),
    ("名称,title_zh,文物编号\n".encode(), "both mean title_zh"),
])
def test_unreadable_manifests_raise_with_the_reason(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        _read(tmp_path, data)


def test_other_file_types_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"\.csv or \.jsonl"):
        _read(tmp_path, b"x", "manifest.xlsx")


def test_access_columns_are_read_in_chinese_or_english_and_contradictions_rejected(tmp_path: Path) -> None:
    path = tmp_path / "manifest.csv"
    path.write_text("文物编号,名称,许可,开放范围,解禁日期\n"
                    "A-1,瓶,CC0,部门,\n"
                    "A-2,瓶,InC,,2030-01-01\n"
                    "A-3,瓶,restricted:granted,,\n"
                    "A-4,瓶,restricted,公开,\n"
                    "A-5,瓶,InC,embargoed,\n"
                    "A-6,瓶,InC,地区,2030-01-01\n"
                    "A-7,瓶,CC0,everyone,\n", encoding="utf-8")

    rows = list(read_manifest(path))

    assert [(r.record.access.value, r.record.embargo_until) for r in rows[:3] if r.record] == [
        ("department", None), ("embargoed", date(2030, 1, 1)), ("granted", None)]
    bad = {r.object_id: r.errors[0] for r in rows[3:]}
    assert bad["A-4"].field == "开放范围 (access)" and "cannot be public" in bad["A-4"].reason
    assert bad["A-5"].field == "解禁日期 (embargo_until)" and "needs embargo_until" in bad["A-5"].reason
    assert bad["A-6"].field == "解禁日期 (embargo_until)" and "only for access 'embargoed'" in bad["A-6"].reason
    assert bad["A-7"].code.value == "invalid-value" and "unknown access policy" in bad["A-7"].reason
