"""Vessel stand-ins: a turned profile (meiping, pear vase, jar, bowl, ding, gu, …) in a glaze or metal.

The shape and the surface ("style") follow keywords of the title where it names them (梅瓶,
青花, celadon, ding …); otherwise the seeded random generator picks them from the kind's usual
repertoire. The silhouette is anti-aliased, shaded like a solid of revolution and decorated
with bands, scrolls, petal panels or mask motifs clipped to the body.
"""

from __future__ import annotations

import math
import random
import re

import numpy as np
from PIL import Image, ImageDraw

from samples._paint import (
    Colour,
    Mask,
    backdrop,
    drop_shadow,
    font,
    hex_colour,
    jitter,
    mix,
    passage,
    paste_shaded,
    smooth_walk,
)

# name: (half-width / height, [(t from top, radius fraction)], extras)
PROFILES: dict[str, tuple[float, list[tuple[float, float]]]] = {
    "meiping": (0.3, [(0, .2), (.05, .2), (.07, .15), (.1, .2), (.2, .85), (.3, 1), (.55, .82), (.85, .56), (1, .55)]),
    "pear": (0.3, [(0, .32), (.04, .25), (.3, .14), (.5, .45), (.72, 1), (.88, .86), (.93, .5), (1, .52)]),
    "jar": (0.42, [(0, .5), (.08, .5), (.1, .58), (.35, 1), (.7, .86), (1, .58)]),
    "bowl": (1.05, [(0, 1), (.45, .86), (.8, .5), (.86, .36), (1, .38)]),
    "dish": (2.4, [(0, 1), (.4, .92), (.75, .62), (1, .62)]),
    "globe": (0.42, [(0, .2), (.35, .17), (.42, .5), (.66, 1), (.88, .75), (1, .45)]),
    "gourd": (0.3, [(0, .16), (.05, .22), (.2, .58), (.36, .3), (.66, 1), (.9, .8), (1, .5)]),
    "cup": (0.75, [(0, 1), (.6, .8), (.8, .45), (.86, .3), (1, .42)]),
    "ewer": (0.36, [(0, .32), (.06, .3), (.25, .3), (.4, .85), (.6, 1), (.9, .8), (1, .6)]),
    "hu": (0.34, [(0, .45), (.25, .35), (.55, 1), (.85, .82), (.9, .6), (1, .64)]),
    "gu": (0.3, [(0, 1), (.3, .42), (.42, .34), (.48, .44), (.58, .44), (.64, .34), (1, .78)]),
    "ding": (0.62, [(0, 1), (.1, .98), (.55, .82), (.72, .5), (.74, .0)]),
    "gui": (0.7, [(0, 1), (.4, .94), (.7, .7), (.74, .5), (.8, .52), (1, .62)]),
    "censer": (0.72, [(0, .82), (.08, .86), (.45, 1), (.72, .7), (.74, 0)]),
    "box": (1.3, [(0, .9), (.05, 1), (.45, 1), (.5, .97), (.55, 1), (.95, 1), (1, .92)]),
    "brushpot": (0.4, [(0, 1), (.03, .98), (.97, .98), (1, .96)]),
    "washer": (1.6, [(0, 1), (.5, .96), (.9, .8), (1, .78)]),
    "snuff": (0.36, [(0, .22), (.12, .2), (.16, .42), (.35, .95), (.8, 1), (.95, .8), (1, .72)]),
    "granary": (0.36, [(0, .3), (.08, .32), (.12, .9), (.2, 1), (.85, .96), (1, .9)]),
    "teapot": (0.62, [(0, .45), (.1, .48), (.2, .9), (.5, 1), (.85, .9), (1, .7)]),
    "eared-cup": (1.5, [(0, 1), (.5, .9), (.9, .62), (1, .6)]),
}
FLAT_SHAPES = ("mirror", "bi", "cong", "huang", "panel")

# (regex on the title, shape); first match wins, so specific names come before general ones.
SHAPE_HINTS: list[tuple[str, str]] = [
    (r"镜|mirror", "mirror"), (r"璧|\bbi\b", "bi"), (r"琮|\bcong\b", "cong"), (r"璜|huang", "huang"),
    (r"鼻烟|snuff", "snuff"), (r"梅瓶|meiping", "meiping"), (r"玉壶春|pear", "pear"), (r"天球|globular", "globe"),
    (r"葫芦|gourd", "gourd"), (r"执壶|ewer", "ewer"), (r"提梁|teapot|茶壶", "teapot"), (r"鼎|\bding\b", "ding"),
    (r"觚|\bgu\b|beaker", "gu"), (r"簋|\bgui\b", "gui"), (r"笔筒|brush pot", "brushpot"),
    (r"臂搁|wrist rest|插屏|screen", "panel"), (r"洗|washer", "washer"), (r"盒|奁|\bbox\b", "box"),
    (r"耳杯|eared cup", "eared-cup"), (r"炉|censer", "censer"), (r"仓|granary", "granary"),
    (r"杯|盏|\bcup\b", "cup"), (r"碗|bowl", "bowl"), (r"盘|dish|plate", "dish"), (r"罐|\bjar\b", "jar"),
    (r"壶|\bhu\b|wine vessel", "hu"), (r"瓶|vase|尊|\bzun\b", "pear"),
]

STYLE_HINTS: list[tuple[str, str]] = [
    (r"青花|blue-and-white|blue and white", "blue-white"), (r"青白|qingbai", "qingbai"),
    (r"钧|\bjun\b", "jun"), (r"青釉|青瓷|龙泉|celadon|longquan", "celadon"), (r"粉彩|famille rose", "famille-rose"),
    (r"五彩|斗彩|wucai|doucai", "wucai"), (r"霁蓝|sacrificial-blue|blue glaze", "monochrome-blue"),
    (r"红釉|祭红|copper-red", "monochrome-red"), (r"白釉|white-glazed|white glaze", "white"),
    (r"彩陶|painted pottery", "painted"), (r"三彩|sancai", "sancai"), (r"紫砂|zisha|yixing", "zisha"),
    (r"灰陶|grey pottery|gray pottery", "grey"), (r"鎏金银|parcel-gilt", "parcel-gilt"),
    (r"鎏金|gilt", "gilt"), (r"错金银|inlaid with gold", "inlaid"), (r"剔红|carved red", "carved-red"),
    (r"螺钿|mother-of-pearl", "black-inlay"), (r"彩绘|painted lacquer", "painted-lacquer"),
    (r"描金", "gilt-lacquer"), (r"掐丝|cloisonn", "cloisonne"), (r"画珐琅|painted enamel", "painted-enamel"),
    (r"套料|overlay", "overlay-glass"), (r"白玉|white jade", "white-jade"), (r"碧玉|spinach", "spinach-jade"),
    (r"翡翠|jadeite", "jadeite"), (r"青玉|green jade", "green-jade"), (r"竹|bamboo", "bamboo"),
    (r"木|wood", "wood"), (r"金|gold", "gold"), (r"银|silver", "silver"), (r"蓝色|blue glass", "blue-glass"),
]

KIND_STYLES: dict[str, tuple[str, ...]] = {
    "porcelain": ("blue-white", "celadon", "white", "famille-rose", "wucai", "monochrome-blue", "monochrome-red",
                  "yellow", "jun", "qingbai"),
    "pottery": ("painted", "grey", "sancai", "zisha", "black-pottery"),
    "bronze": ("patina", "patina", "brown-bronze", "gilt", "inlaid"),
    "jade": ("white-jade", "green-jade", "spinach-jade", "jadeite"),
    "lacquer": ("carved-red", "black-inlay", "painted-lacquer", "gilt-lacquer"),
    "glass": ("blue-glass", "yellow-glass", "overlay-glass"),
    "gold-silver": ("gold", "silver", "parcel-gilt"),
    "enamel": ("cloisonne", "painted-enamel"),
    "carving": ("bamboo", "wood"),
    "iron": ("iron",),
}
KIND_SHAPES: dict[str, tuple[str, ...]] = {
    "porcelain": ("meiping", "pear", "jar", "bowl", "dish", "globe", "gourd", "cup", "ewer", "censer"),
    "pottery": ("jar", "hu", "ewer", "granary", "teapot", "bowl"),
    "bronze": ("ding", "gu", "hu", "gui", "mirror", "censer"),
    "jade": ("cong", "bi", "huang", "cup", "censer", "snuff"),
    "lacquer": ("box", "dish", "eared-cup", "bowl"),
    "glass": ("bowl", "pear", "snuff", "cup"),
    "gold-silver": ("bowl", "ewer", "cup", "box"),
    "enamel": ("pear", "bowl", "censer", "jar"),
    "carving": ("brushpot", "washer", "panel"),
    "iron": ("ding", "jar"),
}

# style: (body colour, decoration colours, gloss)
STYLES: dict[str, tuple[str, tuple[str, ...], float]] = {
    "blue-white": ("#eef0ec", ("#1f3f8f", "#2c56a8"), 0.25),
    "celadon": ("#95b896", ("#7a9e7e",), 0.2),
    "white": ("#f1eee4", ("#ddd8c8",), 0.25),
    "famille-rose": ("#f2f0ea", ("#d86a8a", "#4f9a5a", "#e0b040", "#3a6fb0"), 0.22),
    "wucai": ("#efece2", ("#c8352a", "#3c8a4a", "#e3b32f", "#2b4c9a"), 0.22),
    "monochrome-blue": ("#1d2f72", ("#c9a24a",), 0.3),
    "monochrome-red": ("#9a1c1c", ("#7a1212",), 0.3),
    "yellow": ("#e2b530", ("#c8961c",), 0.28),
    "jun": ("#8fb0cc", ("#8a4a86", "#a1609a"), 0.22),
    "qingbai": ("#dbe8e6", ("#b3ccc9",), 0.28),
    "painted": ("#b8764a", ("#2a1d18", "#6e2d1e"), 0.0),
    "grey": ("#8d8c88", ("#6f6e6a",), 0.0),
    "sancai": ("#d9b56a", ("#3f7f4e", "#b26a2a", "#efe4c8"), 0.18),
    "zisha": ("#8a4630", ("#6d3322",), 0.06),
    "black-pottery": ("#2c2a28", ("#3e3b38",), 0.12),
    "patina": ("#5f7f6a", ("#3f5a4b", "#8fae8a"), 0.04),
    "brown-bronze": ("#6d5232", ("#4b3620", "#8c6c44"), 0.08),
    "gilt": ("#c9a240", ("#9c7a2a",), 0.3),
    "inlaid": ("#3e3a30", ("#d4b04a", "#cfd2d4"), 0.12),
    "white-jade": ("#e8e4cf", ("#d3cdb0",), 0.22),
    "green-jade": ("#a2b892", ("#889f78",), 0.22),
    "spinach-jade": ("#3f6a4c", ("#2e5239", "#1c2a20"), 0.24),
    "jadeite": ("#5fae6e", ("#d9e8d0",), 0.3),
    "carved-red": ("#a8291f", ("#7d1a13", "#c0402f"), 0.1),
    "black-inlay": ("#1b1716", ("#c9d6d8", "#e8d6ea", "#bfe0d0"), 0.2),
    "painted-lacquer": ("#231a17", ("#b3281e", "#d6a24a"), 0.18),
    "gilt-lacquer": ("#2a1a14", ("#d3a94a",), 0.2),
    "blue-glass": ("#2b5fb4", ("#6f9ad8",), 0.45),
    "yellow-glass": ("#e6c13a", ("#f3dc80",), 0.45),
    "overlay-glass": ("#f0efe8", ("#c8312a", "#2f6fb2"), 0.35),
    "gold": ("#d2a637", ("#a8801f",), 0.4),
    "silver": ("#c6c8cc", ("#8e9096", "#d2a637"), 0.45),
    "parcel-gilt": ("#c4c6ca", ("#cfa23a",), 0.4),
    "cloisonne": ("#2f9fb0", ("#c83a34", "#e3c048", "#f2efe4", "#2c4a8e", "#c9a240"), 0.25),
    "painted-enamel": ("#f3efe2", ("#d8577a", "#3c8a4a", "#3b64b0", "#e3b32f"), 0.3),
    "bamboo": ("#d6b377", ("#9f7a45", "#b99160"), 0.05),
    "wood": ("#8a5a33", ("#5d3a1f", "#a5754a"), 0.06),
    "iron": ("#3b3a38", ("#5a4a3a",), 0.04),
}


def pick(hints: list[tuple[str, str]], title: str | None) -> str | None:
    if title:
        for pattern, value in hints:
            if re.search(pattern, title, re.IGNORECASE):
                return value
    return None


def render_vessel(rng: random.Random, size: tuple[int, int], kind: str, title: str | None,
                  back: bool = False) -> Image.Image:
    shape = pick(SHAPE_HINTS, title) or rng.choice(KIND_SHAPES.get(kind, KIND_SHAPES["porcelain"]))
    styles = KIND_STYLES.get(kind, KIND_STYLES["porcelain"])
    style = pick(STYLE_HINTS, title)
    if style not in styles:
        style = rng.choice(styles)
    body_hex, deco_hex, gloss = STYLES[style]
    body = jitter(rng, hex_colour(body_hex), 8)
    deco = [jitter(rng, hex_colour(c), 6) for c in deco_hex]
    base = backdrop(size, rng, dark=style in ("white", "white-jade", "qingbai", "silver") and rng.random() < 0.7)
    if shape in FLAT_SHAPES:
        _flat_object(base, rng, shape, body, deco, gloss)
    else:
        _turned_object(base, rng, shape, style, body, deco, gloss)
    return base.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if back else base


def _turned_object(base: Image.Image, rng: random.Random, shape: str, style: str, body: Colour, deco: list[Colour],
                   gloss: float) -> None:
    size = base.size
    w, h = size
    aspect, profile = PROFILES[shape]
    height = h * rng.uniform(0.62, 0.72)
    half = height * aspect
    if half > w * 0.38:
        half = w * 0.38
        height = half / aspect
    cx, bottom = w / 2, h * 0.86
    top = bottom - height
    mask = Mask(size)
    ts = np.linspace(0.0, 1.0, 160)
    radii = np.interp(ts, [p[0] for p in profile], [p[1] for p in profile])
    kernel = np.ones(15) / 15
    padded = np.concatenate([np.full(7, radii[0]), radii, np.full(7, radii[-1])])
    radii = np.convolve(padded, kernel, mode="valid")
    left = [(cx - half * r, top + t * height) for t, r in zip(ts, radii, strict=True)]
    right = [(cx + half * r, top + t * height) for t, r in zip(ts, radii, strict=True)]
    mask.polygon(left + right[::-1])
    _extras(mask, shape, cx, top, height, half, radii)
    drop_shadow(base, (cx - half * 1.05, bottom - 18, cx + half * 1.05, bottom + 16))
    layer = Image.new("RGB", size, body)
    draw = ImageDraw.Draw(layer)
    _decorate(draw, rng, style, deco, (cx - half * 1.25, top, cx + half * 1.25, bottom), height)
    silhouette = mask.image()
    paste_shaded(base, layer, silhouette, gloss=gloss)
    if shape in ("bowl", "dish", "washer", "cup", "eared-cup", "box") and rng.random() < 0.5:
        _rim_ellipse(base, cx, top, half * radii[0], body)


def _extras(mask: Mask, shape: str, cx: float, top: float, height: float, half: float, radii: np.ndarray) -> None:
    """Legs, handles, spouts and lids that a turned profile cannot make."""
    rim = half * radii[0]
    if shape in ("ding", "censer"):
        leg_top, leg_h = top + height * 0.66, height * (0.34 if shape == "ding" else 0.28)
        for dx in (-0.62, 0.0, 0.62):
            x = cx + dx * half
            mask.polygon([(x - half * .09, leg_top), (x + half * .09, leg_top), (x + half * .06, leg_top + leg_h),
                          (x - half * .06, leg_top + leg_h)])
        for side in (-1, 1):  # upright loop handles on the rim
            xl, xr, lift = cx + side * rim * 0.62 - half * .12, cx + side * rim * 0.62 + half * .12, top - height * .16
            mask.line([(xl, top), (xl, lift), (xr, lift), (xr, top)], width=max(4, half * 0.06))
    elif shape in ("ewer", "teapot"):
        mask.polygon([(cx + half * .55, top + height * .45), (cx + half * .75, top + height * .5),
                      (cx + half * 1.15, top + height * .08), (cx + half * 1.05, top + height * .05)])
        if shape == "teapot":
            mask.arc((cx - half * .7, top - height * .45, cx + half * .7, top + height * .3), 180, 360, half * .07)
        else:
            mask.arc((cx - half * 1.25, top + height * .15, cx - half * .55, top + height * .6), 90, 270, half * .09)
    elif shape in ("hu", "gui", "eared-cup"):
        for side in (-1, 1):
            y = top + height * (0.3 if shape == "hu" else 0.2)
            x = cx + side * half * (0.95 if shape == "hu" else 1.02)
            mask.ellipse((x - half * .15, y - height * .05, x + half * .15, y + height * .07))
    if shape in ("jar", "granary") and radii[0] < 0.6:
        mask.ellipse((cx - rim * 1.05, top - height * .06, cx + rim * 1.05, top + height * .04))


def _rim_ellipse(base: Image.Image, cx: float, top: float, rim: float, body: Colour) -> None:
    inner = Mask(base.size)
    inner.ellipse((cx - rim, top - rim * 0.16, cx + rim, top + rim * 0.16))
    base.paste(mix(body, (40, 36, 32), 0.25), (0, 0, base.width, base.height), inner.image())


def _decorate(draw: ImageDraw.ImageDraw, rng: random.Random, style: str, deco: list[Colour],
              box: tuple[float, float, float, float], height: float) -> None:
    x0, y0, x1, y1 = box
    c = deco[0]
    line_w = max(2, round(height / 120))
    if style in ("white", "monochrome-red", "yellow", "qingbai", "black-pottery", "grey", "zisha", "iron",
                 "white-jade", "green-jade", "gold", "silver", "monochrome-blue", "yellow-glass", "blue-glass"):
        for t in sorted(rng.sample([0.08, 0.14, 0.8, 0.92], 2)):
            draw.line([(x0, y0 + t * height), (x1, y0 + t * height)], fill=c, width=line_w)
        if style in ("monochrome-blue", "parcel-gilt") or (style == "silver" and len(deco) > 1):
            _scroll(draw, rng, x0, x1, y0 + height * .45, height * .1, deco[-1], line_w)
        if style in ("white", "qingbai", "green-jade", "white-jade"):
            _scroll(draw, rng, x0, x1, y0 + height * .5, height * .12, c, max(1, line_w - 1))
        return
    if style == "jun":
        for _ in range(rng.randint(2, 4)):
            cx = rng.uniform(x0 + (x1 - x0) * .2, x1 - (x1 - x0) * .2)
            cy = rng.uniform(y0 + height * .1, y1 - height * .3)
            r = height * rng.uniform(.06, .14)
            draw.ellipse((cx - r, cy - r * .8, cx + r, cy + r * .8), fill=rng.choice(deco))
        return
    if style in ("patina", "brown-bronze", "inlaid", "gilt"):
        _spirals(draw, rng, x0, x1, y0 + height * .04, height * .1, c, line_w)
        _mask_motif(draw, rng, (x0 + x1) / 2, y0 + height * .38, height * .2, c, line_w + 1)
        _petals(draw, x0, x1, y0 + height * .62, height * .12, c, line_w, up=True)
        if style == "patina":
            for _ in range(18):
                px, py = rng.uniform(x0, x1), rng.uniform(y0, y1)
                r = rng.uniform(3, 14)
                draw.ellipse((px - r, py - r * .7, px + r, py + r * .7), fill=rng.choice(deco[1:] or deco))
        if style == "inlaid":
            _scroll(draw, rng, x0, x1, y0 + height * .5, height * .16, deco[1], line_w + 1)
        return
    if style == "carved-red":
        step = max(6, round(height / 40))
        for y in range(int(y0), int(y1), step):
            draw.line([(x0, y), (x1, y + step)], fill=c, width=1)
            draw.line([(x0, y + step), (x1, y)], fill=c, width=1)
        _flowers(draw, rng, box, [deco[1]], 5, height * .09)
        return
    if style == "black-inlay":
        for _ in range(60):
            px, py = rng.uniform(x0, x1), rng.uniform(y0, y1)
            r = rng.uniform(2, 7)
            draw.ellipse((px - r, py - r, px + r, py + r), fill=rng.choice(deco))
        _scroll(draw, rng, x0, x1, y0 + height * .5, height * .15, deco[0], line_w)
        return
    if style in ("bamboo", "wood"):
        for _ in range(7):
            px = rng.uniform(x0, x1)
            draw.line([(px, y0), (px + rng.uniform(-20, 20), y1)], fill=deco[1], width=1)
        _landscape_lines(draw, rng, x0, x1, y0 + height * .25, height * .5, deco[0], line_w)
        return
    if style == "painted":
        for t in (0.18, 0.2, 0.7):
            draw.line([(x0, y0 + t * height), (x1, y0 + t * height)], fill=c, width=line_w * 2)
        for i in range(4):
            sx = x0 + (x1 - x0) * (i + .5) / 4
            _spiral(draw, sx, y0 + height * .45, height * .12, c, line_w * 2)
        return
    if style == "sancai":
        for _ in range(16):
            px = rng.uniform(x0, x1)
            start, end = y0 + rng.uniform(0, height * .3), y0 + rng.uniform(.5, .95) * height
            draw.line([(px, start), (px + rng.uniform(-8, 8), end)], fill=rng.choice(deco), width=rng.randint(6, 16))
        return
    # painted porcelain, enamel, overlay glass, lacquer, celadon, blue-and-white
    if style != "celadon":
        _spirals(draw, rng, x0, x1, y0 + height * .05, height * .06, c, line_w)
    _scroll(draw, rng, x0, x1, y0 + height * .45, height * .18, c, line_w + 1)
    _petals(draw, x0, x1, y0 + height * .78, height * .13, deco[-1], line_w, up=True)
    if len(deco) > 1:
        _flowers(draw, rng, (x0, y0 + height * .25, x1, y0 + height * .7), deco, 7, height * .05)


def _scroll(draw: ImageDraw.ImageDraw, rng: random.Random, x0: float, x1: float, y: float, amp: float,
            colour: Colour, width: int) -> None:
    phase, period = rng.uniform(0, math.tau), (x1 - x0) / rng.choice((2.5, 3, 3.5, 4))
    pts = [(x, y + amp * .5 * math.sin(phase + (x - x0) / period * math.tau)) for x in np.linspace(x0, x1, 120)]
    draw.line(pts, fill=colour, width=width)
    for i in range(1, len(pts) - 1, 15):
        x, yy = pts[i]
        r = amp * 0.35
        side = 1 if i % 2 else -1
        draw.ellipse((x - r, yy + side * r * .2 - r, x + r, yy + side * r * .2 + r), outline=colour, width=width)
        draw.ellipse((x - r * .4, yy - r * .4, x + r * .4, yy + r * .4), fill=colour)


def _spiral(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float, colour: Colour, width: int) -> None:
    pts = [(cx + r * (a / 12) * math.cos(a), cy + r * (a / 12) * math.sin(a)) for a in np.linspace(0, 12, 60)]
    draw.line(pts, fill=colour, width=width)


def _spirals(draw: ImageDraw.ImageDraw, rng: random.Random, x0: float, x1: float, y: float, h: float,
             colour: Colour, width: int) -> None:
    """A band of square 'thunder' spirals (雷纹)."""
    step = max(h, 10)
    x = x0
    while x < x1:
        s = step * 0.8
        pts = [(x, y), (x + s, y), (x + s, y + s), (x + s * .2, y + s), (x + s * .2, y + s * .35),
               (x + s * .65, y + s * .35), (x + s * .65, y + s * .7)]
        draw.line(pts, fill=colour, width=max(1, width - 1))
        x += step


def _petals(draw: ImageDraw.ImageDraw, x0: float, x1: float, y: float, h: float, colour: Colour, width: int,
            up: bool) -> None:
    """A row of pointed lotus-petal panels (仰莲 / 覆莲)."""
    n = max(6, int((x1 - x0) / max(h, 1) * 1.2))
    pw = (x1 - x0) / n
    for i in range(n):
        px = x0 + i * pw
        tip = y if up else y + h
        foot = y + h if up else y
        draw.line([(px, foot), (px + pw * .15, tip + (foot - tip) * .4), (px + pw / 2, tip),
                   (px + pw * .85, tip + (foot - tip) * .4), (px + pw, foot)], fill=colour, width=width)


def _mask_motif(draw: ImageDraw.ImageDraw, rng: random.Random, cx: float, cy: float, s: float, colour: Colour,
                width: int) -> None:
    """A stylised animal mask (兽面纹): eyes, brows, horns and a nose ridge, symmetric."""
    draw.line([(cx, cy - s * .6), (cx, cy + s * .6)], fill=colour, width=width)
    for side in (-1, 1):
        ex = cx + side * s * .45
        draw.ellipse((ex - s * .14, cy - s * .12, ex + s * .14, cy + s * .12), fill=colour)
        start, end = (200, 270) if side < 0 else (270, 340)
        draw.arc((ex - s * .4, cy - s * .55, ex + s * .4, cy + s * .1), start, end, fill=colour, width=width)
        _spiral(draw, cx + side * s * 1.1, cy + s * .1, s * .35, colour, width)
        horn = [(cx + side * s * .2, cy - s * .5), (cx + side * s * .7, cy - s * .75),
                (cx + side * s * .95, cy - s * .45)]
        draw.line(horn, fill=colour, width=width)


def _flowers(draw: ImageDraw.ImageDraw, rng: random.Random, box: tuple[float, float, float, float],
             colours: list[Colour], n: int, r: float) -> None:
    x0, y0, x1, y1 = box
    for _ in range(n):
        cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
        colour = rng.choice(colours)
        for k in range(5):
            a = k * math.tau / 5 + rng.uniform(0, .3)
            px, py = cx + r * .6 * math.cos(a), cy + r * .6 * math.sin(a)
            draw.ellipse((px - r * .45, py - r * .45, px + r * .45, py + r * .45), fill=colour)
        draw.ellipse((cx - r * .3, cy - r * .3, cx + r * .3, cy + r * .3), fill=(236, 200, 80))


def _landscape_lines(draw: ImageDraw.ImageDraw, rng: random.Random, x0: float, x1: float, y: float, h: float,
                     colour: Colour, width: int) -> None:
    """Carved scenery: a ridge line, a pine and a few rocks, as incised strokes."""
    ridge = smooth_walk(rng, 40, h * .08)
    xs = np.linspace(x0, x1, 40)
    draw.line([(x, y + h * .3 + r) for x, r in zip(xs, ridge, strict=True)], fill=colour, width=width)
    tx = rng.uniform(x0 + (x1 - x0) * .3, x1 - (x1 - x0) * .3)
    draw.line([(tx, y + h), (tx + 6, y + h * .2)], fill=colour, width=width * 2)
    for k in range(4):
        yy = y + h * (.2 + k * .15)
        draw.line([(tx - h * .2, yy + 6), (tx + 3, yy), (tx + h * .2, yy + 6)], fill=colour, width=width)


def _flat_object(base: Image.Image, rng: random.Random, shape: str, body: Colour, deco: list[Colour],
                 gloss: float) -> None:
    """Objects seen face-on: mirror, bi disc, cong tube, huang arc, carved panel."""
    w, h = base.size
    cx, cy = w / 2, h * 0.48
    mask = Mask(base.size)
    layer = Image.new("RGB", base.size, body)
    draw = ImageDraw.Draw(layer)
    c = deco[0]
    if shape in ("mirror", "bi"):
        r = min(w, h) * rng.uniform(0.34, 0.4)
        mask.ellipse((cx - r, cy - r, cx + r, cy + r))
        hole = r * (0.32 if shape == "bi" else 0)
        draw.ellipse((cx - r * .9, cy - r * .9, cx + r * .9, cy + r * .9), outline=c, width=max(2, round(r / 40)))
        if shape == "mirror":
            for k in range(4):
                a = k * math.tau / 4 + math.pi / 4
                px, py = cx + r * .55 * math.cos(a), cy + r * .55 * math.sin(a)
                draw.ellipse((px - r * .07, py - r * .07, px + r * .07, py + r * .07), fill=c)
                _spiral(draw, cx + r * .55 * math.cos(a + math.pi / 4), cy + r * .55 * math.sin(a + math.pi / 4),
                        r * .18, c, max(2, round(r / 50)))
            draw.ellipse((cx - r * .14, cy - r * .14, cx + r * .14, cy + r * .14), fill=jitter(rng, c, 10))
        else:
            for ring in range(8):
                for k in range(18):
                    a = k * math.tau / 18 + ring * .17
                    rr = hole + (r * .88 - hole) * (ring + .5) / 8
                    px, py = cx + rr * math.cos(a), cy + rr * math.sin(a)
                    draw.ellipse((px - 4, py - 4, px + 4, py + 4), outline=c, width=2)
        drop_shadow(base, (cx - r, cy + r * .7, cx + r, cy + r * 1.15), strength=40)
        if hole:
            mask.ellipse((cx - hole, cy - hole, cx + hole, cy + hole), fill=0)
    elif shape == "cong":
        hw, hh = min(w, h) * .26, h * .36
        mask.rectangle((cx - hw, cy - hh, cx + hw, cy + hh), radius=6)
        mask.rectangle((cx - hw * .7, cy - hh * 1.12, cx + hw * .7, cy + hh * 1.08), radius=4)
        for k in range(5):
            y = cy - hh + (k + .5) * 2 * hh / 5
            draw.line([(cx - hw, y - hh * .12), (cx + hw, y - hh * .12)], fill=c, width=3)
            for side in (-1, 1):
                ex = cx + side * hw * .55
                draw.ellipse((ex - 8, y - 4, ex + 8, y + 8), outline=c, width=2)
            draw.line([(cx - hw * .15, y + hh * .12), (cx + hw * .15, y + hh * .12)], fill=c, width=3)
        drop_shadow(base, (cx - hw * 1.2, cy + hh - 16, cx + hw * 1.2, cy + hh + 22))
    elif shape == "huang":
        r = min(w, h) * .42
        mask.arc((cx - r, cy - r * .6, cx + r, cy + r * 1.1), 20, 160, r * .28)
        for k in range(12):
            a = math.radians(25 + k * 11)
            px, py = cx + r * .86 * math.cos(a), cy + r * .25 + r * .74 * math.sin(a)
            _spiral(draw, px, py, r * .07, c, 2)
    else:  # panel
        hw, hh = min(w * .18, h * .2), h * .4
        mask.rectangle((cx - hw, cy - hh, cx + hw, cy + hh), radius=hw * .35)
        _landscape_lines(draw, rng, cx - hw, cx + hw, cy - hh * .6, hh * 1.2, c, 2)
        text = passage(rng, 6)
        for i, ch in enumerate(text):
            draw.text((cx + hw * .55, cy - hh * .8 + i * hh * .16), ch, font=font(int(hh * .12)), fill=c, anchor="mm")
        drop_shadow(base, (cx - hw * 1.2, cy + hh - 12, cx + hw * 1.2, cy + hh + 18))
    silhouette = mask.image()
    if shape in ("cong", "panel"):
        paste_shaded(base, layer, silhouette, gloss=gloss)
    else:
        paste_shaded(base, layer, silhouette, shading=lambda m: _dome(m, gloss))


def _dome(mask: Image.Image, gloss: float) -> np.ndarray:
    """Gentle radial shading for discs, lit from the upper left."""
    h, w = mask.height, mask.width
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.hypot((xs - w * .42) / w, (ys - h * .38) / h)
    return (1.05 - d * 0.6 + gloss * 0.3 * np.exp(-d * d / 0.004)).astype(np.float32)
