"""services/iiif/image.py: the Image API's parameters, the output planned within a caller's limits, canonical forms."""

from __future__ import annotations

import pytest

from services.iiif.image import (
    BeyondLimits,
    Format,
    InvalidImageRequest,
    Limits,
    Plan,
    Quality,
    Region,
    Rotation,
    parse,
    plan,
)
from services.iiif.info import within_area

ORIGINAL = Limits(4000, 3000, 4000, 3000, 4000, 3000)  # the original tier of a 4000×3000 image
THUMBNAIL = Limits(4000, 3000, 400, 300, 400, 300)  # its thumbnail tier (400 px longest side)
SQUARE = Limits(1000, 1000, 1000, 1000, 1000, 1000)


def _plan(region: str, size: str, limits: Limits = ORIGINAL, rotation: str = "0", quality: str = "default.jpg") -> Plan:
    return plan(parse(region, size, rotation, quality), limits)


@pytest.mark.parametrize(("region", "expected"), [
    ("full", Region(0, 0, 4000, 3000)),
    ("square", Region(500, 0, 3000, 3000)),  # centred on the longer side
    ("10,20,300,400", Region(10, 20, 300, 400)),
    ("3900,2900,500,500", Region(3900, 2900, 100, 100)),  # cropped at the edges
    ("pct:10,20,30,40", Region(400, 600, 1200, 1200)),
    ("pct:0.5,0,0.05,100", Region(20, 0, 2, 3000)),
    ("pct:50,50,100,100", Region(2000, 1500, 2000, 1500)),
])
def test_regions_are_pixels_of_the_full_image_inside_it(region: str, expected: Region) -> None:
    assert _plan(region, "max").region == expected


@pytest.mark.parametrize("region", ["4000,0,10,10", "0,3000,10,10", "0,0,0,10", "0,0,10,0", "pct:0,0,0,10",
                                    "pct:100,0,10,10", "-1,0,10,10", "1,2,3", "pct:1,2,3", "a,b,c,d", "Full",
                                    "pct:1e2,0,1,1", "10.5,0,1,1"])
def test_empty_outside_or_malformed_regions_are_bad_requests(region: str) -> None:
    with pytest.raises(InvalidImageRequest):
        _plan(region, "max")


@pytest.mark.parametrize(("size", "expected"), [
    ("max", (4000, 3000)),
    ("1000,", (1000, 750)),
    (",300", (400, 300)),
    ("pct:25", (1000, 750)),
    ("pct:12.5", (500, 375)),
    ("300,300", (300, 300)),  # distorted, as asked
    ("!500,500", (500, 375)),
    ("!500,100", (133, 100)),
    ("^max", (4000, 3000)),
    ("^1000,", (1000, 750)),
])
def test_sizes_of_the_full_region(size: str, expected: tuple[int, int]) -> None:
    made = _plan("full", size)

    assert (made.width, made.height) == expected


@pytest.mark.parametrize(("size", "expected"), [
    ("^200,", (200, 200)), ("^,150", (150, 150)), ("^pct:200", (200, 200)), ("^150,120", (150, 120)),
    ("^!300,200", (200, 200)), ("^max", (3000, 3000)), ("max", (100, 100)),
])
def test_caret_sizes_upscale_a_small_region(size: str, expected: tuple[int, int]) -> None:
    made = _plan("0,0,100,100", size)

    assert (made.width, made.height) == expected


@pytest.mark.parametrize("size", ["101,", ",101", "pct:101", "101,100", "!200,200", "!101,101"])
def test_upscaling_without_a_caret_is_a_bad_request(size: str) -> None:
    with pytest.raises(InvalidImageRequest, match=r"\^"):
        _plan("0,0,100,100", size)


def test_a_box_larger_than_the_region_in_one_direction_only_is_confined_by_the_other() -> None:
    made = _plan("0,0,100,100", "!200,50")

    assert (made.width, made.height) == (50, 50)


@pytest.mark.parametrize("size", ["0,", ",0", "0,10", "pct:0", "full", "max,", "!10,", "^", "^^max", "10,10,",
                                  "pct:", "!,10", " 10,"])
def test_malformed_and_empty_sizes_are_bad_requests(size: str) -> None:
    with pytest.raises(InvalidImageRequest):
        _plan("full", size)


@pytest.mark.parametrize(("region", "size", "expected"), [
    ("full", "max", (400, 300)),  # the thumbnail itself
    ("0,0,2000,1500", "max", (200, 150)),  # a quarter of it: the thumbnail's own pixels of it, not upscaled
    ("0,0,100,100", "max", (10, 10)),
    ("full", "^max", (400, 300)),  # the box
    ("0,0,100,100", "^max", (300, 300)),
    ("full", "!1000,1000", (400, 300)),  # confined within the box: a server-imposed limit
    ("0,0,200,200", "200,", (200, 200)),  # allowed: made from the thumbnail's 20×20 pixels of it
    ("full", "400,", (400, 300)),
])
def test_a_thumbnail_tier_caller_is_held_to_the_thumbnails_size_and_detail(
    region: str, size: str, expected: tuple[int, int]
) -> None:
    made = _plan(region, size, THUMBNAIL)

    assert (made.width, made.height) == expected


@pytest.mark.parametrize("size", ["401,", ",301", "pct:50", "^1000,", "1000,750", "^pct:200"])
def test_exact_sizes_beyond_the_callers_box_are_refused_as_beyond_its_limits(size: str) -> None:
    with pytest.raises(BeyondLimits) as refused:
        _plan("full", size, THUMBNAIL)

    assert "400×300" in str(refused.value)


def test_the_box_of_an_area_limited_original_caps_max_but_not_the_detail_of_a_tile() -> None:
    box = within_area((4000, 3000), 3_000_000)
    limited = Limits(4000, 3000, 4000, 3000, *box)

    assert box == (2000, 1500)
    assert (_plan("full", "max", limited).width, _plan("0,0,512,512", "max", limited).width) == (2000, 512)


@pytest.mark.parametrize(("rotation", "expected"), [
    ("0", Rotation(0, False)), ("90", Rotation(90, False)), ("!180", Rotation(180, True)),
    ("22.5", Rotation(22.5, False)), ("360", Rotation(0, False)), ("0.50", Rotation(0.5, False)),
    (".5", Rotation(0.5, False)), ("!0", Rotation(0, True)),
])
def test_rotations(rotation: str, expected: Rotation) -> None:
    assert parse("full", "max", rotation, "default.jpg").rotation == expected


@pytest.mark.parametrize("rotation", ["361", "-90", "+90", "90deg", "!!90", "1e2", "", "9 0", "!"])
def test_bad_rotations_are_bad_requests(rotation: str) -> None:
    with pytest.raises(InvalidImageRequest, match="rotation"):
        parse("full", "max", rotation, "default.jpg")


@pytest.mark.parametrize(("quality_format", "quality", "fmt"), [
    ("default.jpg", Quality.DEFAULT, Format.JPG), ("color.png", Quality.COLOR, Format.PNG),
    ("gray.webp", Quality.GRAY, Format.WEBP), ("bitonal.gif", Quality.BITONAL, Format.GIF),
    ("default.tif", Quality.DEFAULT, Format.TIF),
])
def test_qualities_and_formats(quality_format: str, quality: Quality, fmt: Format) -> None:
    request = parse("full", "max", "0", quality_format)

    assert (request.quality, request.format) == (quality, fmt)


@pytest.mark.parametrize(("quality_format", "message"), [
    ("grey.jpg", "quality"), ("default.jpeg", "format"), ("default.jp2", "does not make"),
    ("default.pdf", "does not make"), ("default", "no format"), ("default.", "format"), ("Default.jpg", "quality"),
])
def test_unknown_qualities_and_formats_are_bad_requests(quality_format: str, message: str) -> None:
    with pytest.raises(InvalidImageRequest, match=message):
        parse("full", "max", "0", quality_format)


@pytest.mark.parametrize(("region", "size", "rotation", "quality", "limits", "canonical"), [
    ("full", "max", "0", "default.jpg", ORIGINAL, "full/max/0/default.jpg"),
    ("square", "max", "0", "default.jpg", SQUARE, "full/max/0/default.jpg"),  # the square of a square image
    ("pct:0,0,100,100", "4000,", "360", "color.png", ORIGINAL, "full/max/0/color.png"),
    ("pct:10,20,30,40", "pct:50", "90.0", "gray.jpg", ORIGINAL, "400,600,1200,1200/600,600/90/gray.jpg"),
    ("0,0,500,500", "!200,100", "!22.50", "bitonal.png", ORIGINAL, "0,0,500,500/100,100/!22.5/bitonal.png"),
    ("0,0,100,100", "^200,", "0", "default.jpg", ORIGINAL, "0,0,100,100/^200,200/0/default.jpg"),
    ("0,0,100,100", "^max", "0", "default.jpg", ORIGINAL, "0,0,100,100/^max/0/default.jpg"),
    ("full", "400,", "0", "default.jpg", THUMBNAIL, "full/max/0/default.jpg"),  # the thumbnail tier's max
    ("full", "200,150", "0", "default.jpg", THUMBNAIL, "full/200,150/0/default.jpg"),
])
def test_canonical_forms(region: str, size: str, rotation: str, quality: str, limits: Limits, canonical: str) -> None:
    assert _plan(region, size, limits, rotation, quality).canonical(limits) == canonical


def test_the_cache_path_spells_the_size_in_pixels_so_max_of_two_tiers_never_share_a_key() -> None:
    thumbnail, original = _plan("full", "max", THUMBNAIL), _plan("full", "max", ORIGINAL)

    assert thumbnail.canonical(THUMBNAIL) == original.canonical(ORIGINAL) == "full/max/0/default.jpg"
    assert (thumbnail.cache_path(THUMBNAIL), original.cache_path(ORIGINAL)) == (
        "full/400,300/0/default.jpg", "full/4000,3000/0/default.jpg")
