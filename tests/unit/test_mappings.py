"""indexing/mappings.py: the assets mapping is generated from schemas/asset.py."""

from __future__ import annotations

from typing import Any

from indexing.analysis import EN_ANALYZER, ZH_ANALYZER
from indexing.mappings import assets_index_body
from schemas.asset import AssetRecord


def _props() -> dict[str, Any]:
    props: dict[str, Any] = assets_index_body()["mappings"]["properties"]
    return props


def test_every_asset_field_is_mapped_and_nothing_else() -> None:
    assert set(_props()) == set(AssetRecord.model_fields)
    assert assets_index_body()["mappings"]["dynamic"] == "strict"


def test_text_fields_use_the_analyzer_of_their_language() -> None:
    props = _props()

    assert props["title_zh"]["analyzer"] == ZH_ANALYZER
    assert props["description_en"]["analyzer"] == EN_ANALYZER
    assert props["title_zh"]["fields"]["raw"]["type"] == "keyword"


def test_facets_are_keywords_images_are_nested_and_extra_columns_are_flattened() -> None:
    props = _props()

    assert {props[f]["type"] for f in ("object_id", "institution", "category", "department", "materials")} == {
        "keyword"}
    assert props["licence"]["properties"]["reusable"]["type"] == "boolean"
    assert props["images"]["type"] == "nested"
    assert props["images"]["properties"]["phash"]["type"] == "keyword"
    assert props["extra"]["type"] == "flattened"


def test_the_normalised_period_is_an_integer_range() -> None:
    period = _props()["period_norm"]["properties"]

    assert period["years"] == {"type": "integer_range"}
    assert period["period_id"]["type"] == "keyword"
    assert period["start"]["type"] == "long"
