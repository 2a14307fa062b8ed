"""IIIF Image API 3.0 requests: parse the URL's parameters, plan the output for one caller, write its canonical form.

Pure (no Pillow, no HTTP). `parse` turns `{region}/{size}/{rotation}/{quality}.{format}` into an
`ImageRequest` or raises `InvalidImageRequest` (a 400); `plan` applies it to a caller's `Limits`
and gives the `Plan` that services/iiif/render.py carries out, or raises `InvalidImageRequest` or
`BeyondLimits` (more pixels than this caller's tier serves).

Coordinates are always those of the **full image** (info.json's width and height): a request means
the same region and the same output size for every caller. What a caller's tier changes is

- the **source** its pixels come from (the thumbnail, the preview or the original), so a small
  region asked for at full size is made from the thumbnail's few pixels of it for a thumbnail-tier
  caller: never more detail than that tier holds;
- the **box** (`maxWidth` × `maxHeight`) no output may exceed: the source's size for the thumbnail
  and preview tiers; for the original tier the full image, shrunk to `iiif.max_area` pixels if larger.

`max` is the region at the most detail the caller's source holds (never upscaled from it, never
beyond the box); `^max` fills the box. Every other form is computed as the specification says from
the region's size, then held to the box: `!w,h` is confined within it (a server-imposed limit), the
exact forms (`w,`, `,h`, `w,h`, `pct:n`, with or without `^`) are refused beyond it.

`!w,h` whose box is larger than the region in both directions is a 400 without `^`: the
specification's general rule ("sizes not prefixed with ^ that result in a scaled region larger than
the extracted region are errors") as the official validator (iiif-validator 1.0.5, `size_noup`)
reads it, although the `!w,h` row alone would cap such a request at the region's size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class InvalidImageRequest(ValueError):
    """A request the specification answers with 400: bad syntax, an empty region, upscaling without ^ …"""


class BeyondLimits(ValueError):
    """The output would exceed the caller's box (maxWidth × maxHeight)."""

    def __init__(self, width: int, height: int, limits: Limits) -> None:
        super().__init__(f"{width}×{height} px is more than the {limits.max_width}×{limits.max_height} px "
                         "(maxWidth × maxHeight) served to you of this image")
        self.width, self.height = width, height


class Quality(StrEnum):
    DEFAULT = "default"
    COLOR = "color"
    GRAY = "gray"
    BITONAL = "bitonal"


class Format(StrEnum):
    JPG = "jpg"
    PNG = "png"
    WEBP = "webp"
    GIF = "gif"
    TIF = "tif"

    @property
    def media_type(self) -> str:
        return {"jpg": "image/jpeg", "tif": "image/tiff"}.get(self.value, f"image/{self.value}")


KNOWN_UNSUPPORTED = ("jp2", "pdf")  # formats the specification names that this service does not make


@dataclass(frozen=True)
class Region:
    """A rectangle of the full image, in its pixels, inside it."""

    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class Rotation:
    degrees: float  # clockwise, 0 <= degrees < 360
    mirror: bool

    @property
    def canonical(self) -> str:
        number = f"{self.degrees:.6f}".rstrip("0").rstrip(".")
        return ("!" if self.mirror else "") + number


@dataclass(frozen=True)
class RegionSpec:
    kind: str  # full | square | px | pct
    values: tuple[float, ...] = ()


@dataclass(frozen=True)
class SizeSpec:
    kind: str  # max | w | h | pct | wh | confined
    upscale: bool = False
    w: int | None = None
    h: int | None = None
    pct: float | None = None


@dataclass(frozen=True)
class ImageRequest:
    region: RegionSpec
    size: SizeSpec
    rotation: Rotation
    quality: Quality
    format: Format


@dataclass(frozen=True)
class Limits:
    """One caller's view of one image: the full image, the source its pixels come from, and its box."""

    width: int  # the full image (info.json width and height)
    height: int
    source_width: int  # the image the caller's tier is made from
    source_height: int
    max_width: int  # the largest output served to this caller (info.json maxWidth, maxHeight)
    max_height: int

    @property
    def detail(self) -> float:
        """Source pixels per full-image pixel (1 for the original)."""
        return min(1.0, self.source_width / self.width, self.source_height / self.height)


@dataclass(frozen=True)
class Plan:
    """What to make: a region of the full image, scaled to width × height, then rotated, in a quality and format."""

    region: Region
    width: int
    height: int
    rotation: Rotation
    quality: Quality
    format: Format
    size: str  # the canonical size parameter (max, ^max, w,h or ^w,h)

    def canonical_region(self, limits: Limits) -> str:
        r = self.region
        return "full" if (r.x, r.y, r.w, r.h) == (0, 0, limits.width, limits.height) else f"{r.x},{r.y},{r.w},{r.h}"

    def canonical(self, limits: Limits) -> str:
        """`{region}/{size}/{rotation}/{quality}.{format}` in the specification's canonical form (4.8)."""
        return (f"{self.canonical_region(limits)}/{self.size}/{self.rotation.canonical}/"
                f"{self.quality.value}.{self.format.value}")

    def cache_path(self, limits: Limits) -> str:
        """The output's identity with the size as explicit pixels (`max` differs between tiers; pixels do not)."""
        return (f"{self.canonical_region(limits)}/{self.width},{self.height}/{self.rotation.canonical}/"
                f"{self.quality.value}.{self.format.value}")


_INT = r"\d+"
_FLOAT = r"(?:\d+(?:\.\d*)?|\.\d+)"
_PX = re.compile(rf"({_INT}),({_INT}),({_INT}),({_INT})")
_PCT = re.compile(rf"pct:({_FLOAT}),({_FLOAT}),({_FLOAT}),({_FLOAT})")
_SIZE_W = re.compile(rf"({_INT}),")
_SIZE_H = re.compile(rf",({_INT})")
_SIZE_WH = re.compile(rf"(!?)({_INT}),({_INT})")
_SIZE_PCT = re.compile(rf"pct:({_FLOAT})")
_ROTATION = re.compile(rf"(!?)({_FLOAT})")


def parse(region: str, size: str, rotation: str, quality_format: str) -> ImageRequest:
    quality, dot, fmt = quality_format.rpartition(".")
    if not dot:
        raise InvalidImageRequest(f"{quality_format!r} has no format: write {{quality}}.{{format}}, e.g. default.jpg")
    return ImageRequest(_region(region), _size(size), _rotation(rotation), _quality(quality), _format(fmt))


def _region(text: str) -> RegionSpec:
    if text in ("full", "square"):
        return RegionSpec(text)
    if m := _PX.fullmatch(text):
        return RegionSpec("px", tuple(float(v) for v in m.groups()))
    if m := _PCT.fullmatch(text):
        return RegionSpec("pct", tuple(float(v) for v in m.groups()))
    raise InvalidImageRequest(f"region {text!r} is not full, square, x,y,w,h or pct:x,y,w,h")


def _size(text: str) -> SizeSpec:
    upscale = text.startswith("^")
    body = text[1:] if upscale else text
    if body == "max":
        return SizeSpec("max", upscale)
    if m := _SIZE_W.fullmatch(body):
        return SizeSpec("w", upscale, w=_positive(m[1], text))
    if m := _SIZE_H.fullmatch(body):
        return SizeSpec("h", upscale, h=_positive(m[1], text))
    if m := _SIZE_WH.fullmatch(body):
        return SizeSpec("confined" if m[1] else "wh", upscale, w=_positive(m[2], text), h=_positive(m[3], text))
    if m := _SIZE_PCT.fullmatch(body):
        pct = float(m[1])
        if pct <= 0:
            raise InvalidImageRequest(f"size {text!r}: a percentage must be more than 0")
        if pct > 100 and not upscale:
            raise InvalidImageRequest(f"size {text!r} is more than 100%: write ^{text} to upscale")
        return SizeSpec("pct", upscale, pct=pct)
    raise InvalidImageRequest(f"size {text!r} is not max, w,, ,h, w,h, !w,h or pct:n (each may start with ^)")


def _positive(digits: str, text: str) -> int:
    if (value := int(digits)) < 1:
        raise InvalidImageRequest(f"size {text!r}: widths and heights are at least 1 pixel")
    return value


def _rotation(text: str) -> Rotation:
    m = _ROTATION.fullmatch(text)
    if not m or float(m[2]) > 360:
        raise InvalidImageRequest(f"rotation {text!r} is not a number of degrees from 0 to 360, optionally after !")
    return Rotation(float(m[2]) % 360, bool(m[1]))


def _quality(text: str) -> Quality:
    try:
        return Quality(text)
    except ValueError:
        raise InvalidImageRequest(f"quality {text!r} is not one of {', '.join(q.value for q in Quality)}") from None


def _format(text: str) -> Format:
    try:
        return Format(text)
    except ValueError:
        known = " (a IIIF format this service does not make)" if text in KNOWN_UNSUPPORTED else ""
        raise InvalidImageRequest(f"format {text!r}{known} is not one of "
                                  f"{', '.join(f.value for f in Format)}") from None


def region_of(spec: RegionSpec, limits: Limits) -> Region:
    """The region in full-image pixels, cropped at the image's edges."""
    width, height = limits.width, limits.height
    if spec.kind == "full":
        return Region(0, 0, width, height)
    if spec.kind == "square":
        side = min(width, height)
        return Region((width - side) // 2, (height - side) // 2, side, side)
    x, y, w, h = spec.values
    if spec.kind == "pct":
        if w <= 0 or h <= 0:
            raise InvalidImageRequest("the region's width and height must be more than 0%")
        x, y = round(width * x / 100), round(height * y / 100)
        w, h = max(1, round(width * w / 100)), max(1, round(height * h / 100))
    if w <= 0 or h <= 0:
        raise InvalidImageRequest("the region's width and height must be at least 1 pixel")
    if x >= width or y >= height:
        raise InvalidImageRequest(f"the region starts at {x:g},{y:g}, outside the {width}×{height} image")
    return Region(int(x), int(y), int(min(w, width - x)), int(min(h, height - y)))


def _scaled(region: Region, scale: float) -> tuple[int, int]:
    return max(1, round(region.w * scale)), max(1, round(region.h * scale))


def max_size(region: Region, limits: Limits) -> tuple[int, int]:
    """`max`: the region at the source's resolution, never upscaled, within the box."""
    scale = min(1.0, limits.detail, limits.max_width / region.w, limits.max_height / region.h)
    w, h = _scaled(region, scale)
    return min(w, limits.max_width), min(h, limits.max_height)


def upscaled_max_size(region: Region, limits: Limits) -> tuple[int, int]:
    """`^max`: the region filling the box."""
    w, h = _scaled(region, min(limits.max_width / region.w, limits.max_height / region.h))
    return min(w, limits.max_width), min(h, limits.max_height)


def _output(spec: SizeSpec, region: Region, limits: Limits) -> tuple[int, int]:
    rw, rh = region.w, region.h
    if spec.kind == "max":
        return upscaled_max_size(region, limits) if spec.upscale else max_size(region, limits)
    if spec.kind == "confined":
        assert spec.w is not None and spec.h is not None
        scale = min(spec.w / rw, spec.h / rh)
        if scale > 1 and not spec.upscale:
            raise InvalidImageRequest(f"!{spec.w},{spec.h} is larger than the {rw}×{rh} region in both directions: "
                                      f"write ^!{spec.w},{spec.h} to upscale")
        w, h = _scaled(region, min(scale, limits.max_width / rw, limits.max_height / rh))
        return min(w, spec.w, limits.max_width), min(h, spec.h, limits.max_height)
    if spec.kind == "w":
        assert spec.w is not None
        w, h = spec.w, max(1, round(rh * spec.w / rw))
    elif spec.kind == "h":
        assert spec.h is not None
        w, h = max(1, round(rw * spec.h / rh)), spec.h
    elif spec.kind == "pct":
        assert spec.pct is not None
        w, h = _scaled(region, spec.pct / 100)
    else:
        assert spec.w is not None and spec.h is not None
        w, h = spec.w, spec.h
    if not spec.upscale and (w > rw or h > rh):
        raise InvalidImageRequest(f"{w}×{h} px is larger than the {rw}×{rh} region: prefix the size with ^ to upscale")
    if w > limits.max_width or h > limits.max_height:
        raise BeyondLimits(w, h, limits)
    return w, h


def plan(request: ImageRequest, limits: Limits) -> Plan:
    region = region_of(request.region, limits)
    width, height = _output(request.size, region, limits)
    if (width, height) == max_size(region, limits):
        size = "max"
    elif width > region.w or height > region.h:
        size = "^max" if (width, height) == upscaled_max_size(region, limits) else f"^{width},{height}"
    else:
        size = f"{width},{height}"
    return Plan(region, width, height, request.rotation, request.quality, request.format, size)
