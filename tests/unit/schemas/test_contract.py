"""schemas/: licences, column aliases, the manifest row and the exported JSON Schemas."""

from __future__ import annotations

import json

import jsonschema
import pytest
from pydantic import ValidationError

from schemas import export
from schemas.columns import field_for
from schemas.licences import UnknownLicence, parse_licence
from schemas.manifest import ManifestRow


@pytest.mark.parametrize(("text", "code", "reusable"), [
    ("CC0", "CC0", True),
    ("https://creativecommons.org/publicdomain/zero/1.0/", "CC0", True),
    ("http://creativecommons.org/licenses/by/4.0", "CC-BY-4.0", True),
    ("CC-BY-SA-4.0", "CC-BY-SA-4.0", True),
    ("cc-by-nc", "CC-BY-NC-4.0", False),
    ("CC-BY-ND-4.0", "CC-BY-ND-4.0", False),
    ("PDM", "PDM", True),
    ("公有领域", "PDM", True),
    ("InC", "InC", False),
    ("InC-EDU", "InC-EDU", False),
    ("https://rightsstatements.org/vocab/InC-EDU/1.0/", "InC-EDU", False),
    ("NoC-US", "NoC-US", True),
    ("NoC-NC", "NoC-NC", False),
    ("restricted", "restricted:institution", False),
    ("restricted:department", "restricted:department", False),
])
def test_licence_codes_and_uris_resolve_to_one_licence(text: str, code: str, reusable: bool) -> None:
    licence = parse_licence(text)

    assert (licence.code, licence.reusable) == (code, reusable)


@pytest.mark.parametrize("text", ["WTFPL", "CC-BY-5.0", "free", "http://example.org/licence", ""])
def test_unknown_licences_are_errors_not_guesses(text: str) -> None:
    with pytest.raises(UnknownLicence, match="unknown licence"):
        parse_licence(text)


@pytest.mark.parametrize(("column", "field"), [
    ("名称", "title_zh"), ("文物编号", "object_id"), ("藏品编号", "object_id"), ("\ufeff文物编号", "object_id"),
    ("Accession Number", "object_id"), ("年代", "period"), ("具体年代", "date"), ("质地", "materials"),
    ("许可", "licence"), ("License", "licence"), ("图像", "media"), ("尺寸(cm)", "dimensions"),
    ("类别", "category"), ("英文名称", "title_en"), ("Title", "title_en"), ("保管部门", "department"),
])
def test_chinese_and_english_column_names_map_to_fields(column: str, field: str) -> None:
    assert field_for(column) == field


def test_unknown_columns_map_to_nothing_and_are_kept_as_extra() -> None:
    row = ManifestRow(object_id="A1", title_zh="瓶", licence="CC0", extra={"备注": "旧藏"})

    assert field_for("备注") is None
    assert row.extra == {"备注": "旧藏"}


def test_media_cells_carry_paths_and_view_labels() -> None:
    row = ManifestRow(object_id="A1", title_en="Vase", licence="CC0", media="img/a.jpg|正面; img\\b.jpg")

    assert [(m.path, m.label) for m in row.media] == [("img/a.jpg", "正面"), ("img/b.jpg", None)]


@pytest.mark.parametrize("path", ["../secret.jpg", "a/../../b.jpg", "/etc/passwd", "C:\\\\photos\\\\a.jpg"])
def test_media_paths_outside_the_batch_are_refused(path: str) -> None:
    with pytest.raises(ValidationError, match=r"batch folder|not allowed"):
        ManifestRow(object_id="A1", title_en="Vase", licence="CC0", media=path)


def test_a_row_needs_a_title_in_either_language() -> None:
    with pytest.raises(ValidationError, match="a title is required"):
        ManifestRow(object_id="A1", licence="CC0")


def test_exported_json_schemas_are_current() -> None:
    stale = [name for name, doc in export.documents().items()
             if (export.OUT / name).read_text(encoding="utf-8") != export.render(doc)]

    assert stale == [], "run `python -m schemas.export` and commit schemas/json/"


def test_the_manifest_json_schema_accepts_a_row_and_refuses_a_row_without_id() -> None:
    schema = json.loads((export.OUT / "manifest-row.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)

    jsonschema.validate({"object_id": "A1", "title_zh": "瓶", "licence": "CC0", "media": [{"path": "a.jpg"}]}, schema)
    with pytest.raises(jsonschema.ValidationError, match="object_id"):
        jsonschema.validate({"title_zh": "瓶", "licence": "CC0"}, schema)


def test_the_tier_table_in_docs_access_is_the_one_in_schemas_access_json() -> None:
    current = export.ACCESS_DOC.read_text(encoding="utf-8")

    assert current == export.access_doc(current), "run `python -m schemas.export` and commit docs/ACCESS.md"
    assert "| `department` | sees | — | — | — |" in current
