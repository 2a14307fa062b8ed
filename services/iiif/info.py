"""What one caller may receive of one image, and the Image API's image information document (info.json).

Pure. `limits_for(image, tier, …)` gives the caller's `Limits` (services/iiif/image.py): the full
image as a viewer shows it (EXIF orientation applied, as the derivatives are), the source of its
tier, and its box. `info_document` writes info.json for those limits: `maxWidth`/`maxHeight` are
the box, and the `sizes` and `tiles` it lists stay within the box and the tier's detail.
"""

from __future__ import annotations

import math
from typing import Any

from schemas.access import Tier
from schemas.asset import ImageRecord
from schemas.licences import Licence, LicenceFamily
from services.iiif.image import Format, Limits, Quality
from services.ingest.media import derivative_size

CONTEXT = "http://iiif.io/api/image/3/context.json"
PROFILE = "level2"
PROFILE_URI = "http://iiif.io/api/image/3/level2.json"
# Beyond level 2: the extra features, and every quality and format but the level's own (jpg, png; default).
EXTRA_FEATURES = ["canonicalLinkHeader", "mirroring", "profileLinkHeader", "rotationArbitrary", "sizeUpscaling"]
EXTRA_FORMATS = [f.value for f in Format if f not in (Format.JPG, Format.PNG)]
SMALLEST_SIZE = 64  # `sizes` lists halvings of the box down to about this longest side
SIDEWAYS = frozenset({"5", "6", "7", "8"})  # EXIF orientations that swap width and height
GRAY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L"})


def fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """A size confined to `longest` pixels on its longest side, never enlarged: as ingestion made the derivatives."""
    return derivative_size(size, longest)


def within_area(size: tuple[int, int], area: int) -> tuple[int, int]:
    """A size scaled down, keeping its aspect ratio, to at most `area` pixels."""
    if size[0] * size[1] <= area:
        return size
    scale = math.sqrt(area / (size[0] * size[1]))
    return max(1, math.floor(size[0] * scale)), max(1, math.floor(size[1] * scale))


def full_size(image: ImageRecord) -> tuple[int, int]:
    """The image as a viewer shows it: EXIF orientation applied (ImageRecord keeps the stored width and height)."""
    if image.exif.get("Orientation") in SIDEWAYS:
        return image.height, image.width
    return image.width, image.height


def source_size(image: ImageRecord, tier: Tier, thumbnail_px: int, preview_px: int) -> tuple[int, int]:
    """The size of the file the tier is made from (ingestion's derivatives: longest side at most the bound)."""
    full = full_size(image)
    if tier is Tier.THUMBNAIL:
        return fit(full, thumbnail_px)
    if tier is Tier.PREVIEW:
        return fit(full, preview_px)
    return full


def limits_for(image: ImageRecord, tier: Tier, *, thumbnail_px: int, preview_px: int, max_area: int) -> Limits:
    """The caller's view of `image` at a media tier: its source, and a box no larger than the source."""
    width, height = full_size(image)
    sw, sh = source_size(image, tier, thumbnail_px, preview_px)
    mw, mh = within_area((sw, sh), max_area)
    return Limits(width, height, sw, sh, mw, mh)


def sizes(limits: Limits) -> list[dict[str, int]]:
    """The box and its halvings, smallest first."""
    out, w, h = [], limits.max_width, limits.max_height
    while True:
        out.append({"width": w, "height": h})
        if max(w, h) // 2 < SMALLEST_SIZE or min(w, h) < 2:
            break
        w, h = max(1, round(w / 2)), max(1, round(h / 2))
    return out[::-1]


def scale_factors(limits: Limits, tile: int) -> list[int]:
    """Powers of two at which a tile holds real detail (no finer than the source) and fits the box, up to the
    first at which a single tile covers the whole image within the box."""
    out, factor = [], 1
    while True:
        tile_w = min(tile, -(-limits.width // factor))
        tile_h = min(tile, -(-limits.height // factor))
        detailed = (limits.width / factor <= limits.source_width + 1
                    and limits.height / factor <= limits.source_height + 1)
        served = detailed and tile_w <= limits.max_width and tile_h <= limits.max_height
        if served:
            out.append(factor)
        if tile * factor >= max(limits.width, limits.height) and (served or factor >= max(limits.width, limits.height)):
            return out
        factor *= 2


def rights(licence: Licence) -> str | None:
    """`rights` takes Creative Commons and RightsStatements.org URIs only (Image API 3.0, 5.6), Creative Commons in
    the `http://` form IIIF's schemas use (as the Presentation manifests write it)."""
    if licence.uri is None or licence.family not in (LicenceFamily.CREATIVE_COMMONS, LicenceFamily.RIGHTS_STATEMENT):
        return None
    return licence.uri.replace("https://creativecommons.org/", "http://creativecommons.org/")


def info_document(service_id: str, image: ImageRecord, limits: Limits, licence: Licence, tile: int) -> dict[str, Any]:
    qualities = [q.value for q in Quality if q is not Quality.DEFAULT]
    if image.mode in GRAY_MODES:  # no colour to give (5.7: then `color` is not listed, but still answered)
        qualities.remove(Quality.COLOR.value)
    doc: dict[str, Any] = {
        "@context": CONTEXT, "id": service_id, "type": "ImageService3", "protocol": "http://iiif.io/api/image",
        "profile": PROFILE, "width": limits.width, "height": limits.height,
        "maxWidth": limits.max_width, "maxHeight": limits.max_height,
        "sizes": sizes(limits),
    }
    if factors := scale_factors(limits, tile):
        doc["tiles"] = [{"width": tile, "height": tile, "scaleFactors": factors}]
    doc |= {"extraQualities": qualities, "extraFormats": EXTRA_FORMATS, "extraFeatures": EXTRA_FEATURES}
    if (uri := rights(licence)) is not None:
        doc["rights"] = uri
    return doc
