"""Abstract stand-ins for Western artworks (the Tate sample): paintings, drawings, prints, sculpture,
reliefs, printing blocks and installations.

Each classification has its own look — a framed canvas, washes and pencil lines on paper, a
plate-marked print in two or three inks, shaded volumes on a plinth, a room — and the seeded
generator varies the composition, so no two records look alike.
"""

from __future__ import annotations

import math
import random

import numpy as np
from PIL import Image, ImageChops, ImageDraw

from samples._paint import Colour, backdrop, drop_shadow, jitter, mix, smooth_walk, vertical_gradient

PALETTES: tuple[tuple[str, ...], ...] = (
    ("#d6452b", "#f2c230", "#2d5da8", "#111111", "#f4f1ea"),
    ("#264653", "#2a9d8f", "#e9c46a", "#f4a261", "#e76f51"),
    ("#5b3a29", "#a0522d", "#d8b384", "#f3e9d2", "#3c4a3e"),
    ("#1d3557", "#457b9d", "#a8dadc", "#f1faee", "#e63946"),
    ("#6b705c", "#a5a58d", "#b7b7a4", "#ffe8d6", "#cb997e"),
    ("#3d2c8d", "#916bbf", "#c996cc", "#f5e1da", "#1c0c5b"),
)


def _palette(rng: random.Random) -> list[Colour]:
    return [jitter(rng, tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)), 10)  # type: ignore[misc]
            for c in rng.choice(PALETTES)]


def render_western(rng: random.Random, size: tuple[int, int], style: str, back: bool = False) -> Image.Image:
    painter = {"painting": _painting, "drawing": _drawing, "print": _print, "sculpture": _sculpture,
               "relief": _relief, "block": _block, "installation": _installation}.get(style, _painting)
    image = painter(rng, size)
    return image.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if back else image


def _composition(draw: ImageDraw.ImageDraw, rng: random.Random, box: tuple[float, float, float, float],
                 colours: list[Colour], mode: str) -> None:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    if mode == "fields":  # stacked soft colour fields
        n = rng.randint(2, 3)
        for i in range(n):
            fy0 = y0 + h * (0.06 + i * 0.9 / n)
            draw.rounded_rectangle((x0 + w * .07, fy0, x1 - w * .07, fy0 + h * 0.9 / n - h * .04), radius=w * .02,
                                   fill=colours[i % len(colours)])
    elif mode == "grid":  # black lines and primary blocks
        xs = sorted(rng.sample(range(int(x0 + w * .1), int(x1 - w * .1)), 3))
        ys = sorted(rng.sample(range(int(y0 + h * .1), int(y1 - h * .1)), 3))
        for _ in range(4):
            i, j = rng.randrange(3), rng.randrange(3)
            cx0, cy0 = ([x0, *xs][i], [y0, *ys][j])
            cx1, cy1 = ([*xs, x1][i], [*ys, y1][j])
            draw.rectangle((cx0, cy0, cx1, cy1), fill=rng.choice(colours[:3]))
        for x in xs:
            draw.line([(x, y0), (x, y1)], fill=(17, 17, 17), width=max(4, int(w / 60)))
        for y in ys:
            draw.line([(x0, y), (x1, y)], fill=(17, 17, 17), width=max(4, int(w / 60)))
    elif mode == "circles":
        for _ in range(rng.randint(4, 8)):
            r = min(w, h) * rng.uniform(0.08, 0.3)
            cx, cy = rng.uniform(x0 + r, x1 - r), rng.uniform(y0 + r, y1 - r)
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(*rng.choice(colours), rng.randint(120, 230)))
    elif mode == "stripes":
        angle = rng.uniform(-0.6, 0.6)
        step = w / rng.randint(6, 12)
        for k in range(-10, 30):
            c = colours[k % len(colours)]
            ox = x0 + k * step
            lean = h * math.tan(angle)
            draw.polygon([(ox, y1), (ox + step, y1), (ox + step + lean, y0), (ox + lean, y0)], fill=c)
    else:  # "horizon": an abstracted landscape
        sky = colours[3]
        draw.rectangle(box, fill=sky)
        for k in range(3):
            ridge = smooth_walk(rng, 24, h * .04)
            base_y = y0 + h * (0.45 + 0.15 * k)
            xs = np.linspace(x0, x1, 24)
            draw.polygon([*[(x, base_y + r) for x, r in zip(xs, ridge, strict=True)], (x1, y1), (x0, y1)],
                         fill=colours[k])
        r = min(w, h) * .07
        sx, sy = rng.uniform(x0 + w * .2, x1 - w * .2), y0 + h * .22
        draw.ellipse((sx - r, sy - r, sx + r, sy + r), fill=colours[4])


def _painting(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    w, h = size
    base = vertical_gradient(size, jitter(rng, (214, 210, 204), 6), jitter(rng, (186, 182, 176), 6))
    draw = ImageDraw.Draw(base, "RGBA")
    portrait = rng.random() < 0.45
    cw = h * 0.62 if portrait else w * 0.72
    ch = h * 0.8 if portrait else cw * rng.uniform(0.62, 0.78)
    x0, y0 = (w - cw) / 2, (h - ch) / 2
    frame = max(10, int(min(cw, ch) * rng.uniform(0.05, 0.09)))
    gilt = rng.random() < 0.5
    fc = jitter(rng, (176, 138, 62) if gilt else (40, 34, 30), 10)
    drop_shadow(base, (x0, y0 + ch - 10, x0 + cw + 16, y0 + ch + 24), strength=50)
    draw.rectangle((x0 - frame, y0 - frame, x0 + cw + frame, y0 + ch + frame), fill=fc)
    draw.rectangle((x0 - frame * .4, y0 - frame * .4, x0 + cw + frame * .4, y0 + ch + frame * .4),
                   fill=mix(fc, (255, 240, 200) if gilt else (90, 80, 70), 0.25))
    colours = _palette(rng)
    _canvas(base, rng, (x0, y0, x0 + cw, y0 + ch), colours, colours[4],
            rng.choice(("fields", "grid", "circles", "stripes", "horizon", "horizon")))
    return base


def _canvas(base: Image.Image, rng: random.Random, box: tuple[float, float, float, float], colours: list[Colour],
            ground: Colour, mode: str) -> None:
    """A composition painted on its own canvas, then hung in the box (nothing spills over)."""
    x0, y0, x1, y1 = (round(v) for v in box)
    canvas = Image.new("RGB", (x1 - x0, y1 - y0), ground)
    _composition(ImageDraw.Draw(canvas, "RGBA"), rng, (0, 0, x1 - x0, y1 - y0), colours, mode)
    base.paste(canvas, (x0, y0))


def _paper_sheet(rng: random.Random, size: tuple[int, int], colour: Colour) -> tuple[Image.Image, tuple[float, ...]]:
    w, h = size
    base = backdrop(size, rng, dark=False)
    draw = ImageDraw.Draw(base)
    portrait = rng.random() < 0.4
    sw = h * 0.7 if portrait else w * 0.82
    sh = h * 0.9 if portrait else min(h * 0.86, sw * rng.uniform(0.62, 0.8))
    box = ((w - sw) / 2, (h - sh) / 2, (w + sw) / 2, (h + sh) / 2)
    drop_shadow(base, (box[0], box[3] - 8, box[2] + 8, box[3] + 12), strength=35)
    draw.rectangle(box, fill=colour)
    return base, box


def _drawing(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    base, (x0, y0, x1, y1) = _paper_sheet(rng, size, jitter(rng, (238, 228, 204), 8))
    draw = ImageDraw.Draw(base, "RGBA")
    colours = _palette(rng)
    w, h = x1 - x0, y1 - y0
    for _ in range(rng.randint(2, 5)):  # watercolour washes
        cx, cy = rng.uniform(x0 + w * .2, x1 - w * .2), rng.uniform(y0 + h * .2, y1 - h * .2)
        rx, ry = w * rng.uniform(.1, .3), h * rng.uniform(.06, .2)
        draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=(*rng.choice(colours), 70))
    pencil = (60, 56, 52, 200)
    horizon = y0 + h * rng.uniform(.45, .7)
    ridge = smooth_walk(rng, 40, h * .02)
    xs = np.linspace(x0 + w * .05, x1 - w * .05, 40)
    draw.line([(x, horizon + r) for x, r in zip(xs, ridge, strict=True)], fill=pencil, width=2)
    for _ in range(rng.randint(6, 14)):  # loose strokes
        px, py = rng.uniform(x0 + w * .1, x1 - w * .1), rng.uniform(y0 + h * .1, y1 - h * .1)
        pts = [(px, py)]
        for _ in range(8):
            px += rng.uniform(-w * .05, w * .05)
            py += rng.uniform(-h * .04, h * .04)
            pts.append((px, py))
        draw.line(pts, fill=pencil, width=rng.randint(1, 2))
    return base


def _print(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    base, (x0, y0, x1, y1) = _paper_sheet(rng, size, jitter(rng, (244, 240, 230), 5))
    draw = ImageDraw.Draw(base)
    w, h = x1 - x0, y1 - y0
    plate = (x0 + w * .1, y0 + h * .1, x1 - w * .1, y1 - h * .14)
    draw.rectangle(plate, outline=(214, 208, 196), width=3)
    inks = rng.sample(_palette(rng), rng.randint(1, 3))
    ink = inks[0] if sum(inks[0]) < 400 else (30, 30, 32)
    px0, py0, px1, py1 = plate[0] + 8, plate[1] + 8, plate[2] - 8, plate[3] - 8
    for colour in inks[1:]:  # flat colour blocks (screenprint / lithograph)
        bx, by = rng.uniform(px0, px1 - 60), rng.uniform(py0, py1 - 60)
        draw.rectangle((bx, by, min(px1, bx + rng.uniform(60, 260)), min(py1, by + rng.uniform(60, 200))), fill=colour)
    step = rng.choice((5, 6, 8))
    angle = rng.uniform(0.2, 1.2)
    hatch = Image.new("L", (int(px1 - px0), int(py1 - py0)), 0)  # hatching stays inside the plate
    hd = ImageDraw.Draw(hatch)
    hw, hh = hatch.size
    for k in range(int((hw + hh * angle) / step) + 1):
        hd.line([(k * step, hh), (k * step - hh * angle, 0)], fill=255, width=1)
    region = Image.new("L", hatch.size, 0)  # the hatched forms
    rd = ImageDraw.Draw(region)
    for _ in range(rng.randint(2, 4)):
        cx, cy = rng.uniform(hw * .2, hw * .8), rng.uniform(hh * .2, hh * .8)
        rx, ry = hw * rng.uniform(.1, .35), hh * rng.uniform(.1, .35)
        if rng.random() < 0.5:
            rd.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=255)
        else:
            rd.polygon([(cx - rx, cy + ry), (cx + rng.uniform(-rx, rx), cy - ry), (cx + rx, cy + ry)], fill=255)
    hatch = ImageChops.multiply(hatch, region)
    base.paste(ink, (int(px0), int(py0), int(px0) + hw, int(py0) + hh), hatch)
    draw.line([(px0, py0 + hh * rng.uniform(.55, .8)), (px1, py0 + hh * rng.uniform(.55, .8))], fill=ink, width=2)
    draw.rectangle(plate, outline=(206, 200, 188), width=3)
    draw.line([(x1 - w * .3, y1 - h * .07), (x1 - w * .12, y1 - h * .07)], fill=(90, 90, 96), width=1)  # signature
    return base


def _volumes(draw: ImageDraw.ImageDraw, rng: random.Random, cx: float, bottom: float, scale: float,
             colour: Colour) -> float:
    """Stacked geometric volumes (cube, cylinder, sphere) shaded in three tones; returns the top."""
    y = bottom
    for _ in range(rng.randint(2, 4)):
        kind = rng.choice(("cube", "cylinder", "sphere"))
        s = scale * rng.uniform(0.5, 1.0)
        light, mid, dark = mix(colour, (255, 255, 255), 0.3), colour, mix(colour, (0, 0, 0), 0.35)
        ox = cx + rng.uniform(-scale * .2, scale * .2)
        if kind == "cube":
            d = s * 0.35
            draw.polygon([(ox - s / 2, y), (ox + s / 2, y), (ox + s / 2, y - s), (ox - s / 2, y - s)], fill=mid)
            draw.polygon([(ox + s / 2, y), (ox + s / 2 + d, y - d), (ox + s / 2 + d, y - s - d), (ox + s / 2, y - s)],
                         fill=dark)
            draw.polygon([(ox - s / 2, y - s), (ox + s / 2, y - s), (ox + s / 2 + d, y - s - d),
                          (ox - s / 2 + d, y - s - d)], fill=light)
            y -= s + d * 0.5
        elif kind == "cylinder":
            r = s * 0.4
            draw.rectangle((ox - r, y - s, ox + r, y), fill=mid)
            draw.rectangle((ox, y - s, ox + r, y), fill=dark)
            draw.ellipse((ox - r, y - s - r * .3, ox + r, y - s + r * .3), fill=light)
            y -= s + r * 0.3
        else:
            r = s * 0.45
            draw.ellipse((ox - r, y - 2 * r, ox + r, y), fill=dark)
            draw.ellipse((ox - r * .9, y - 2 * r, ox + r * .6, y - r * .3), fill=mid)
            draw.ellipse((ox - r * .6, y - r * 1.8, ox, y - r * 1.1), fill=light)
            y -= 2 * r
    return y


def _sculpture(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    w, h = size
    base = backdrop(size, rng)
    draw = ImageDraw.Draw(base)
    plinth_top = h * rng.uniform(0.62, 0.72)
    pw = w * rng.uniform(0.16, 0.24)
    drop_shadow(base, (w / 2 - pw * 1.3, h * .9, w / 2 + pw * 1.3, h * 1.02), strength=60)
    draw.rectangle((w / 2 - pw, plinth_top, w / 2 + pw, h * 0.96), fill=jitter(rng, (226, 224, 218), 4))
    draw.rectangle((w / 2 + pw * .6, plinth_top, w / 2 + pw, h * 0.96), fill=jitter(rng, (196, 194, 188), 4))
    material = rng.choice([(120, 90, 60), (150, 150, 146), (70, 80, 72), (200, 190, 170), (176, 64, 40)])
    if rng.random() < 0.5:
        _volumes(draw, rng, w / 2, plinth_top, h * 0.22, jitter(rng, material, 10))
    else:  # an organic, pierced form
        outline = [(w / 2 + x, plinth_top - h * .3 + y) for x, y in _organic(rng, h * 0.24)]
        draw.polygon(outline, fill=material)
        r = h * 0.06
        hx, hy = w / 2 + rng.uniform(-r, r), plinth_top - h * .32
        draw.ellipse((hx - r, hy - r * 1.3, hx + r, hy + r * 1.3), fill=base.getpixel((5, int(hy))))
    return base


def _organic(rng: random.Random, r: float) -> list[tuple[float, float]]:
    n = 40
    walk = smooth_walk(rng, n, 0.12, smooth=4)
    return [(r * (1 + walk[i]) * math.cos(i * math.tau / n) * 0.8,
             r * (1 + walk[i]) * math.sin(i * math.tau / n) * 1.2) for i in range(n)]


def _relief(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    w, h = size
    base = backdrop(size, rng, dark=False)
    draw = ImageDraw.Draw(base)
    slab = (w * 0.12, h * 0.1, w * 0.88, h * 0.9)
    colour = jitter(rng, rng.choice([(214, 208, 196), (150, 110, 80), (240, 240, 236)]), 6)
    drop_shadow(base, (slab[0], slab[3] - 10, slab[2] + 12, slab[3] + 16), strength=50)
    draw.rectangle(slab, fill=colour)
    for _ in range(rng.randint(5, 9)):  # raised shapes: a lit edge and a shadowed edge
        x, y = rng.uniform(slab[0] + 20, slab[2] - 140), rng.uniform(slab[1] + 20, slab[3] - 120)
        bw, bh = rng.uniform(40, 140), rng.uniform(30, 120)
        draw.rectangle((x + 5, y + 5, x + bw + 5, y + bh + 5), fill=mix(colour, (0, 0, 0), 0.3))
        draw.rectangle((x, y, x + bw, y + bh), fill=mix(colour, (255, 255, 255), 0.15))
    return base


def _block(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    w, h = size
    base = backdrop(size, rng, dark=False)
    draw = ImageDraw.Draw(base)
    wood = jitter(rng, (150, 104, 62), 10)
    box = (w * 0.15, h * 0.15, w * 0.85, h * 0.85)
    drop_shadow(base, (box[0], box[3] - 10, box[2] + 12, box[3] + 16), strength=60)
    draw.rectangle(box, fill=wood)
    inked = mix(wood, (20, 18, 16), 0.75)
    inner = (box[0] + 16, box[1] + 16, box[2] - 16, box[3] - 16)
    draw.rectangle(inner, fill=inked)
    for _ in range(rng.randint(20, 40)):  # cut grooves show the bare wood
        x, y = rng.uniform(inner[0], inner[2]), rng.uniform(inner[1], inner[3])
        a, ln = rng.uniform(0, math.tau), rng.uniform(20, 120)
        x2 = min(inner[2], max(inner[0], x + ln * math.cos(a)))
        y2 = min(inner[3], max(inner[1], y + ln * math.sin(a)))
        draw.line([(x, y), (x2, y2)], fill=wood, width=rng.randint(2, 6))
    return base


def _installation(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    w, h = size
    wall, floor = jitter(rng, (236, 234, 230), 4), jitter(rng, (168, 160, 150), 8)
    base = vertical_gradient(size, wall, mix(wall, (200, 198, 194), 0.5))
    draw = ImageDraw.Draw(base)
    horizon = h * 0.62
    draw.polygon([(0, horizon), (w, horizon), (w, h), (0, h)], fill=floor)
    draw.line([(0, horizon), (w, horizon)], fill=mix(floor, (0, 0, 0), 0.2), width=2)
    colours = _palette(rng)
    if rng.random() < 0.4:  # a projection on the wall
        draw.rectangle((w * .2, h * .12, w * .8, h * .5), fill=(24, 24, 28))
        _canvas(base, rng, (w * .22, h * .14, w * .78, h * .48), colours, (24, 24, 28),
                rng.choice(("circles", "horizon")))
    for _ in range(rng.randint(2, 5)):  # objects on the floor
        x, s = rng.uniform(w * .1, w * .85), rng.uniform(30, 110)
        y = rng.uniform(horizon + 20, h * 0.92)
        _volumes(draw, rng, x, y, s, rng.choice(colours))
    return base
