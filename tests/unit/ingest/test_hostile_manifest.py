"""services/ingest/manifest.py against hostile manifests: one bad row is a reject, never the whole file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.ingest.errors import ErrorCode
from services.ingest.manifest import MAX_DEPTH, ManifestError, ParsedRow, read_manifest
from services.settings import IngestSettings

HEADER = "文物编号,名称,英文名称,许可,说明\n"
GOOD = "OK-1,瓶,Vase,CC0,一件瓶\n"


def _read(tmp_path: Path, data: bytes, name: str = "manifest.csv", **limits: int) -> list[ParsedRow]:
    path = tmp_path / name
    path.write_bytes(data)
    return list(read_manifest(path, limits=IngestSettings(**limits)))


def _codes(rows: list[ParsedRow]) -> dict[int, set[ErrorCode]]:
    return {r.row: {e.code for e in r.errors} for r in rows}


def test_a_csv_cell_over_csvs_own_limit_rejects_only_its_row_as_too_long(tmp_path: Path) -> None:
    long = "长" * 200_000  # csv.field_size_limit() is 131,072 by default
    rows = _read(tmp_path, (HEADER + GOOD + f"BIG-1,瓶,Vase,CC0,{long}\n" + GOOD.replace("OK-1", "OK-2")).encode())

    assert _codes(rows) == {2: set(), 3: {ErrorCode.FIELD_TOO_LONG}, 4: set()}
    error = rows[1].errors[0]
    assert error.field == "说明 (description_zh)"
    assert error.reason == "200,000 characters, more than the 100,000 allowed (ingest.max_description_chars)"
    assert rows[1].object_id == "BIG-1" and rows[1].record is None


def test_each_text_field_has_its_limit(tmp_path: Path) -> None:
    header = "object_id,title_en,description_en,category,notes,licence\n"
    data = header + "\n".join([
        f"T-1,{'t' * 2_001},,,,CC0",          # title over 2,000
        f"T-2,{'t' * 2_000},{'d' * 100_000},{'c' * 10_000},{'n' * 10_000},CC0",  # every one at its limit
        f"T-3,Vase,,{'c' * 10_001},,CC0",      # a keyword field over the general limit
        f"T-4,Vase,,,{'n' * 10_001},CC0",      # an unknown column too
    ]) + "\n"

    rows = _read(tmp_path, data.encode())

    assert _codes(rows) == {2: {ErrorCode.FIELD_TOO_LONG}, 3: set(), 4: {ErrorCode.FIELD_TOO_LONG},
                            5: {ErrorCode.FIELD_TOO_LONG}}
    assert [r.errors[0].field for r in rows if r.errors] == ["title_en", "category", "notes"]
    assert "(ingest.max_title_chars)" in rows[0].errors[0].reason
    assert rows[1].record is not None and rows[1].record.extra["notes"] == "n" * 10_000


def test_the_limits_are_settings(tmp_path: Path) -> None:
    rows = _read(tmp_path, (HEADER + GOOD).encode(), max_title_chars=0)

    assert rows[0].errors[0].code is ErrorCode.FIELD_TOO_LONG and rows[0].errors[0].field == "名称 (title_zh)"


def test_a_ten_megabyte_jsonl_description_is_rejected_before_validation(tmp_path: Path) -> None:
    lines = [{"object_id": "J-1", "title_en": "Vase", "licence": "CC0"},
             {"object_id": "J-2", "title_en": "Vase", "licence": "CC0", "description_en": "x" * 10_000_000}]

    rows = _read(tmp_path, "".join(json.dumps(o) + "\n" for o in lines).encode(), "m.jsonl")

    assert _codes(rows) == {1: set(), 2: {ErrorCode.FIELD_TOO_LONG}}
    assert rows[1].errors[0].field == "description_en"


def test_a_numeric_object_id_is_read_as_its_text_and_null_is_missing(tmp_path: Path) -> None:
    lines = [{"object_id": 1024, "title_en": "Vase", "licence": "CC0", "quantity": 2},
             {"object_id": None, "title_en": "Bowl", "licence": "CC0"},
             {"object_id": 10.5, "title_en": "Cup", "licence": "CC0"},
             {"object_id": True, "title_en": "Jar", "licence": "CC0"},
             {"object_id": "1024", "title_en": "Same id as a string", "licence": "CC0"}]

    rows = _read(tmp_path, "".join(json.dumps(o) + "\n" for o in lines).encode(), "m.jsonl")

    assert [r.object_id for r in rows] == ["1024", None, "10.5", None, "1024"]
    assert _codes(rows) == {1: {ErrorCode.DUPLICATE_OBJECT_ID}, 2: {ErrorCode.MISSING_FIELD}, 3: set(),
                            4: {ErrorCode.INVALID_VALUE}, 5: {ErrorCode.DUPLICATE_OBJECT_ID}}
    assert rows[1].errors[0].field == "object_id"
    assert rows[1].errors[0].reason == "required field object_id is empty or missing"
    assert rows[2].record is not None and rows[2].record.object_id == "10.5"


def test_a_numeric_id_and_quantity_make_a_valid_row(tmp_path: Path) -> None:
    rows = _read(tmp_path, b'{"object_id": 7, "title_en": "Vase", "licence": "CC0", "quantity": 2}\n', "m.jsonl")

    assert rows[0].errors == [] and rows[0].record is not None
    assert (rows[0].record.object_id, rows[0].record.quantity) == ("7", "2")


@pytest.mark.parametrize("depth", [MAX_DEPTH, 1_000, 100_000])
def test_deeply_nested_json_rejects_its_row(tmp_path: Path, depth: int) -> None:
    deep = "[" * depth + "]" * depth
    data = ('{"object_id": "D-1", "title_en": "Vase", "licence": "CC0", "notes": ' + deep + "}\n"
            '{"object_id": "D-2", "title_en": "Bowl", "licence": "CC0"}\n')

    rows = _read(tmp_path, data.encode(), "m.jsonl")

    assert _codes(rows) == {1: {ErrorCode.TOO_DEEP}, 2: set()}
    assert f"more than {MAX_DEPTH} levels" in rows[0].errors[0].reason


def test_json_just_within_the_depth_limit_is_kept_as_text(tmp_path: Path) -> None:
    nested = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    rows = _read(tmp_path, ('{"object_id": "D-1", "title_en": "Vase", "licence": "CC0", "notes": ' + nested
                            + "}\n").encode(), "m.jsonl")

    assert rows[0].record is not None and rows[0].record.extra["notes"] == json.dumps(json.loads(nested))


def test_a_number_too_long_for_python_rejects_its_row(tmp_path: Path) -> None:
    data = ('{"object_id": ' + "9" * 5_000 + ', "title_en": "Vase", "licence": "CC0"}\n'
            '{"object_id": "N-2", "title_en": "Bowl", "licence": "CC0"}\n')

    rows = _read(tmp_path, data.encode(), "m.jsonl")

    assert _codes(rows) == {1: {ErrorCode.INVALID_VALUE}, 2: set()}


def test_nul_characters_in_keys_or_values_reject_the_row(tmp_path: Path) -> None:
    lines = ['{"object_id": "Z-1", "title_en": "Vase", "licence": "CC0", "no\\u0000te": "x"}',
             '{"object_id": "Z-2", "title_en": "Va\\u0000se", "licence": "CC0"}',
             '{"object_id": "Z-3", "title_en": "Vase", "licence": "CC0", "notes": {"a": ["b\\u0000"]}}',
             '{"object_id": "Z-4", "title_en": "Vase", "licence": "CC0"}']

    rows = _read(tmp_path, "\n".join(lines).encode() + b"\n", "m.jsonl")
    csv_rows = _read(tmp_path, (HEADER + "C-1,瓶,Va\x00se,CC0,\n" + GOOD).encode())

    assert _codes(rows) == {1: {ErrorCode.NUL_CHARACTER}, 2: {ErrorCode.NUL_CHARACTER}, 3: {ErrorCode.NUL_CHARACTER},
                            4: set()}
    assert [r.errors[0].field for r in rows[:3]] == ["no\x00te", "title_en", "notes"]
    assert _codes(csv_rows) == {2: {ErrorCode.NUL_CHARACTER}, 3: set()}
    assert csv_rows[0].errors[0].field == "英文名称"


SAMPLES = {  # a few rows as a museum would write them, in the script each encoding is for
    "gbk": ("文物编号,名称,英文名称,许可\nA1,青花缠枝莲纹瓶,Vase,CC0\nA2,铜鼎,Ding,CC0\nA3,白玉璧,Disc,CC0\n",
            "GBK/GB18030"),
    "big5": ("文物編號,名稱,英文名稱,許可\nA1,青花纏枝蓮紋瓶,Vase,CC0\nA2,銅鼎,Ding,CC0\nA3,白玉璧,Disc,CC0\n", "Big5"),
    "shift_jis": ("文物番号,名称,英語名,許可\nA1,青花磁器の花瓶,Vase,CC0\nA2,銅製の鼎,Ding,CC0\nA3,白玉の璧,Disc,CC0\n",
                  "Shift-JIS"),
    "utf-16-le": ("文物编号,名称,英文名称,许可\nA1,瓶,Vase,CC0\n", "UTF-16"),  # no BOM
}


@pytest.mark.parametrize("encoding", list(SAMPLES))
def test_a_whole_csv_in_another_encoding_is_named_with_the_fix(tmp_path: Path, encoding: str) -> None:
    text, name = SAMPLES[encoding]

    with pytest.raises(ManifestError) as err:
        _read(tmp_path, text.encode(encoding))

    assert f"the manifest is not UTF-8: it is {name}" in str(err.value)
    assert "save the manifest as UTF-8" in str(err.value)
    assert "no object id column" not in str(err.value)


def test_excels_gbk_csv_says_where_it_comes_from(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r'what Excel.s "CSV" saves on Chinese Windows.*CSV UTF-8'):
        _read(tmp_path, SAMPLES["gbk"][0].encode("gbk"))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_with_a_bom_is_simply_read(tmp_path: Path, encoding: str) -> None:
    data = SAMPLES["gbk"][0].encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data

    rows = _read(tmp_path, data)

    assert [(r.object_id, r.record.title_zh if r.record else None) for r in rows] == \
        [("A1", "青花缠枝莲纹瓶"), ("A2", "铜鼎"), ("A3", "白玉璧")]


@pytest.mark.parametrize("encoding", ["big5", "shift_jis"])
def test_rows_in_another_encoding_are_named_as_what_they_are(tmp_path: Path, encoding: str) -> None:
    text, name = SAMPLES[encoding]
    body = "".join(line + "\n" for line in text.splitlines()[1:])
    data = b"object_id,title_zh,title_en,licence\n" + body.encode(encoding)

    rows = _read(tmp_path, data)

    assert {e.code for r in rows for e in r.errors} == {ErrorCode.INVALID_ENCODING}
    assert all(f"it looks like {name} — save the manifest as UTF-8" in r.errors[0].reason for r in rows)


def test_a_nul_in_a_utf8_header_rejects_the_rows_not_the_file_as_utf16(tmp_path: Path) -> None:
    rows = _read(tmp_path, ("文物编号,名称,英文名称,许可,no\x00te\n" + GOOD).encode())

    assert _codes(rows) == {2: {ErrorCode.NUL_CHARACTER}}
    assert rows[0].errors[0].field == "no\x00te"
