"""Pixels for the image encoders: the one preprocessing that ingestion and image search share.

Two steps, both used by every path that turns a picture into a vector:

- `viewable(image)`: what a viewer sees — EXIF orientation applied, 16-bit samples scaled (not
  clipped), transparency flattened onto **white**, an embedded colour profile converted to sRGB,
  8-bit RGB out. Ingestion's derivatives are made by this very function (services/ingest/media.py),
  and `POST /v1/search/image` decodes uploads with it, so the file a museum ingested and the same
  file uploaded as a query reach the model as the same picture (an RGB derivative passes through
  unchanged).
- `model_input(images, fit, scaling)`: a `viewable` picture → the network's input tensor(s): the
  picture fitted into the square input (`Fit`) and its samples scaled (`Scaling`).
  The choice of fit and scaling is the encoder's (indexing/encoders/efficientnet.py), measured in
  tests/bench/quality_images.py; the alternatives stay here so the harness can compare them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from enum import StrEnum
from functools import cache
from io import BytesIO
from typing import Any

import numpy as np
from PIL import Image, ImageCms, ImageOps

log = logging.getLogger(__name__)

SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})
ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
GREY = (127, 127, 127)  # the letter-box colour: what (x - 127) / 128 maps to 0

Pixels = np.ndarray[Any, np.dtype[np.float32]]


class Fit(StrEnum):
    LETTERBOX = "letterbox"  # the whole picture, scaled to fit, padded onto grey
    CROP = "crop"  # the centre square, scaled to the input
    MULTI_CROP = "multicrop"  # three squares along the long side (start, centre, end), vectors averaged


class Scaling(StrEnum):
    TF = "tf"  # (x - 127) / 128, EfficientNet-Lite's TensorFlow reference
    IMAGENET = "imagenet"  # (x / 255 - mean) / std with ImageNet's channel statistics


CROPS = {Fit.LETTERBOX: 1, Fit.CROP: 1, Fit.MULTI_CROP: 3}
_IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32) * 255
_IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32) * 255


def upright(image: Image.Image) -> Image.Image:
    """The picture turned as its EXIF orientation says (unchanged when it has none or it is unreadable)."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # EXIF is a courtesy: a malformed block must not stop an otherwise sound image
        log.warning("ignoring unreadable EXIF orientation", extra={"file": getattr(image, "filename", "")})
        return image.copy()


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit sRGB as a viewer would see it: transparency flattened onto white, embedded colour profile applied."""
    icc_profile = image.info.get("icc_profile") if image.mode in ("RGB", "RGBA", "CMYK") else None
    if image.mode in SIXTEEN_BIT_MODES:
        # Pillow's convert() clips 16-bit samples at 255, which turns a scan almost white; scale them instead.
        image = image.convert("I").point(lambda value: value * (1 / 257), "L")
    if image.mode in ALPHA_MODES or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.new("RGB", image.size, "white")
        image.paste(rgba, mask=rgba.getchannel("A"))
    if icc_profile:
        try:
            source = ImageCms.ImageCmsProfile(BytesIO(icc_profile))
            converted = ImageCms.profileToProfile(image, source, _srgb_profile(), outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            log.warning("ignoring unusable ICC profile", extra={"mode": image.mode})
        else:
            if converted is not None:
                return converted
    return image if image.mode == "RGB" else image.convert("RGB")


def viewable(image: Image.Image) -> Image.Image:
    """Upright 8-bit sRGB, transparency on white: the picture as ingestion's derivatives show it."""
    return to_rgb(upright(image))


@cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def squares(image: Image.Image, fit: Fit, px: int) -> list[Image.Image]:
    """The px × px picture(s) the network sees of one RGB image (CROPS[fit] of them)."""
    if fit is Fit.LETTERBOX:
        return [ImageOps.pad(image, (px, px), Image.Resampling.BICUBIC, color=GREY)]
    if fit is Fit.CROP:
        return [ImageOps.fit(image, (px, px), Image.Resampling.BICUBIC)]
    w, h = image.size
    side = min(w, h)
    if w >= h:
        boxes = [(x, 0, x + side, side) for x in (0, (w - side) // 2, w - side)]
    else:
        boxes = [(0, y, side, y + side) for y in (0, (h - side) // 2, h - side)]
    return [image.resize((px, px), Image.Resampling.BICUBIC, box=box) for box in boxes]


def scale(rgb: np.ndarray[Any, Any], scaling: Scaling) -> Pixels:
    """uint8 (h, w, 3) → float32 (3, h, w) as the network expects."""
    x = np.asarray(rgb, dtype=np.float32)
    x = (x - 127.0) / 128.0 if scaling is Scaling.TF else (x - _IMAGENET_MEAN) / _IMAGENET_STD
    return np.ascontiguousarray(x.transpose(2, 0, 1), dtype=np.float32)


def model_input(images: Sequence[Image.Image], fit: Fit, scaling: Scaling, px: int) -> Pixels:
    """Pictures (any mode) → float32 (n × CROPS[fit], 3, px, px): `viewable`, fitted, scaled."""
    out = np.empty((len(images) * CROPS[fit], 3, px, px), dtype=np.float32)
    i = 0
    for image in images:
        for square in squares(viewable(image), fit, px):
            out[i] = scale(np.asarray(square), scaling)
            i += 1
    return out
