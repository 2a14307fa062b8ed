"""The bulk readers' shortcut (services/record_view.stored_view and the `*_of` twins) gives exactly what the
models give: a stored record in the model's shape is its own public view; any other goes through the model."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from schemas.access import Audience, Tier
from schemas.asset import SEARCH_ONLY_PATHS, AssetRecord
from services import assets
from services.access.policy import Decision
from services.dumps import line, line_of
from services.record_view import credit, credit_of, media_links, media_links_of, stored_view
from tests.factories import make_asset

BASE = "https://wenyuan.example"


def _image(n: int) -> dict[str, Any]:
    return {"sha256": f"{n:064x}", "key": f"o/{n}", "path": f"{n}.jpg", "format": "JPEG", "mime": "image/jpeg",
            "width": 800, "height": 600, "mode": "RGB", "size_bytes": 1000, "phash": "0" * 16,
            "thumbnail_key": f"t/{n}", "preview_key": f"p/{n}"}


def _as_read(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored document as `record_source(ai=False)` reads it back."""
    out = {k: v for k, v in doc.items() if k not in SEARCH_ONLY_PATHS and k != "ai"}
    out["images"] = [{k: v for k, v in im.items() if k != "vector"} for im in out.get("images", [])]
    return out


RECORDS = [
    make_asset(),
    make_asset(images=[_image(1), _image(2)], has_image=True, licence="InC", creator="景德镇御窑厂",
               period_norm={"source": "清乾隆", "start": 1736, "end": 1795, "parsed": True,
                            "years": {"gte": 1736, "lte": 1795}}, materials=["瓷"], category_ids=["porcelain"]),
    make_asset(licence="restricted:institution", title_zh=None, title_en="Untitled", department="Ceramics"),
    make_asset(access="embargoed", embargo_until="2031-01-01", licence="InC-EDU",
               ingested_at="2025-03-01T08:00:00.250Z"),
]


@pytest.mark.parametrize("doc", RECORDS, ids=range(len(RECORDS)))
def test_a_record_in_the_models_shape_is_its_own_public_view(doc: dict[str, Any]) -> None:
    source = _as_read(doc)
    assert stored_view(source) is source
    assert source == AssetRecord.model_validate(source).public_view(ai=False)


def _older(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The same record as other writers or older versions left it."""
    no_ids = copy.deepcopy(doc)
    for im in no_ids["images"]:
        del im["id"]
    missing = {k: v for k, v in doc.items() if k != "quantity"}
    offset = doc | {"changed_at": "2025-01-08T08:00:00+00:00"}
    zero_fraction = doc | {"ingested_at": "2025-01-08T08:00:00.000000Z"}
    old_licence = doc | {"licence": {k: v for k, v in doc["licence"].items() if k != "policy"}}
    return [no_ids, missing, offset, zero_fraction, old_licence]


@pytest.mark.parametrize("case", range(5))
def test_any_other_record_goes_through_the_model(case: int) -> None:
    doc = _as_read(RECORDS[1])
    source = _older(doc)[case]
    view = stored_view(source)
    assert view is not source
    assert view == AssetRecord.model_validate(source).public_view(ai=False)


@pytest.mark.parametrize("tier", [None, *Tier])
def test_the_plain_dict_twins_write_what_the_models_write(tier: Tier | None) -> None:
    decision = Decision(tier is not None, tier, Audience.PUBLIC, "licence InC (audience: public)")
    for doc in RECORDS:
        source = _as_read(doc)
        asset, view = AssetRecord.model_validate(source), stored_view(source)
        models = credit(asset, decision)
        assert credit_of(view, decision) == {"licence": models["licence"].model_dump(mode="json"),
                                             "attribution": assets.attribution(asset),
                                             "access": models["access"].model_dump(mode="json")}
        assert media_links_of(BASE, view, decision) == [m.model_dump(mode="json")
                                                        for m in media_links(BASE, asset, decision)]
        assert line_of(view, decision, BASE) == line(asset, decision, BASE)
