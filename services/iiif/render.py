"""Carry out a `Plan` (services/iiif/image.py) on a Pillow image: region, size, rotation, quality, format.

Pure. The source is the caller's tier's image (upright, RGB or L, see services/iiif/cache.py),
which may have fewer pixels than the full image: the region is mapped from full-image coordinates
into the source's grid (fractional box, so no rounding drift) and resampled from there, in the
order the specification gives (4.6): region, then size, then mirroring and rotation, then quality.
"""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from services.iiif.image import Format, Limits, Plan, Quality, Rotation

JPEG_QUALITY = 85  # as ingestion's derivatives
WEBP_QUALITY = 80
ALPHA_FORMATS = frozenset({Format.PNG, Format.WEBP, Format.GIF, Format.TIF})
BITONAL_THRESHOLD = 128
_QUARTER_TURNS = {90.0: Image.Transpose.ROTATE_270, 180.0: Image.Transpose.ROTATE_180,
                  270.0: Image.Transpose.ROTATE_90}  # Pillow turns counter-clockwise; IIIF clockwise


def source_box(plan: Plan, limits: Limits, source: tuple[int, int]) -> tuple[float, float, float, float]:
    """The region as a box in the source's pixels."""
    fx, fy = source[0] / limits.width, source[1] / limits.height
    r = plan.region
    return r.x * fx, r.y * fy, (r.x + r.w) * fx, (r.y + r.h) * fy


def scale(source: Image.Image, box: tuple[float, float, float, float], size: tuple[int, int]) -> Image.Image:
    if all(v == int(v) for v in box) and (box[2] - box[0], box[3] - box[1]) == size:
        return source.crop(box)  # a tile at full resolution: no resampling at all
    # reducing_gap box-filters most of a large reduction first: much faster, no visible loss
    return source.resize(size, Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)


def rotate(im: Image.Image, rotation: Rotation, *, transparent: bool) -> Image.Image:
    if rotation.mirror:
        im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if rotation.degrees == 0:
        return im
    if turn := _QUARTER_TURNS.get(rotation.degrees):
        return im.transpose(turn)
    # The corners the turn uncovers are transparent where the format allows it (4.3), white otherwise.
    if transparent:
        im = im.convert("LA" if im.mode in ("L", "LA") else "RGBA")
        fill: Any = (0, 0) if im.mode == "LA" else (0, 0, 0, 0)
    else:
        fill = 255 if im.mode == "L" else (255, 255, 255)
    return im.rotate(-rotation.degrees, Image.Resampling.BICUBIC, expand=True, fillcolor=fill)


def _on_white(im: Image.Image) -> Image.Image:
    if im.mode not in ("LA", "RGBA"):
        return im
    flat = Image.new(im.mode[:-1], im.size, 255 if im.mode == "LA" else (255, 255, 255))
    flat.paste(im.convert(im.mode[:-1]), mask=im.getchannel("A"))
    return flat


def apply_quality(im: Image.Image, quality: Quality) -> Image.Image:
    alpha = im.mode in ("LA", "RGBA")
    if quality is Quality.COLOR and im.mode in ("L", "LA"):
        return im.convert("RGBA" if alpha else "RGB")
    if quality is Quality.GRAY and im.mode in ("RGB", "RGBA"):
        return im.convert("LA" if alpha else "L")
    if quality is Quality.BITONAL:
        gray = _on_white(im).convert("L")
        return gray.point(lambda v: 255 if v >= BITONAL_THRESHOLD else 0, mode="1")
    return im


def encode(im: Image.Image, fmt: Format) -> bytes:
    out = io.BytesIO()
    if fmt is Format.JPG:
        _on_white(im).save(out, "JPEG", quality=JPEG_QUALITY)
    elif fmt is Format.PNG:
        im.save(out, "PNG")
    elif fmt is Format.WEBP:
        (im.convert("L") if im.mode == "1" else im).save(out, "WEBP", quality=WEBP_QUALITY)
    elif fmt is Format.GIF:
        im.save(out, "GIF")
    else:
        im.save(out, "TIFF", compression="tiff_lzw")
    return out.getvalue()


def render(source: Image.Image, plan: Plan, limits: Limits) -> bytes:
    """The response body of `plan`, made from `source` (the caller's tier's image)."""
    im = scale(source, source_box(plan, limits, source.size), (plan.width, plan.height))
    im = rotate(im, plan.rotation, transparent=plan.format in ALPHA_FORMATS)
    return encode(apply_quality(im, plan.quality), plan.format)
