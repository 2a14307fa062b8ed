"""The image dev set: several photographs of each object, for same-object image search (tests/bench/quality_images.py).

Licence: CC0 1.0. Every picture is our own procedural rendering (samples/_vessels.py, samples/_objects.py
through `samples.images.render`); nothing is copied from a collection. The generator is committed, the
pictures are not: `build(folder)` writes them (deterministically: the same code gives the same files)
into a git-ignored folder, by default `.cache/devsets/object-views`.

Each object is drawn once as a cut-out (the renderer run twice, over black and over white, recovers
its colours and its alpha, drop shadow included); every view composites that cut-out anew (the views
other than `main` at 1200 × 900):

- `main`: the museum's photograph, on the renderer's own backdrop, 2000 × 1500 JPEG (q 92). This is the
  view a record holds (its `images`).
- `turned`: rotated 6–15°, scaled 0.8–1.15 and shifted, on a backdrop of another tone; the pixels are
  stored a quarter-turn round with EXIF Orientation 6 (8 or 3 for some), as a phone camera does.
- `relit`: a colour cast, another exposure and contrast, on a textured cloth or wood backdrop, JPEG.
- `cutout`: a PNG with transparency, the object alone cropped to its outline (a catalogue cut-out).
- `recompressed`: a close crop (the object partly cut), 640 px, JPEG re-compressed at quality 30 twice.
- `angle`: another viewpoint, imitated by a perspective warp (keystone, squeeze) and, for half of
  them, the object seen from the other side (mirrored), on a plain backdrop.

Distractors are objects with only a `main` view: indexed, never asked for. Object ids are
`objview-NNN` (queried) and `objview-dNNN` (distractors); kinds cycle over the renderer's vessels and
a few flat objects, with no titles, so the seeded generator picks shape, glaze and decoration.
"""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

from samples import _objects, _vessels
from samples import images as renders
from samples._paint import backdrop

SIZE = (2000, 1500)  # the museum's photograph (main): larger than the 1600 px preview, as originals are
VIEW_SIZE = (1200, 900)  # the other views: a visitor's photo, resized for upload
QUERY_VIEWS = ("turned", "relit", "cutout", "recompressed", "angle")
VIEWS = ("main", *QUERY_VIEWS)
KINDS = ("porcelain", "bronze", "jade", "pottery", "lacquer", "gold-silver", "enamel", "glass", "iron",
         "coin", "seal", "scholar")
DEFAULT_FOLDER = Path(".cache/devsets/object-views")


@dataclass(frozen=True)
class ObjectViews:
    object_id: str
    kind: str
    files: dict[str, Path]  # view → file


def _rng(*parts: str) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:8], "big"))


@contextmanager
def _keyed_backdrop(key: tuple[int, int, int], real: list[Image.Image]) -> Iterator[None]:
    """Renderers draw onto a plain `key` colour; the backdrop they would have drawn (same rng draws) goes to `real`.

    The renderers take `backdrop` from samples._paint by name, so it is swapped in their modules for the
    duration (single-threaded generator)."""
    def keyed(size: tuple[int, int], rng: random.Random, dark: bool | None = None) -> Image.Image:
        real.append(backdrop(size, rng, dark))
        return Image.new("RGB", size, key)

    saved = _vessels.backdrop, _objects.backdrop
    _vessels.backdrop = _objects.backdrop = keyed  # type: ignore[assignment]
    try:
        yield
    finally:
        _vessels.backdrop, _objects.backdrop = saved


def cutout(object_id: str, kind: str, size: tuple[int, int] = SIZE) -> tuple[Image.Image, Image.Image]:
    """The object as RGBA (colour and coverage recovered by difference matting) and its own backdrop."""
    real: list[Image.Image] = []
    with _keyed_backdrop((0, 0, 0), real):
        on_black = np.asarray(renders.render(object_id, kind, None, size), np.float32)
    with _keyed_backdrop((255, 255, 255), []):
        on_white = np.asarray(renders.render(object_id, kind, None, size), np.float32)
    alpha = np.clip(1 - (on_white - on_black).mean(axis=2) / 255, 0, 1)
    colour = np.clip(on_black / np.maximum(alpha, 1e-3)[:, :, None], 0, 255)
    rgba = np.dstack([colour, alpha * 255]).round().astype(np.uint8)
    return Image.fromarray(rgba, "RGBA"), real[0] if real else Image.new("RGB", size, (200, 198, 192))


def _over(obj: Image.Image, ground: Image.Image) -> Image.Image:
    out = ground.convert("RGB").copy()
    out.paste(obj, (0, 0), obj)
    return out


def _place(obj: Image.Image, rng: random.Random, angle: float, zoom: float) -> Image.Image:
    """The cut-out rotated about its centre, scaled and shifted, on a transparent canvas of the same size."""
    w, h = obj.size
    turned = obj.rotate(angle, Image.Resampling.BICUBIC, expand=False)
    scaled = turned.resize((round(w * zoom), round(h * zoom)), Image.Resampling.LANCZOS)
    canvas = Image.new("RGBA", obj.size, (0, 0, 0, 0))
    dx = round((w - scaled.width) / 2 + rng.uniform(-0.08, 0.08) * w)
    dy = round((h - scaled.height) / 2 + rng.uniform(-0.05, 0.05) * h)
    canvas.alpha_composite(scaled, (max(dx, 0), max(dy, 0)), (max(-dx, 0), max(-dy, 0)))
    return canvas


def _texture(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A cloth (noise) or wood (stretched streaks) backdrop in a random tone."""
    w, h = size
    np_rng = np.random.default_rng(rng.getrandbits(32))
    tone = np.array([rng.randint(60, 220) for _ in range(3)], np.float32)
    if rng.random() < 0.5:
        noise = np_rng.normal(0, 1, (h // 4, w // 4)).astype(np.float32)
        grain = np.asarray(Image.fromarray(noise).resize(size, Image.Resampling.BICUBIC))
    else:
        streaks = np_rng.normal(0, 1, (h // 2, 8)).astype(np.float32)
        grain = np.asarray(Image.fromarray(streaks).resize(size, Image.Resampling.BICUBIC))
    pixels = np.clip(tone[None, None, :] * (1 + 0.12 * grain[:, :, None]), 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def _jpeg(image: Image.Image, quality: int, exif: bytes | None = None) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality, **({"exif": exif} if exif else {}))
    return out.getvalue()


def _turned(obj: Image.Image, ground: Image.Image, rng: random.Random) -> bytes:
    angle = rng.choice((-1, 1)) * rng.uniform(6, 15)
    shot = _over(_place(obj, rng, angle, rng.uniform(0.8, 1.15)), ImageEnhance.Brightness(ground).enhance(
        rng.uniform(0.6, 1.3)))
    # Stored sideways with the orientation a camera writes; a viewer (and Wenyuan) turns it upright.
    orientation, stored = rng.choice(((6, Image.Transpose.ROTATE_90), (8, Image.Transpose.ROTATE_270),
                                      (3, Image.Transpose.ROTATE_180)))
    exif = Image.Exif()
    exif[0x0112] = orientation
    return _jpeg(shot.transpose(stored), 88, exif.tobytes())


def _relit(obj: Image.Image, rng: random.Random) -> bytes:
    shot = _over(_place(obj, rng, rng.uniform(-3, 3), rng.uniform(0.9, 1.05)), _texture(obj.size, rng))
    cast = np.array([rng.uniform(0.82, 1.18) for _ in range(3)], np.float32)
    pixels = np.clip(np.asarray(shot, np.float32) * cast, 0, 255).astype(np.uint8)
    shot = ImageEnhance.Contrast(Image.fromarray(pixels)).enhance(rng.uniform(0.75, 1.25))
    return _jpeg(ImageEnhance.Brightness(shot).enhance(rng.uniform(0.75, 1.2)), 85)


def _cutout_png(obj: Image.Image) -> bytes:
    box = obj.getchannel("A").point(lambda a: 255 if a > 8 else 0).getbbox() or (0, 0, *obj.size)
    margin = 24
    crop = obj.crop((max(box[0] - margin, 0), max(box[1] - margin, 0), min(box[2] + margin, obj.width),
                     min(box[3] + margin, obj.height)))
    out = io.BytesIO()
    crop.save(out, "PNG")
    return out.getvalue()


def _recompressed(main: Image.Image, rng: random.Random) -> bytes:
    w, h = main.size
    zoom = rng.uniform(1.3, 1.6)
    cw, ch = w / zoom, h / zoom
    x0, y0 = rng.uniform(0, w - cw), rng.uniform(h * 0.05, h - ch)
    close = main.resize((640, 480), Image.Resampling.LANCZOS, box=(x0, y0, x0 + cw, y0 + ch))
    once = Image.open(io.BytesIO(_jpeg(close, 30)))
    return _jpeg(once, 30)


def _angle(obj: Image.Image, rng: random.Random) -> bytes:
    w, h = obj.size
    side = obj.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if rng.random() < 0.5 else obj
    squeeze, tilt = rng.uniform(0.0, 0.12) * w, rng.uniform(-0.08, 0.08) * h
    # PERSPECTIVE maps output → input: the top edge is narrowed (seen from above or below) and skewed.
    quad = (-squeeze, tilt, 0, h, w, h, w + squeeze, -tilt)  # source corners: UL, LL, LR, UR
    warped = side.transform((w, h), Image.Transform.QUAD, quad, Image.Resampling.BICUBIC)
    tone = rng.randint(30, 235)
    shot = _over(warped, Image.new("RGB", (w, h), (tone, tone, min(255, tone + 6))))
    return _jpeg(shot.filter(ImageFilter.GaussianBlur(rng.uniform(0, 1.2))), 85)


def views_of(object_id: str, kind: str, queried: bool = True) -> dict[str, bytes]:
    """The file bytes of every view of one object (only `main` for a distractor)."""
    big, big_ground = cutout(object_id, kind)
    out = {"main": _jpeg(_over(big, big_ground), 92)}
    if queried:
        obj, ground = big.resize(VIEW_SIZE, Image.Resampling.LANCZOS), big_ground.resize(VIEW_SIZE)
        main = _over(obj, ground)
        rng = _rng(object_id, "views")
        out |= {"turned": _turned(obj, _texture_free_ground(ground, rng), rng), "relit": _relit(obj, rng),
                "cutout": _cutout_png(obj), "recompressed": _recompressed(main, rng), "angle": _angle(obj, rng)}
    return out


def _texture_free_ground(ground: Image.Image, rng: random.Random) -> Image.Image:
    """The object's own backdrop in another tone (a different room, the same studio paper)."""
    return ImageEnhance.Color(ground).enhance(rng.uniform(0.5, 1.5)).rotate(180)


SUFFIX = {"cutout": ".png"}


def code_version() -> str:
    """What the pictures depend on: the renderers' code (and Pillow's version) and this module."""
    digest = hashlib.sha256(renders._code_version().encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:12]


def build(folder: Path = DEFAULT_FOLDER, objects: int = 64, distractors: int = 136) -> list[ObjectViews]:
    """Write the dev set under `folder`/<code version> (a file already there is kept: same code, same bytes)."""
    folder = folder / code_version()
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    specs = [(f"objview-{i:03d}", KINDS[i % len(KINDS)], True) for i in range(objects)]
    specs += [(f"objview-d{i:03d}", KINDS[(i * 5 + 1) % len(KINDS)], False) for i in range(distractors)]
    for object_id, kind, queried in specs:
        names = VIEWS if queried else ("main",)
        files = {v: folder / f"{object_id}.{v}{SUFFIX.get(v, '.jpg')}" for v in names}
        if not all(p.exists() for p in files.values()):
            for view, data in views_of(object_id, kind, queried).items():
                files[view].write_bytes(data)
        out.append(ObjectViews(object_id, kind, files))
    return out
