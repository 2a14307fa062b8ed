"""indexing/source.py and schemas.asset.public_view: one definition of "a record without its vectors"."""

from __future__ import annotations

from typing import Any

from indexing.mappings import assets_index_body
from indexing.query import Filters, knn_clause
from indexing.source import record_source
from schemas.asset import SEARCH_ONLY_PATHS, AssetRecord, EncoderInfo
from services.settings import SearchSettings
from tests.factories import make_asset

ENCODERS = {"text": EncoderInfo(name="t", version="x", dimension=4),
            "image": EncoderInfo(name="i", version="y", dimension=4)}


def _vector_paths(props: dict[str, Any], prefix: str = "") -> set[str]:
    out: set[str] = set()
    for name, mapping in props.items():
        if mapping.get("type") == "dense_vector":
            out.add(prefix + name)
        out |= _vector_paths(mapping.get("properties", {}), f"{prefix}{name}.")
    return out


def _image(**overrides: object) -> dict[str, object]:
    return {"id": "i-1", "sha256": "0" * 64, "key": "k", "path": "a.jpg", "format": "JPEG", "mime": "image/jpeg",
            "width": 10, "height": 10, "mode": "RGB", "size_bytes": 1, "phash": "0" * 16, "thumbnail_key": "t",
            "preview_key": "p", "vector": [0.5, 0.5, 0.5, 0.5]} | overrides


def test_every_vector_of_the_mapping_is_left_out_of_reads() -> None:
    props = assets_index_body(ENCODERS, SearchSettings())["mappings"]["properties"]

    assert _vector_paths(props) <= set(SEARCH_ONLY_PATHS)
    assert set(record_source()["excludes"]) == set(SEARCH_ONLY_PATHS)


def test_dumps_and_harvests_also_leave_out_ai_data_and_vectors_can_be_asked_for() -> None:
    assert record_source(ai=False)["excludes"] == [*SEARCH_ONLY_PATHS, "ai"]
    assert record_source(ai=False, leave_out=["extra"])["excludes"][-2:] == ["ai", "extra"]
    assert record_source(vectors=True) == {"exclude_vectors": False}


def test_public_view_drops_the_same_fields_as_a_read() -> None:
    asset = AssetRecord.model_validate(make_asset(text_vector=[0.1] * 4, title_vector=[0.2] * 4,
                                                  terms={"title": "青花"}, images=[_image()], has_image=True))

    view = asset.public_view()

    assert not {"text_vector", "title_vector", "terms"} & set(view)
    assert "vector" not in view["images"][0] and view["images"][0]["id"] == "i-1"
    assert "ai" in view and "ai" not in asset.public_view(ai=False)


def test_the_knn_clause_leaves_out_what_it_is_told_to_within_the_callers_filter() -> None:
    visibility = {"term": {"licence.reusable": True}}
    itself = [{"ids": {"values": ["a-1"]}}]

    knn = knn_clause("images.vector", [0.1, 0.2], 10, 5, Filters(), visibility, exclude=itself)

    assert knn["filter"] == {"bool": {"filter": [visibility], "must_not": itself}}
    assert knn["num_candidates"] == 10 and "filter" not in knn_clause("text_vector", [0.1], 3, 100, Filters(), None)
