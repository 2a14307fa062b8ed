"""services/iiif/render.py: a plan carried out on a Pillow image, from whatever source the caller's tier gives."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from services.iiif.image import Limits, parse, plan
from services.iiif.render import render

RED, GREEN, BLUE, YELLOW = (220, 20, 20), (20, 200, 20), (20, 20, 220), (230, 220, 20)
FULL = Limits(400, 300, 400, 300, 400, 300)


def _quadrants(size: tuple[int, int] = (400, 300)) -> Image.Image:
    """Red top left, green top right, blue bottom left, yellow bottom right."""
    w, h = size
    im = Image.new("RGB", size)
    draw = ImageDraw.Draw(im)
    for colour, box in ((RED, (0, 0, w // 2, h // 2)), (GREEN, (w // 2, 0, w, h // 2)),
                        (BLUE, (0, h // 2, w // 2, h)), (YELLOW, (w // 2, h // 2, w, h))):
        draw.rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=colour)
    return im


def _made(source: Image.Image, url: str, limits: Limits = FULL) -> Image.Image:
    region, size, rotation, quality = url.split("/")
    return Image.open(io.BytesIO(render(source, plan(parse(region, size, rotation, quality), limits), limits)))


def _near(pixel: tuple[int, ...], colour: tuple[int, int, int]) -> bool:
    return all(abs(a - b) < 12 for a, b in zip(pixel, colour, strict=False))


def _corners(im: Image.Image) -> list[tuple[int, ...]]:
    w, h = im.size
    rgb = im.convert("RGB")
    return [rgb.getpixel((5, 5)), rgb.getpixel((w - 6, 5)), rgb.getpixel((5, h - 6)), rgb.getpixel((w - 6, h - 6))]


@pytest.mark.parametrize(("rotation", "size", "corners"), [
    ("0", (400, 300), [RED, GREEN, BLUE, YELLOW]),
    ("90", (300, 400), [BLUE, RED, YELLOW, GREEN]),  # clockwise
    ("180", (400, 300), [YELLOW, BLUE, GREEN, RED]),
    ("270", (300, 400), [GREEN, YELLOW, RED, BLUE]),
    ("!0", (400, 300), [GREEN, RED, YELLOW, BLUE]),  # mirrored
    ("!90", (300, 400), [YELLOW, GREEN, BLUE, RED]),  # mirrored, then turned
])
def test_mirroring_and_quarter_turns(rotation: str, size: tuple[int, int], corners: list[tuple[int, int, int]]) -> None:
    made = _made(_quadrants(), f"full/max/{rotation}/default.png")

    assert made.size == size
    assert all(_near(p, c) for p, c in zip(_corners(made), corners, strict=True)), _corners(made)


def test_an_arbitrary_turn_keeps_the_scale_and_leaves_transparent_corners_in_png_and_white_in_jpeg() -> None:
    png = _made(_quadrants(), "full/max/45/default.png")
    jpg = _made(_quadrants(), "full/max/45/default.jpg")

    assert png.size == jpg.size and abs(png.width - 495) <= 2  # the bounding box of the turned 400×300 image
    assert png.mode == "RGBA" and png.getpixel((0, 0))[3] == 0
    assert _near(jpg.getpixel((0, 0)), (255, 255, 255))


def test_a_region_of_a_smaller_source_is_mapped_into_its_grid() -> None:
    """The caller's tier gives a source at a quarter of the full size: the region is that source's part of it."""
    limits = Limits(1600, 1200, 400, 300, 400, 300)

    made = _made(_quadrants(), "800,0,800,600/100,/0/default.png", limits)  # the full image's top-right quarter

    assert made.size == (100, 75)
    assert all(_near(p, GREEN) for p in _corners(made))


def test_a_full_resolution_tile_is_cut_exactly() -> None:
    noise = Image.fromarray(np.random.default_rng(1).integers(0, 256, (300, 400, 3), dtype=np.uint8), "RGB")

    made = _made(noise, "100,50,128,128/max/0/default.png")

    assert np.array_equal(np.asarray(made), np.asarray(noise.crop((100, 50, 228, 178))))


@pytest.mark.parametrize(("quality", "mode"), [("default", "RGB"), ("color", "RGB"), ("gray", "L"), ("bitonal", "1")])
def test_qualities(quality: str, mode: str) -> None:
    made = _made(_quadrants(), f"full/max/0/{quality}.png")

    assert made.mode == mode
    if quality == "bitonal":
        assert set(np.unique(np.asarray(made.convert("L")))) <= {0, 255}


def test_colour_from_a_gray_source_is_still_an_answer() -> None:
    made = _made(Image.new("L", (400, 300), 128), "full/max/0/color.jpg")

    assert made.mode == "RGB"


@pytest.mark.parametrize(("fmt", "pillow"), [("jpg", "JPEG"), ("png", "PNG"), ("webp", "WEBP"), ("gif", "GIF"),
                                             ("tif", "TIFF")])
@pytest.mark.parametrize("quality", ["default", "gray", "bitonal"])
def test_every_format_in_every_quality(fmt: str, pillow: str, quality: str) -> None:
    made = _made(_quadrants(), f"full/200,/30/{quality}.{fmt}")

    assert made.format == pillow
    assert made.size[0] > 200  # turned by 30°, the box around the 200×150 image is wider
