"""Stand-ins for Chinese objects other than vessels: paintings, calligraphy, rubbings, books,
oracle bones, coins, seals, textiles, figures, furniture and scholar's implements.

Texts are taken from the title where it quotes an inscription (“开元通宝”), otherwise from the
public-domain 千字文, so every picture with writing shows real Chinese characters.
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
    blob,
    cylinder_shading,
    drop_shadow,
    font,
    jitter,
    mix,
    passage,
    paste_shaded,
    seal_mark,
    smooth_walk,
    vertical_gradient,
    vertical_text,
)

PAPER = (232, 220, 192)
SILK = (214, 196, 160)
INK = (28, 26, 24)
SEAL_RED = (178, 34, 30)
COIN_TEXTS = ("开元通宝", "五铢", "半两", "崇宁重宝", "乾隆通宝", "洪武通宝", "大观通宝", "货泉")
SEAL_TEXTS = ("日利", "长乐未央", "宜子孙", "千秋万岁", "敬事", "大吉", "宜身至前", "长宜子孙")


def quoted(title: str | None) -> str | None:
    """Chinese text inside quotes in the title (“…”, 「…」, "…"), e.g. a coin or seal inscription."""
    if title:
        m = re.search(r"[“「\"']([\u4e00-\u9fff]{1,8})[”」\"']", title)
        if m:
            return m.group(1)
    return None


def _panel(base: Image.Image, box: tuple[float, float, float, float], mount: Colour, paper: Colour,
           border: float) -> tuple[float, float, float, float]:
    """A mounted panel (silk mount around paper); returns the paper's box."""
    draw = ImageDraw.Draw(base)
    x0, y0, x1, y1 = box
    drop_shadow(base, (x0 + 6, y1 - 6, x1 + 10, y1 + 14), strength=50)
    draw.rectangle(box, fill=mount)
    inner = (x0 + border, y0 + border * 1.6, x1 - border, y1 - border * 1.6)
    draw.rectangle(inner, fill=paper)
    return inner


def render_painting(rng: random.Random, size: tuple[int, int], title: str | None, back: bool = False) -> Image.Image:
    w, h = size
    base = vertical_gradient(size, jitter(rng, (226, 222, 214), 6), jitter(rng, (200, 196, 188), 6))
    hanging = rng.random() < 0.55
    if hanging:
        pw = h * rng.uniform(0.42, 0.52)
        box = (w / 2 - pw / 2, h * 0.03, w / 2 + pw / 2, h * 0.97)
    else:
        box = (w * 0.04, h * 0.22, w * 0.96, h * 0.78)
    mount = jitter(rng, rng.choice([(132, 116, 84), (96, 108, 98), (150, 134, 100)]), 8)
    paper = jitter(rng, rng.choice([PAPER, SILK]), 6)
    inner = _panel(base, box, mount, paper, (box[2] - box[0]) * 0.06)
    x0, y0, x1, y1 = inner
    art = Image.new("RGBA", (int(x1 - x0), int(y1 - y0)), (*paper, 255))
    colour = rng.random() < 0.5
    subject = "landscape"
    if title and re.search(r"竹|bamboo", title, re.I):
        subject = "bamboo"
    elif title and re.search(r"花|鸟|flower|bird", title, re.I):
        subject = "flowers"
    {"landscape": _landscape, "bamboo": _bamboo, "flowers": _flowers}[subject](art, rng, colour)
    d = ImageDraw.Draw(art)
    aw, ah = art.size
    size_text = max(10, int(min(aw, ah) * 0.045))
    text = passage(rng, rng.randint(5, 9))
    vertical_text(d, aw * 0.9, ah * 0.06, text, size_text, (*INK, 230))
    seal_mark(d, aw * 0.9 - size_text * 0.6, ah * 0.06 + len(text) * size_text * 1.2, int(size_text * 1.3),
              passage(rng, 2))
    base.paste(art.convert("RGB"), (int(x0), int(y0)))
    if back:
        base = base.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return base


def _landscape(art: Image.Image, rng: random.Random, colour: bool) -> None:
    w, h = art.size
    layer = ImageDraw.Draw(art, "RGBA")
    tones = [(40, 40, 38), (70, 72, 68), (110, 112, 106)]
    greens = [(62, 98, 86), (96, 128, 104), (150, 160, 120)]
    for k in range(3):  # far ridges first
        base_y = h * (0.35 + 0.2 * k) if w > h else h * (0.3 + 0.18 * k)
        ridge = smooth_walk(rng, 48, h * 0.05, smooth=3)
        xs = np.linspace(0, w, 48)
        peak = rng.uniform(0.2, 0.8)
        pts = [(x, base_y + r - h * 0.25 * math.exp(-((x / w - peak) ** 2) / 0.03)) for x, r in zip(xs, ridge,
                                                                                                  strict=True)]
        fill = (greens if colour else tones)[2 - k]
        layer.polygon([*pts, (w, h), (0, h)], fill=(*fill, 120 + 40 * k))
    water_y = h * rng.uniform(0.72, 0.82)
    layer.rectangle((0, water_y, w, h), fill=(*art.getpixel((1, 1))[:3], 230))  # type: ignore[index]
    for i in range(6):
        y = water_y + (h - water_y) * (i + 1) / 8
        layer.line([(w * rng.uniform(0, .3), y), (w * rng.uniform(.4, .9), y)], fill=(90, 90, 86, 90), width=1)
    for _ in range(rng.randint(3, 6)):  # trees
        tx, ty = rng.uniform(0.05, 0.6) * w, water_y - rng.uniform(0, h * 0.05)
        th = h * rng.uniform(0.08, 0.16)
        layer.line([(tx, ty), (tx + rng.uniform(-4, 4), ty - th)], fill=(40, 34, 30, 230), width=max(2, w // 150))
        for _ in range(6):
            fx, fy = tx + rng.uniform(-th * .3, th * .3), ty - th + rng.uniform(-th * .2, th * .3)
            r = th * 0.12
            layer.ellipse((fx - r, fy - r, fx + r, fy + r), fill=(30, 50, 36, 150) if colour else (30, 30, 28, 150))
    px, py = rng.uniform(0.2, 0.7) * w, water_y - h * 0.02  # a pavilion
    s = max(8, w / 30)
    layer.polygon([(px - s, py - s * .8), (px + s, py - s * .8), (px, py - s * 1.4)], fill=(60, 50, 44, 220))
    layer.rectangle((px - s * .7, py - s * .8, px + s * .7, py), outline=(60, 50, 44, 220), width=2)


def _bamboo(art: Image.Image, rng: random.Random, colour: bool) -> None:
    w, h = art.size
    d = ImageDraw.Draw(art, "RGBA")
    ink = (34, 60, 40) if colour else (30, 30, 28)
    for _ in range(rng.randint(2, 4)):
        x = rng.uniform(0.15, 0.75) * w
        lean = rng.uniform(-0.15, 0.15) * w
        d.line([(x, h), (x + lean, 0)], fill=(*ink, 200), width=max(3, w // 60))
        for k in range(1, 6):  # nodes
            t = k / 6
            nx, ny = x + lean * t, h * (1 - t)
            d.line([(nx - w / 70, ny), (nx + w / 70, ny)], fill=(*ink, 255), width=2)
        for _ in range(10):  # leaves
            t = rng.uniform(0.2, 0.9)
            lx, ly = x + lean * t, h * (1 - t)
            a = rng.uniform(-2.6, -0.4)
            ln = w * rng.uniform(0.08, 0.16)
            tipx, tipy = lx + ln * math.cos(a) * rng.choice((-1, 1)), ly + ln * math.sin(a) * -0.4 + ln * 0.3
            d.polygon([(lx, ly), ((lx + tipx) / 2, (ly + tipy) / 2 - ln * .08), (tipx, tipy),
                       ((lx + tipx) / 2, (ly + tipy) / 2 + ln * .06)], fill=(*ink, rng.randint(140, 230)))


def _flowers(art: Image.Image, rng: random.Random, colour: bool) -> None:
    w, h = art.size
    d = ImageDraw.Draw(art, "RGBA")
    pts = [(w * 0.05, h * 0.9)]
    for _ in range(6):
        x, y = pts[-1]
        pts.append((x + w * rng.uniform(0.08, 0.18), y - h * rng.uniform(0.05, 0.15)))
    d.line(pts, fill=(60, 46, 36, 230), width=max(3, w // 70))
    petal = (214, 92, 120) if colour else (80, 80, 76)
    for x, y in pts[2:]:
        for k in range(5):
            a = k * math.tau / 5
            r = w * 0.025
            px, py = x + r * math.cos(a), y + r * math.sin(a)
            d.ellipse((px - r, py - r, px + r, py + r),
                      fill=(*petal, 190))
        d.ellipse((x - 4, y - 4, x + 4, y + 4), fill=(230, 190, 60, 255))
    bx, by = pts[3]  # a bird on the branch
    s = w * 0.06
    body = (70, 80, 110) if colour else (40, 40, 38)
    d.ellipse((bx - s, by - s * 1.4, bx + s * .6, by - s * .4), fill=(*body, 240))
    d.ellipse((bx + s * .2, by - s * 1.7, bx + s * .9, by - s * 1.0), fill=(*body, 240))
    d.polygon([(bx - s, by - s * .9), (bx - s * 2.2, by - s * .3), (bx - s * .8, by - s * .6)], fill=(*body, 240))
    d.polygon([(bx + s * .9, by - s * 1.4), (bx + s * 1.3, by - s * 1.3), (bx + s * .9, by - s * 1.2)],
              fill=(200, 150, 40, 255))


def render_calligraphy(rng: random.Random, size: tuple[int, int], title: str | None, back: bool = False,
                       rubbing: bool = False) -> Image.Image:
    w, h = size
    base = vertical_gradient(size, jitter(rng, (222, 218, 210), 6), jitter(rng, (196, 192, 184), 6))
    couplet = bool(title and re.search(r"对联|联|couplet", title, re.I)) and not rubbing
    if rubbing:
        box = (w * 0.12, h * 0.05, w * 0.88, h * 0.95)
        ink_colour = (236, 232, 222)
        draw = ImageDraw.Draw(base)
        drop_shadow(base, (box[0] + 8, box[3] - 6, box[2] + 10, box[3] + 14), strength=50)
        draw.rectangle(box, fill=(238, 232, 216))
        inner = (box[0] + 14, box[1] + 14, box[2] - 14, box[3] - 14)
        draw.rectangle(inner, fill=(26, 25, 24))
        for _ in range(14):  # uneven inking
            cx, cy = rng.uniform(inner[0], inner[2]), rng.uniform(inner[1], inner[3])
            r = rng.uniform(20, 60)
            draw.ellipse((cx - r, cy - r * .7, cx + r, cy + r * .7), fill=jitter(rng, (44, 43, 41), 6))
        panels = [inner]
    elif couplet:
        pw = w * 0.14
        panels = [_panel(base, (x, h * 0.03, x + pw, h * 0.97), (150, 40, 36), jitter(rng, (196, 48, 40), 6), pw * .1)
                  for x in (w * 0.62, w * 0.24)]
        ink_colour = INK
    else:
        wide = rng.random() < 0.5
        box = (w * 0.05, h * 0.12, w * 0.95, h * 0.88) if wide else (w * 0.3, h * 0.03, w * 0.7, h * 0.97)
        paper = jitter(rng, PAPER, 6)
        panels = [_panel(base, box, jitter(rng, (140, 124, 92), 8), paper, (box[2] - box[0]) * .05)]
        ink_colour = INK
    draw = ImageDraw.Draw(base)
    for k, (x0, y0, x1, y1) in enumerate(panels):
        pw, ph = x1 - x0, y1 - y0
        if couplet:
            cols, per = 1, 7
        else:
            cols = max(2, int(pw / (ph / 7)))
            per = max(4, int(ph / (pw / cols)) - 1)
        cell = min(pw / cols, ph / (per + 1))
        fsize = int(cell * 0.78)
        text = passage(rng, cols * per)
        for c in range(cols):  # columns right to left
            cx = x1 - pw / cols * (c + 0.5)
            col = text[c * per:(c + 1) * per]
            if rubbing:
                for i in range(per):
                    cy = y0 + cell * 0.6 + i * ph / (per + 0.2)
                    draw.rectangle((cx - cell / 2, cy - cell / 2, cx + cell / 2, cy + cell / 2), outline=(60, 58, 54))
            vertical_text(draw, cx, y0 + cell * 0.2, col, fsize, ink_colour, spacing=ph / (per + 0.2) / fsize)
        if rubbing:
            for _ in range(rng.randint(3, 6)):  # worn patches
                cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
                r = rng.uniform(8, 22)
                draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=jitter(rng, (52, 50, 48), 6))
        elif k == len(panels) - 1:
            seal_mark(draw, x0 + pw * 0.08, y1 - cell * 1.4, int(cell * 0.9), passage(rng, 4))
    if back:
        base = base.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return base


def render_rubbing(rng: random.Random, size: tuple[int, int], title: str | None, back: bool = False) -> Image.Image:
    return render_calligraphy(rng, size, title, back, rubbing=True)


def render_book(rng: random.Random, size: tuple[int, int], title: str | None, back: bool = False) -> Image.Image:
    """An open woodblock-printed book: two half-leaves with a frame, column rules and fish-tails."""
    w, h = size
    base = backdrop(size, rng, dark=True)
    draw = ImageDraw.Draw(base)
    paper = jitter(rng, (226, 210, 172), 8)
    box = (w * 0.06, h * 0.1, w * 0.94, h * 0.9)
    drop_shadow(base, (box[0], box[3] - 10, box[2], box[3] + 16))
    draw.rectangle(box, fill=paper)
    draw.line([(w / 2, box[1]), (w / 2, box[3])], fill=mix(paper, INK, 0.3), width=2)
    name = re.sub(r"[^\u4e00-\u9fff]", "", title or "")[:6] or passage(rng, 4)
    for half in (0, 1):
        x0 = box[0] + (w / 2 - box[0]) * 0.08 + half * (w / 2 - box[0])
        x1 = x0 + (w / 2 - box[0]) * 0.84
        y0, y1 = box[1] + h * 0.06, box[3] - h * 0.06
        draw.rectangle((x0, y0, x1, y1), outline=INK, width=3)
        draw.rectangle((x0 + 5, y0 + 5, x1 - 5, y1 - 5), outline=INK, width=1)
        cols = 8
        colw = (x1 - x0) / cols
        fsize = int(colw * 0.7)
        per = int((y1 - y0 - 10) / (fsize * 1.12))
        for c in range(cols):
            cx = x1 - colw * (c + 0.5)
            if c:
                draw.line([(x1 - colw * c, y0 + 5), (x1 - colw * c, y1 - 5)], fill=mix(paper, INK, 0.5), width=1)
            vertical_text(draw, cx, y0 + 8, passage(rng, per - rng.randint(0, per // 2)), fsize, INK, spacing=1.12)
        # the folded centre column (版心) with a fish-tail (鱼尾) and the book's name
        fx = x1 if half == 0 else x0
        draw.polygon([(fx - 10, y0 + 40), (fx + 10, y0 + 40), (fx + 10, y0 + 56), (fx, y0 + 48), (fx - 10, y0 + 56)],
                     fill=INK)
    vertical_text(draw, w / 2, box[1] + h * 0.2, name, max(10, int(w / 55)), INK)
    return base


def render_oracle_bone(rng: random.Random, size: tuple[int, int], title: str | None, back: bool = False) -> Image.Image:
    w, h = size
    base = backdrop(size, rng, dark=True)
    shell = bool(title and re.search(r"龟|甲|shell|plastron", title, re.I))
    mask = Mask(size)
    outline = blob(rng, w / 2, h / 2, w * (0.3 if shell else 0.2), h * (0.38 if shell else 0.42), rough=0.05)
    mask.polygon(outline)
    layer = Image.new("RGB", size, jitter(rng, (214, 198, 160), 10))
    draw = ImageDraw.Draw(layer)
    for _ in range(rng.randint(6, 10)):  # crack marks 卜
        cx, cy = rng.uniform(w * .35, w * .65), rng.uniform(h * .2, h * .8)
        draw.line([(cx, cy - 14), (cx, cy + 14)], fill=(96, 70, 46), width=2)
        draw.line([(cx, cy), (cx + rng.choice((-1, 1)) * 12, cy - 8)], fill=(96, 70, 46), width=2)
        draw.ellipse((cx - 6, cy - 20, cx + 6, cy - 12), fill=(120, 86, 56))
    text = passage(rng, 16)
    fsize = int(h * 0.045)
    for c in range(4):
        vertical_text(draw, w / 2 + (c - 1.5) * fsize * 1.5, h * 0.24, text[c * 4:(c + 1) * 4], fsize, (92, 62, 40))
    silhouette = mask.image()
    drop_shadow(base, (w * 0.28, h * 0.8, w * 0.72, h * 0.95), strength=60)
    paste_shaded(base, layer, silhouette)
    if back:
        base = base.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return base


def render_coin(rng: random.Random, size: tuple[int, int], title: str | None, back: bool = False) -> Image.Image:
    """A round cash coin with a square hole; the inscription reads top, bottom, right, left."""
    w, h = size
    base = backdrop(size, rng, dark=rng.random() < 0.5)
    r = min(w, h) * 0.4
    cx, cy = w / 2, h / 2
    mask = Mask(size)
    mask.ellipse((cx - r, cy - r, cx + r, cy + r))
    hole = r * 0.22
    mask.rectangle((cx - hole, cy - hole, cx + hole, cy + hole), fill=0)
    metal = jitter(rng, rng.choice([(120, 104, 62), (92, 110, 84), (140, 112, 70)]), 10)
    layer = Image.new("RGB", size, metal)
    draw = ImageDraw.Draw(layer)
    rim = mix(metal, (240, 220, 160), 0.25)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=rim, width=int(r * 0.1))
    draw.rectangle((cx - hole * 1.35, cy - hole * 1.35, cx + hole * 1.35, cy + hole * 1.35), outline=rim,
                   width=int(r * 0.07))
    for _ in range(22):  # corrosion
        px, py = cx + rng.uniform(-r, r), cy + rng.uniform(-r, r)
        s = rng.uniform(3, 12)
        draw.ellipse((px - s, py - s, px + s, py + s), fill=jitter(rng, (78, 130, 104), 12))
    if not back:
        text = quoted(title) or next((t for t in COIN_TEXTS if title and t in title), None) or rng.choice(COIN_TEXTS)
        fsize = int(r * 0.36)
        ink = mix(metal, (250, 236, 190), 0.45)
        m = r * 0.62
        spots = [(0, -m), (0, m), (m, 0), (-m, 0)] if len(text) >= 4 else [(m, 0), (-m, 0)]
        for ch, (dx, dy) in zip(text, spots, strict=False):
            draw.text((cx + dx, cy + dy), ch, font=font(fsize), fill=ink, anchor="mm")
    else:
        draw.arc((cx - r * .5, cy - r * .85, cx + r * .5, cy - r * .35), 200, 340, fill=rim, width=int(r * .05))
    silhouette = mask.image()
    drop_shadow(base, (cx - r, cy + r * .6, cx + r * 1.1, cy + r * 1.1), strength=50)
    paste_shaded(base, layer, silhouette, gloss=0.05)
    return base


def render_seal(rng: random.Random, size: tuple[int, int], title: str | None, back: bool = False) -> Image.Image:
    """A seal impression on paper: red characters (朱文) or white characters on red (白文)."""
    w, h = size
    base = vertical_gradient(size, jitter(rng, (238, 230, 212), 5), jitter(rng, (224, 214, 192), 5))
    draw = ImageDraw.Draw(base)
    text = quoted(title) or rng.choice(SEAL_TEXTS)
    text = text[:4]
    side = min(w, h) * 0.62
    x0, y0 = (w - side) / 2, (h - side) / 2
    red = jitter(rng, SEAL_RED, 10)
    white_text = rng.random() < 0.5
    if white_text:
        draw.rectangle((x0, y0, x0 + side, y0 + side), fill=red)
        ink = jitter(rng, (240, 230, 212), 4)
    else:
        draw.rectangle((x0, y0, x0 + side, y0 + side), outline=red, width=int(side * 0.05))
        ink = red
    n = len(text)
    cols = 1 if n == 1 else 2
    rows = math.ceil(n / cols)
    cells = []
    for c in range(cols):  # right column first, top to bottom
        for r_ in range(rows):
            cells.append((x0 + side * (1 - (c + 0.5) / cols), y0 + side * (r_ + 0.5) / rows))
    fsize = int(side / max(rows, cols) * 0.8)
    if n == 3:  # the first character takes the whole right column
        cells = [(x0 + side * 0.75, y0 + side * 0.5), (x0 + side * 0.25, y0 + side * 0.27),
                 (x0 + side * 0.25, y0 + side * 0.73)]
    for i, (ch, (cx, cy)) in enumerate(zip(text, cells, strict=False)):
        size_i = int(fsize * (1.6 if n == 3 and i == 0 else 1)) if n != 3 else int(fsize * (1.5 if i == 0 else .95))
        draw.text((cx, cy), ch, font=font(size_i), fill=ink, anchor="mm")
    for _ in range(30):  # uneven stamping: specks of paper in the red
        px, py = x0 + rng.uniform(0, side), y0 + rng.uniform(0, side)
        s = rng.uniform(1, 4)
        draw.ellipse((px - s, py - s, px + s, py + s), fill=(236, 228, 210))
    if back:
        base = base.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return base


def render_textile(rng: random.Random, size: tuple[int, int], title: str | None, back: bool = False) -> Image.Image:
    w, h = size
    base = backdrop(size, rng, dark=False)
    indigo = bool(title and re.search(r"蓝印|indigo|resist", title, re.I))
    ground = (38, 58, 110) if indigo else jitter(rng, rng.choice([(140, 30, 36), (34, 64, 110), (196, 150, 60),
                                                                   (40, 96, 80), (120, 60, 110)]), 10)
    motifs = [(220, 180, 70), (236, 226, 200), (90, 160, 190)]
    motif = (236, 236, 228) if indigo else jitter(rng, rng.choice(motifs), 10)
    t = rng.choice((32, 40, 48))
    tile = Image.new("RGB", (t, t), ground)
    td = ImageDraw.Draw(tile)
    pattern = rng.choice(("diamond", "dots", "cloud", "lattice"))
    if pattern == "diamond":
        td.polygon([(t / 2, 4), (t - 4, t / 2), (t / 2, t - 4), (4, t / 2)], outline=motif, width=2)
    elif pattern == "dots":
        td.ellipse((t / 2 - 4, t / 2 - 4, t / 2 + 4, t / 2 + 4), fill=motif)
        td.ellipse((-3, -3, 3, 3), fill=motif)
    elif pattern == "cloud":
        td.arc((4, t / 3, t / 2, t - 4), 180, 360, fill=motif, width=2)
        td.arc((t / 2 - 4, t / 4, t - 4, t / 2 + 8), 180, 360, fill=motif, width=2)
    else:
        td.line([(0, t / 2), (t, t / 2)], fill=motif, width=2)
        td.line([(t / 2, 0), (t / 2, t)], fill=motif, width=2)
    arr = np.tile(np.asarray(tile), (h // t + 1, w // t + 1, 1))[:h, :w]
    arr[:, ::3] = (arr[:, ::3].astype(np.float32) * 0.9).astype(np.uint8)  # weave: every third thread darker
    arr[1::4, :] = (arr[1::4, :].astype(np.float32) * 0.94).astype(np.uint8)
    fabric = Image.fromarray(arr, "RGB")
    fd = ImageDraw.Draw(fabric)
    roundels = rng.randint(2, 4)
    for i in range(roundels):  # embroidered or woven roundels
        cx, cy = w * (i + 0.5) / roundels, h * rng.uniform(0.35, 0.65)
        r = min(w / roundels, h) * 0.32
        fd.ellipse((cx - r, cy - r, cx + r, cy + r), fill=mix(ground, motif, 0.2), outline=motif, width=3)
        for k in range(8):
            a = k * math.tau / 8
            px, py = cx + r * .55 * math.cos(a), cy + r * .55 * math.sin(a)
            fd.ellipse((px - r * .2, py - r * .2, px + r * .2, py + r * .2), fill=motif)
        fd.ellipse((cx - r * .25, cy - r * .25, cx + r * .25, cy + r * .25), fill=jitter(rng, (200, 60, 60), 20))
    mask = Mask(size)
    if title and re.search(r"扇|fan", title, re.I):
        mask.ellipse((w / 2 - h * .42, h * .06, w / 2 + h * .42, h * .9))
    else:
        top = smooth_walk(rng, 30, 3)
        bottom = smooth_walk(rng, 30, 3)
        xs = np.linspace(w * 0.06, w * 0.94, 30)
        mask.polygon([(x, h * 0.08 + d) for x, d in zip(xs, top, strict=True)]
                     + [(x, h * 0.92 + d) for x, d in zip(xs[::-1], bottom[::-1], strict=True)])
    silhouette = mask.image()
    drop_shadow(base, (w * .08, h * .82, w * .96, h * .98), strength=40)
    base.paste(fabric, (0, 0), silhouette)
    if back:
        base = base.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return base


def render_figure(rng: random.Random, size: tuple[int, int], title: str | None, back: bool = False) -> Image.Image:
    """A Buddhist image (seated or standing, with a mandorla, on a lotus pedestal) or a tomb figurine."""
    w, h = size
    base = backdrop(size, rng)
    material = rng.choice([(150, 146, 136), (196, 160, 72), (130, 88, 54), (210, 196, 170)])
    for pattern, colour in ((r"鎏金|gilt", (196, 160, 72)), (r"木|wood", (130, 88, 54)),
                            (r"石|stone|limestone|sandstone", (150, 146, 136)),
                            (r"陶|俑|pottery|figurine", (210, 196, 170))):
        if title and re.search(pattern, title, re.I):
            material = colour
            break
    material = jitter(rng, material, 8)
    figurine = bool(title and re.search(r"俑|figurine|tomb", title, re.I))
    seated = not figurine and (bool(title and re.search(r"坐|seated", title, re.I)) or (
        not (title and re.search(r"立|standing", title, re.I)) and rng.random() < 0.5))
    cx, top, bottom = w / 2, h * 0.05, h * 0.93
    u = bottom - top  # unit: the whole height
    fold = mix(material, (0, 0, 0), 0.3)
    if not figurine:  # mandorla behind the figure, a shade darker
        halo = Mask(size)
        halo_bottom = top + u * (0.68 if seated else 0.78)
        halo_mid, halo_r = (top + halo_bottom) / 2, (halo_bottom - top) / 2
        halo.ellipse((cx - u * .2, halo_mid - halo_r, cx + u * .2, halo_mid + halo_r))
        halo.ellipse((cx - u * .12, top + u * .03, cx + u * .12, top + u * .27))
        layer = Image.new("RGB", size, mix(material, (0, 0, 0), 0.18))
        hd = ImageDraw.Draw(layer)
        for k in range(3):
            r = u * (.1 + .07 * k)
            hd.ellipse((cx - r, top + u * .17 - r, cx + r, top + u * .17 + r), outline=fold, width=2)
        paste_shaded(base, layer, halo.image())
    mask = Mask(size)
    head_r = u * 0.055
    head_y = top + u * (0.17 if seated else 0.1)
    mask.ellipse((cx - head_r, head_y - head_r * 1.2, cx + head_r, head_y + head_r * 1.15))
    if figurine:
        mask.ellipse((cx - head_r * .8, head_y - head_r * 2.1, cx + head_r * .8, head_y - head_r * .6))  # hair
    else:
        mask.ellipse((cx - head_r * .45, head_y - head_r * 1.75, cx + head_r * .45, head_y - head_r * .85))
        for side in (-1, 1):  # long ears
            mask.ellipse((cx + side * head_r * .95 - head_r * .22, head_y - head_r * .4,
                          cx + side * head_r * .95 + head_r * .22, head_y + head_r * .8))
    neck = head_y + head_r * 1.05
    if seated:
        waist, lap = top + u * .5, top + u * .66
        mask.polygon([(cx - u * .04, neck), (cx + u * .04, neck), (cx + u * .15, neck + u * .06),
                      (cx + u * .17, neck + u * .14), (cx + u * .13, waist), (cx + u * .28, waist + u * .05),
                      (cx + u * .3, lap), (cx - u * .3, lap), (cx - u * .28, waist + u * .05), (cx - u * .13, waist),
                      (cx - u * .17, neck + u * .14), (cx - u * .15, neck + u * .06)])
        ped_y = lap
    else:
        hem = top + u * (.8 if figurine else .76)
        mask.polygon([(cx - u * .035, neck), (cx + u * .035, neck), (cx + u * .12, neck + u * .05),
                      (cx + u * .11, neck + u * .3), (cx + u * .09, hem - u * .08), (cx + u * .13, hem),
                      (cx - u * .13, hem), (cx - u * .09, hem - u * .08), (cx - u * .11, neck + u * .3),
                      (cx - u * .12, neck + u * .05)])
        if figurine:  # long sleeves
            for side in (-1, 1):
                mask.polygon([(cx + side * u * .1, neck + u * .08), (cx + side * u * .19, neck + u * .35),
                              (cx + side * u * .12, neck + u * .42)])
        else:  # one hand raised
            mask.polygon([(cx + u * .11, neck + u * .22), (cx + u * .19, neck + u * .2), (cx + u * .2, neck + u * .08),
                          (cx + u * .17, neck + u * .07), (cx + u * .15, neck + u * .17)])
        ped_y = hem
    if figurine:
        mask.rectangle((cx - u * .18, ped_y, cx + u * .18, ped_y + u * .05))
    else:
        mask.polygon([(cx - u * .33, ped_y), (cx + u * .33, ped_y), (cx + u * .25, ped_y + u * .1),
                      (cx - u * .25, ped_y + u * .1)])
        mask.rectangle((cx - u * .2, ped_y + u * .1, cx + u * .2, bottom))
    layer = Image.new("RGB", size, material)
    draw = ImageDraw.Draw(layer)
    for k in range(6):  # robe folds
        y = neck + (ped_y - neck) * (k + 1) / 7
        draw.arc((cx - u * .1, y - u * .1, cx + u * .1, y + u * .04), 20, 160, fill=fold, width=2)
    if not figurine:
        for k in range(11):  # lotus petals on the pedestal
            px = cx - u * .3 + k * u * .6 / 10
            draw.arc((px - u * .035, ped_y + u * .005, px + u * .035, ped_y + u * .12), 180, 360, fill=fold, width=2)
    elif rng.random() < 0.6:  # painted pottery: traces of pigment
        for colour in ((168, 52, 40), (70, 110, 80)):
            y = neck + rng.uniform(.05, .4) * u
            draw.rectangle((cx - u * .2, y, cx + u * .2, y + u * .05), fill=colour)
    silhouette = mask.image()
    foot = ped_y + u * .05 if figurine else bottom
    drop_shadow(base, (cx - u * .3, foot - 12, cx + u * .3, foot + 14))
    paste_shaded(base, layer, silhouette, gloss=0.1 if material[0] > 190 else 0.0)
    if back:
        base = base.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return base


def render_furniture(rng: random.Random, size: tuple[int, int], title: str | None, back: bool = False) -> Image.Image:
    w, h = size
    base = backdrop(size, rng, dark=False)
    wood = jitter(rng, rng.choice([(160, 104, 58), (70, 36, 28), (98, 44, 30)]), 8)
    if title and re.search(r"紫檀|zitan", title, re.I):
        wood = (62, 32, 26)
    elif title and re.search(r"黄花梨|huanghuali", title, re.I):
        wood = (168, 112, 62)
    piece = "chair"
    if title and re.search(r"案|桌|table", title, re.I):
        piece = "table"
    elif title and re.search(r"凳|stool", title, re.I):
        piece = "stool"
    elif title and re.search(r"柜|橱|cabinet", title, re.I):
        piece = "cabinet"
    mask = Mask(size)
    floor = h * 0.9
    th = max(6, h * 0.025)
    if piece == "table":
        x0, x1, top = w * 0.1, w * 0.9, h * 0.4
        mask.rectangle((x0 - 14, top, x1 + 14, top + th * 1.4))
        for x in (x0 + 30, x1 - 30):
            mask.polygon([(x - th, top), (x + th, top), (x + th * .8, floor), (x - th * .8, floor)])
        mask.rectangle((x0 + 30, top + th * 2, x1 - 30, top + th * 3))
    elif piece == "stool":
        x0, x1, top = w * 0.32, w * 0.68, h * 0.5
        mask.rectangle((x0 - 8, top, x1 + 8, top + th * 1.6))
        for x in (x0 + th, x1 - th):
            mask.polygon([(x - th, top), (x + th, top), (x + th * .8, floor), (x - th * .8, floor)])
        mask.rectangle((x0, floor - h * .1, x1, floor - h * .1 + th))
    elif piece == "cabinet":
        x0, x1, top = w * 0.3, w * 0.7, h * 0.08
        mask.rectangle((x0, top, x1, floor - h * .05))
        for x in (x0 + th, x1 - th):
            mask.rectangle((x - th, floor - h * .06, x + th, floor))
    else:
        x0, x1, seat = w * 0.3, w * 0.7, h * 0.55
        mask.rectangle((x0 - 6, seat, x1 + 6, seat + th * 1.6))
        for x in (x0 + th, x1 - th):
            mask.polygon([(x - th * .8, seat), (x + th * .8, seat), (x + th * .7, floor), (x - th * .7, floor)])
        mask.arc((x0 - w * .04, h * 0.1, x1 + w * .04, h * 0.9), 180, 360, th * 1.4)  # horseshoe arm and crest
        mask.rectangle((w / 2 - w * .05, h * 0.16, w / 2 + w * .05, seat))  # back splat
        mask.rectangle((x0, floor - h * .08, x1, floor - h * .08 + th))
    layer = Image.new("RGB", size, wood)
    draw = ImageDraw.Draw(layer)
    for _ in range(40):  # grain
        y = rng.uniform(0, h)
        draw.line([(0, y), (w, y + rng.uniform(-30, 30))], fill=mix(wood, (0, 0, 0), 0.18), width=1)
    if piece == "cabinet":
        draw.line([(w / 2, h * .1), (w / 2, h * .8)], fill=mix(wood, (0, 0, 0), 0.4), width=3)
        draw.rectangle((w / 2 - 22, h * .4, w / 2 + 22, h * .48), fill=(190, 160, 90))
    silhouette = mask.image()
    drop_shadow(base, (w * .15, floor - 14, w * .85, floor + 14), strength=50)
    paste_shaded(base, layer, silhouette, gloss=0.06)
    if back:
        base = base.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return base


def render_scholar(rng: random.Random, size: tuple[int, int], title: str | None, back: bool = False) -> Image.Image:
    """Scholar's implements seen from above: an inkstone with its well, or an ink cake with gilt text."""
    w, h = size
    base = backdrop(size, rng, dark=False)
    ink_cake = bool(title and re.search(r"墨|ink cake|ink stick", title, re.I)) and not re.search(
        r"砚|inkstone", title or "", re.I)
    mask = Mask(size)
    layer_colour = (24, 22, 22) if ink_cake else jitter(rng, rng.choice([(74, 58, 70), (60, 62, 64), (96, 88, 70)]), 6)
    layer = Image.new("RGB", size, layer_colour)
    draw = ImageDraw.Draw(layer)
    if ink_cake:
        bw, bh = w * 0.16, h * 0.4
        box = (w / 2 - bw, h / 2 - bh, w / 2 + bw, h / 2 + bh)
        mask.rectangle(box, radius=10)
        gold = (206, 170, 80)
        draw.rectangle((box[0] + 14, box[1] + 14, box[2] - 14, box[3] - 14), outline=gold, width=3)
        text = re.sub(r"[^\u4e00-\u9fff]", "", quoted(title) or "") or passage(rng, 4)
        vertical_text(draw, w / 2, box[1] + 40, text[:5], int(bw * 0.55), gold, spacing=1.3)
    else:
        bw, bh = w * 0.24, h * 0.38
        box = (w / 2 - bw, h / 2 - bh, w / 2 + bw, h / 2 + bh)
        mask.rectangle(box, radius=18 if rng.random() < 0.5 else bw * .5)
        flat = mix(layer_colour, (255, 255, 255), 0.1)
        draw.rounded_rectangle((box[0] + 20, box[1] + 20, box[2] - 20, box[3] - 20), radius=14, fill=flat)
        draw.ellipse((w / 2 - bw * .6, box[1] + 26, w / 2 + bw * .6, box[1] + 26 + bh * .4),
                     fill=mix(layer_colour, (0, 0, 0), 0.45))  # the ink well
        for _ in range(6):  # natural 'eyes' and veins in the stone
            px, py = rng.uniform(box[0] + 30, box[2] - 30), rng.uniform(h / 2, box[3] - 30)
            draw.ellipse((px - 6, py - 6, px + 6, py + 6), fill=mix(flat, (200, 190, 120), 0.3))
    silhouette = mask.image()
    drop_shadow(base, (box[0] + 10, box[3] - 20, box[2] + 14, box[3] + 16), strength=60)
    paste_shaded(base, layer, silhouette, shading=lambda m: cylinder_shading(m, gloss=0.05) * 0.3 + 0.75)
    if back:
        base = base.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return base
