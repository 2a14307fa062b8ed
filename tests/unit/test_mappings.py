"""indexing/mappings.py: the assets mapping is generated from schemas/asset.py."""

from __future__ import annotations

from typing import Any

from indexing.analysis import EN_ANALYZER, ZH_ANALYZER
from indexing.mappings import assets_index_body
from schemas.asset import AssetRecord, EncoderInfo
from services.settings import SearchSettings

ENCODERS = {"text": EncoderInfo(name="use-multilingual-v3", version="x", dimension=512),
            "image": EncoderInfo(name="efficientnet-lite0", version="y", dimension=1280)}


def _body(**search: Any) -> dict[str, Any]:
    return assets_index_body(ENCODERS, SearchSettings(**search))


def _props() -> dict[str, Any]:
    props: dict[str, Any] = _body()["mappings"]["properties"]
    return props


def test_every_asset_field_is_mapped_and_nothing_else() -> None:
    assert set(_props()) == set(AssetRecord.model_fields)
    assert _body()["mappings"]["dynamic"] == "strict"


def test_vectors_take_the_length_of_their_encoder_and_the_configured_hnsw() -> None:
    props = _props()
    text, image = props["text_vector"], props["images"]["properties"]["vector"]

    assert (text["type"], text["dims"], text["similarity"]) == ("dense_vector", 512, "cosine")
    assert image["dims"] == 1280
    assert text["index_options"] == {"type": "int8_hnsw", "m": 16, "ef_construction": 100}
    assert _body(vector_index_type="hnsw", hnsw_m=32)["mappings"]["properties"]["text_vector"]["index_options"][
        "type"] == "hnsw"
    assert _body()["mappings"]["_meta"]["encoders"]["text"]["name"] == "use-multilingual-v3"


def test_without_an_image_encoder_the_image_vector_takes_the_first_vectors_length() -> None:
    body = assets_index_body({"text": ENCODERS["text"], "image": None}, SearchSettings())

    assert "dims" not in body["mappings"]["properties"]["images"]["properties"]["vector"]
    assert body["mappings"]["_meta"]["encoders"]["image"] is None


def test_ai_data_is_apart_from_curator_fields() -> None:
    ai = _props()["ai"]["properties"]

    assert ai["labels"]["type"] == "nested"
    assert {ai["labels"]["properties"][f]["type"] for f in ("id", "kind", "status", "model")} == {"keyword"}
    assert ai["labels"]["properties"]["confidence"]["type"] == "double"
    assert ai["ocr_text"]["analyzer"] == ZH_ANALYZER
    assert {_props()[f]["type"] for f in ("category_ids", "material_ids")} == {"keyword"}


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
