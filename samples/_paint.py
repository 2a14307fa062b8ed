"""Drawing helpers shared by the sample renderers: fonts, colours, gradients, masks and shading.

Everything here is deterministic: no clocks, no global random state. Renderers get a
`random.Random` seeded by the caller and draw with Pillow and numpy only.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
SUPERSAMPLE = 2  # masks are drawn at twice the size and reduced: smooth silhouette edges, cheaply

Colour = tuple[int, int, int]
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

# Public-domain text (千字文, 6th century) for calligraphy, rubbings, books and inscriptions.
CLASSIC_TEXT = (
    "天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏闰余成岁律吕调阳云腾致雨露结为霜金生丽水玉出昆冈"
    "剑号巨阙珠称夜光果珍李柰菜重芥姜海咸河淡鳞潜羽翔龙师火帝鸟官人皇始制文字乃服衣裳推位让国有虞陶唐"
    "吊民伐罪周发殷汤坐朝问道垂拱平章爱育黎首臣伏戎羌遐迩一体率宾归王鸣凤在竹白驹食场化被草木赖及万方"
)


@lru_cache(maxsize=64)
def font(size: int) -> Font:
    """The CJK font at `size` px, or Pillow's default font where the CJK font is not installed."""
    if CJK_FONT.exists():
        return ImageFont.truetype(str(CJK_FONT), size)
    return ImageFont.load_default(size)


def passage(rng: random.Random, n: int) -> str:
    """`n` consecutive characters of the classic text, from a random start (wrapping round)."""
    start = rng.randrange(len(CLASSIC_TEXT))
    return "".join(CLASSIC_TEXT[(start + i) % len(CLASSIC_TEXT)] for i in range(n))


def hex_colour(value: str) -> Colour:
    value = value.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def mix(a: Colour, b: Colour, t: float) -> Colour:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def jitter(rng: random.Random, colour: Colour, amount: int = 12) -> Colour:
    return tuple(max(0, min(255, c + rng.randint(-amount, amount))) for c in colour)  # type: ignore[return-value]


def vertical_gradient(size: tuple[int, int], top: Colour, bottom: Colour) -> Image.Image:
    w, h = size
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
    column = np.array(top, np.float32) * (1 - t) + np.array(bottom, np.float32) * t
    strip = Image.fromarray((column + 0.5).astype(np.uint8)[:, None, :], "RGB")
    return strip.resize((w, h), Image.Resampling.NEAREST)


def backdrop(size: tuple[int, int], rng: random.Random, dark: bool | None = None) -> Image.Image:
    """A museum photo backdrop: a soft vertical gradient, light or dark."""
    if dark is None:
        dark = rng.random() < 0.3
    if dark:
        top, bottom = jitter(rng, (48, 48, 52), 8), jitter(rng, (18, 18, 20), 6)
    else:
        top, bottom = jitter(rng, (236, 234, 229), 6), jitter(rng, (196, 193, 187), 8)
    return vertical_gradient(size, top, bottom)


class Mask:
    """A silhouette drawn at SUPERSAMPLE× and reduced to the image size (anti-aliased)."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.size = size
        self.big = Image.new("L", (size[0] * SUPERSAMPLE, size[1] * SUPERSAMPLE), 0)
        self.draw = ImageDraw.Draw(self.big)

    @staticmethod
    def s(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(x * SUPERSAMPLE, y * SUPERSAMPLE) for x, y in points]

    def polygon(self, points: list[tuple[float, float]], fill: int = 255) -> None:
        self.draw.polygon(self.s(points), fill=fill)

    def ellipse(self, box: tuple[float, float, float, float], fill: int = 255) -> None:
        x0, y0, x1, y1 = box
        self.draw.ellipse((x0 * SUPERSAMPLE, y0 * SUPERSAMPLE, x1 * SUPERSAMPLE, y1 * SUPERSAMPLE), fill=fill)

    def rectangle(self, box: tuple[float, float, float, float], fill: int = 255, radius: float = 0) -> None:
        x0, y0, x1, y1 = (v * SUPERSAMPLE for v in box)
        self.draw.rounded_rectangle((x0, y0, x1, y1), radius=radius * SUPERSAMPLE, fill=fill)

    def line(self, points: list[tuple[float, float]], width: float, fill: int = 255) -> None:
        self.draw.line(self.s(points), fill=fill, width=max(1, round(width * SUPERSAMPLE)), joint="curve")

    def arc(self, box: tuple[float, float, float, float], start: float, end: float, width: float) -> None:
        x0, y0, x1, y1 = (v * SUPERSAMPLE for v in box)
        self.draw.arc((x0, y0, x1, y1), start, end, fill=255, width=max(1, round(width * SUPERSAMPLE)))

    def image(self) -> Image.Image:
        return self.big.reduce(SUPERSAMPLE)


def cylinder_shading(mask: Image.Image, light: float = -0.35, gloss: float = 0.0) -> np.ndarray:
    """Per-pixel brightness factors that make a flat silhouette look round: each row of the
    silhouette is treated as a slice of a cylinder lit from the left; `gloss` adds a highlight."""
    m = np.asarray(mask) > 8
    w = m.shape[1]
    any_row = m.any(axis=1)
    left = np.where(any_row, m.argmax(axis=1), 0).astype(np.float32)
    right = np.where(any_row, w - 1 - m[:, ::-1].argmax(axis=1), 1).astype(np.float32)
    mid = (left + right) / 2
    half = np.maximum((right - left) / 2, 1.0)
    xs = np.arange(w, dtype=np.float32)[None, :]
    u = np.clip((xs - mid[:, None]) / half[:, None], -1.0, 1.0)
    depth = np.sqrt(1.0 - u * u)
    shade = 0.5 + 0.42 * depth + 0.16 * np.clip(-(u - light), -1, 1) * depth
    if gloss:
        shade = shade + gloss * np.exp(-((u - light) ** 2) / 0.004)
    return shade.astype(np.float32)


def apply_shading(layer: Image.Image, shade: np.ndarray) -> Image.Image:
    arr = np.asarray(layer.convert("RGB"), dtype=np.float32) * shade[:, :, None]
    return Image.fromarray((np.clip(arr, 0, 255) + 0.5).astype(np.uint8), "RGB")


def paste_shaded(base: Image.Image, layer: Image.Image, silhouette: Image.Image,
                 shading: Callable[[Image.Image], np.ndarray] | None = None, gloss: float = 0.0) -> None:
    """Paste `layer` through the silhouette, shaded (cylinder shading unless `shading` is given);
    only the silhouette's bounding box is computed."""
    box = silhouette.getbbox()
    if box is None:
        return
    mask, part = silhouette.crop(box), layer.crop(box)
    shade = shading(mask) if shading else cylinder_shading(mask, gloss=gloss)
    base.paste(apply_shading(part, shade), box[:2], mask)


def drop_shadow(base: Image.Image, box: tuple[float, float, float, float], strength: int = 70) -> None:
    """A soft elliptical shadow under an object (drawn in place): drawn at quarter size, blurred, scaled up."""
    k = 4
    x0, y0, x1, y1 = box
    pad = max(x1 - x0, y1 - y0) * 0.2
    region = (max(0, int(x0 - pad)), max(0, int(y0 - pad)), min(base.width, int(x1 + pad) + 1),
              min(base.height, int(y1 + pad) + 1))
    rw, rh = region[2] - region[0], region[3] - region[1]
    if rw <= k or rh <= k:
        return
    small = Image.new("L", (rw // k, rh // k), 0)
    ImageDraw.Draw(small).ellipse(((x0 - region[0]) / k, (y0 - region[1]) / k, (x1 - region[0]) / k,
                                   (y1 - region[1]) / k), fill=strength)
    small = small.filter(ImageFilter.GaussianBlur(max(1.0, (y1 - y0) / k / 4)))
    base.paste((20, 18, 16), region, small.resize((rw, rh), Image.Resampling.BILINEAR))


def smooth_walk(rng: random.Random, n: int, step: float, smooth: int = 5) -> list[float]:
    """A smoothed random walk of n values starting at 0 (ridge lines, frayed edges, bone outlines)."""
    values, v = [], 0.0
    for _ in range(n):
        v += rng.uniform(-step, step)
        values.append(v)
    out = []
    for i in range(n):
        window = values[max(0, i - smooth): i + smooth + 1]
        out.append(sum(window) / len(window))
    return out


def blob(rng: random.Random, cx: float, cy: float, rx: float, ry: float, n: int = 36,
         rough: float = 0.12) -> list[tuple[float, float]]:
    """An irregular closed outline around (cx, cy)."""
    radii = smooth_walk(rng, n, rough, smooth=3)
    mean = sum(radii) / n
    pts = []
    for i in range(n):
        a = 2 * math.pi * i / n
        k = 1 + radii[i] - mean
        pts.append((cx + rx * k * math.cos(a), cy + ry * k * math.sin(a)))
    return pts


def draw_text_centered(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: int,
                       fill: Colour | tuple[int, int, int, int]) -> None:
    draw.text(xy, text, font=font(size), fill=fill, anchor="mm")


def vertical_text(draw: ImageDraw.ImageDraw, x: float, y: float, text: str, size: int,
                  fill: Colour | tuple[int, int, int, int], spacing: float = 1.15) -> None:
    """Characters top to bottom, centred on column x, starting at y (traditional layout)."""
    for i, ch in enumerate(text):
        draw.text((x, y + i * size * spacing + size / 2), ch, font=font(size), fill=fill, anchor="mm")


def seal_mark(draw: ImageDraw.ImageDraw, x: float, y: float, side: int, text: str,
              red: Colour = (178, 34, 30)) -> None:
    """A small red collector's/artist's seal: a square with 2 or 4 characters in white (白文)."""
    draw.rectangle((x, y, x + side, y + side), fill=red)
    chars = (text + "印信")[:4] if len(text) != 2 else text
    if len(chars) == 2:
        for i, ch in enumerate(chars):
            draw.text((x + side / 2, y + side * (0.28 + 0.44 * i)), ch, font=font(max(6, int(side * 0.4))),
                      fill=(246, 232, 220), anchor="mm")
        return
    # read right column top-down, then left column
    spots = [(0.72, 0.28), (0.72, 0.72), (0.28, 0.28), (0.28, 0.72)]
    for ch, (fx, fy) in zip(chars, spots, strict=False):
        draw.text((x + side * fx, y + side * fy), ch, font=font(max(6, int(side * 0.4))), fill=(246, 232, 220),
                  anchor="mm")
