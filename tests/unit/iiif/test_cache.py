"""services/iiif/cache.py without a server: keys, JPEG scale-down choice, decoding to a viewable image, the LRU."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from services.iiif.cache import SourceCache, TileCache, decode, derivative_key, reduction, viewable


def _bytes(im: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **options)
    return out.getvalue()


def test_the_cache_key_names_institution_image_and_tier_before_the_request() -> None:
    key = derivative_key("museum", "0b6e…", "thumbnail", "full/400,300/0/default.jpg")

    assert key == "museum/iiif/0b6e…/thumbnail/full/400,300/0/default.jpg"


@pytest.mark.parametrize(("box", "output", "expected"), [
    ((0, 0, 4000, 3000), (500, 375), 8),
    ((0, 0, 4000, 3000), (501, 375), 4),
    ((0, 0, 512, 512), (512, 512), 1),
    ((0, 0, 1024, 1024), (512, 512), 2),
    ((0, 0, 4000, 3000), (4000, 3000), 1),
])
def test_a_jpeg_is_decoded_at_the_smallest_scale_that_still_covers_the_output(
    box: tuple[float, float, float, float], output: tuple[int, int], expected: int
) -> None:
    assert reduction(box, output, jpeg=True) == expected
    assert reduction(box, output, jpeg=False) == 1


def test_decoding_a_jpeg_at_a_quarter_scale() -> None:
    data = _bytes(Image.new("RGB", (1001, 800), (10, 120, 200)), "JPEG")

    im = decode(data, 4)

    assert im.size == (251, 200) and im.mode == "RGB"


def test_exif_orientation_is_applied() -> None:
    im = Image.new("RGB", (40, 20))
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise to display

    assert decode(_bytes(im, "JPEG", exif=exif), 1).size == (20, 40)


@pytest.mark.parametrize(("mode", "expected"), [("L", "L"), ("1", "L"), ("RGB", "RGB"), ("CMYK", "RGB"), ("P", "RGB"),
                                                ("I;16", "L")])
def test_sources_become_eight_bit_rgb_or_gray(mode: str, expected: str) -> None:
    assert viewable(Image.new(mode, (8, 8))).mode == expected


def test_transparency_is_flattened_onto_white() -> None:
    im = viewable(Image.new("RGBA", (8, 8), (0, 0, 0, 0)))

    assert im.mode == "RGB" and im.getpixel((0, 0)) == (255, 255, 255)


def test_sixteen_bit_samples_are_scaled_not_clipped() -> None:
    im = viewable(Image.new("I;16", (4, 4), 32896))  # half of 65535

    assert im.getpixel((0, 0)) == 128


def test_the_source_cache_serves_a_repeat_from_memory_and_drops_the_least_recently_used() -> None:
    loads: list[str] = []
    cache = SourceCache(budget_bytes=2 * 100 * 100 * 3)

    def load(name: str) -> Image.Image:
        loads.append(name)
        return Image.new("RGB", (100, 100))

    first = cache.get("a", 1, lambda: load("a"))
    assert cache.get("a", 1, lambda: load("a")) is first
    cache.get("b", 1, lambda: load("b"))
    cache.get("a", 1, lambda: load("a"))  # a is now the most recently used
    cache.get("c", 1, lambda: load("c"))  # over budget: b goes
    cache.get("a", 1, lambda: load("a"))
    cache.get("b", 1, lambda: load("b"))

    assert loads == ["a", "b", "c", "b"]


def test_a_source_larger_than_the_budget_is_used_but_not_kept() -> None:
    cache = SourceCache(budget_bytes=10)
    loads: list[int] = []

    for _ in range(2):
        cache.get("big", 1, lambda: loads.append(1) or Image.new("RGB", (10, 10)))

    assert len(loads) == 2


def test_made_images_in_memory_serve_a_repeat_and_drop_the_least_recently_used() -> None:
    tiles = TileCache(10)
    tiles.put("a", b"12345")
    tiles.put("b", b"1234")
    assert tiles.get("a") == b"12345"  # now the most recently used
    tiles.put("c", b"123")  # 12 bytes: b goes
    assert (tiles.get("a"), tiles.get("b"), tiles.get("c")) == (b"12345", None, b"123")
    tiles.put("huge", b"x" * 11)  # larger than the budget: not kept, nothing dropped for it
    assert tiles.get("huge") is None and tiles.get("a") == b"12345"
    assert TileCache(0).get("a") is None
