"""services/iiif/info.py: each tier's limits and the info.json that describes them."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.access import Tier
from schemas.asset import ImageRecord
from schemas.licences import LICENCES
from services.iiif.image import Limits, parse, plan
from services.iiif.info import info_document, limits_for, scale_factors, sizes

ID = "https://wenyuan.example/iiif/3/00000000-0000-0000-0000-000000000001"


def _image(width: int = 4000, height: int = 3000, **overrides: Any) -> ImageRecord:
    fields: dict[str, Any] = {"id": ID.rsplit("/", 1)[1], "sha256": "0" * 64, "key": "o", "path": "a.jpg",
                              "format": "JPEG", "mime": "image/jpeg", "width": width, "height": height, "mode": "RGB",
                              "size_bytes": 1, "phash": "0" * 16, "thumbnail_key": "t", "preview_key": "p"}
    return ImageRecord.model_validate(fields | overrides)


def _limits(tier: Tier, image: ImageRecord | None = None, max_area: int = 25_000_000) -> Limits:
    return limits_for(image or _image(), tier, thumbnail_px=400, preview_px=1600, max_area=max_area)


@pytest.mark.parametrize(("tier", "source", "box"), [
    (Tier.THUMBNAIL, (400, 300), (400, 300)),
    (Tier.PREVIEW, (1600, 1200), (1600, 1200)),
    (Tier.ORIGINAL, (4000, 3000), (4000, 3000)),
])
def test_each_tier_is_made_from_its_own_file_and_capped_at_its_size(
    tier: Tier, source: tuple[int, int], box: tuple[int, int]
) -> None:
    limits = _limits(tier)

    assert (limits.width, limits.height) == (4000, 3000)
    assert (limits.source_width, limits.source_height) == source
    assert (limits.max_width, limits.max_height) == box


def test_an_original_above_the_area_limit_is_capped_to_it() -> None:
    limits = _limits(Tier.ORIGINAL, max_area=3_000_000)

    assert (limits.max_width, limits.max_height) == (2000, 1500)
    assert (limits.source_width, limits.source_height) == (4000, 3000)  # tiles keep the original's detail


def test_an_image_stored_sideways_is_described_upright_as_its_derivatives_are() -> None:
    sideways = _image(4000, 3000, exif={"Orientation": "6"})

    original, thumbnail = _limits(Tier.ORIGINAL, sideways), _limits(Tier.THUMBNAIL, sideways)

    assert (original.width, original.height) == (3000, 4000)
    assert (thumbnail.max_width, thumbnail.max_height) == (300, 400)


def test_sizes_are_the_box_and_its_halvings_and_each_is_a_valid_request() -> None:
    limits = _limits(Tier.PREVIEW)

    listed = sizes(limits)

    assert listed == [{"width": 100, "height": 75}, {"width": 200, "height": 150}, {"width": 400, "height": 300},
                      {"width": 800, "height": 600}, {"width": 1600, "height": 1200}]
    for s in listed:
        made = plan(parse("full", f"{s['width']},{s['height']}", "0", "default.jpg"), limits)
        assert (made.width, made.height) == (s["width"], s["height"])


@pytest.mark.parametrize(("tier", "factors"), [
    (Tier.ORIGINAL, [1, 2, 4, 8]),  # 4000/8 = 500: one 512 tile covers the image
    (Tier.PREVIEW, [4, 8]),  # 4000/2 = 2000 would be finer than the 1600-pixel preview
    (Tier.THUMBNAIL, [16]),  # 4000/16 = 250 within the 400×300 box; 4000/8 = 500 is not
])
def test_tiles_are_offered_only_at_scales_the_tier_has_the_detail_and_the_box_for(
    tier: Tier, factors: list[int]
) -> None:
    limits = _limits(tier)

    assert scale_factors(limits, 512) == factors
    for factor in factors:  # the top-left tile at each scale is a request the caller is served
        side = 512 * factor
        made = plan(parse(f"0,0,{side},{side}", f"{min(512, -(-4000 // factor))},", "0", "default.jpg"), limits)
        assert made.width <= limits.max_width and made.height <= limits.max_height


def test_info_json_has_the_required_fields_the_callers_cap_and_the_extra_functionality() -> None:
    limits = _limits(Tier.THUMBNAIL)

    doc = info_document(ID, _image(), limits, LICENCES["CC-BY-4.0"], 512)

    assert list(doc)[:3] == ["@context", "id", "type"]
    assert doc["@context"] == "http://iiif.io/api/image/3/context.json" and doc["type"] == "ImageService3"
    assert (doc["id"], doc["protocol"], doc["profile"]) == (ID, "http://iiif.io/api/image", "level2")
    assert (doc["width"], doc["height"], doc["maxWidth"], doc["maxHeight"]) == (4000, 3000, 400, 300)
    assert all(s["width"] <= 400 and s["height"] <= 300 for s in doc["sizes"])
    assert doc["tiles"] == [{"width": 512, "height": 512, "scaleFactors": [16]}]
    assert doc["extraQualities"] == ["color", "gray", "bitonal"]
    assert doc["extraFormats"] == ["webp", "gif", "tif"]
    assert "sizeUpscaling" in doc["extraFeatures"] and "mirroring" in doc["extraFeatures"]
    assert doc["rights"] == "http://creativecommons.org/licenses/by/4.0/"


@pytest.mark.parametrize(("code", "rights"), [
    ("InC-EDU", "http://rightsstatements.org/vocab/InC-EDU/1.0/"),
    ("CC0", "http://creativecommons.org/publicdomain/zero/1.0/"),
    ("Apache-2.0", None),  # neither Creative Commons nor RightsStatements.org: not allowed in `rights`
    ("restricted:institution", None),
])
def test_rights_is_the_licence_uri_where_the_image_api_allows_one(code: str, rights: str | None) -> None:
    doc = info_document(ID, _image(), _limits(Tier.ORIGINAL), LICENCES[code], 512)

    assert doc.get("rights") == rights


def test_a_gray_image_does_not_offer_colour() -> None:
    doc = info_document(ID, _image(mode="L"), _limits(Tier.ORIGINAL), LICENCES["CC0"], 512)

    assert doc["extraQualities"] == ["gray", "bitonal"]
