"""Object storage for the Image API: made images cached in the assets bucket, and decoded sources in memory.

**Derivative cache.** Every image the Image API makes is kept under
`{institution}/iiif/{image_id}/{tier}/{region}/{w},{h}/{rotation}/{quality}.{format}`: the request
after the caller's limits were applied, in canonical form with the size as pixels, under the tier of
the source it was made from. A caller only ever reads keys of its own tier, so an image made from
the original is never served to a thumbnail-tier caller, whatever the URL. The image id changes
with the original's content (schemas.asset.image_id_for), so a new original starts a new cache.

**Source cache.** A viewer asks for many tiles of one image in a row. Decoding a 12-megapixel JPEG
costs far more than cutting a tile from it, so decoded sources (upright, RGB or L) are kept in a
small in-process LRU bounded by `iiif.source_cache_mb`. JPEG sources are decoded at the smallest
DCT scale (1/2, 1/4, 1/8) that still covers the output (Pillow's `draft`); each scale is its own entry.

**Made images in memory.** A warm tile is one S3 read, which costs as much as the whole request's
other work. The images most recently made or read are also kept in memory (`TileCache`, bounded by
`iiif.tile_cache_mb` per gateway process), by their derivative key. A key names its content for
good (the image id changes with the original, the tier is in the key), so a copy in memory is never
stale; whether the caller may have it is decided on every request before the key is even known.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from collections.abc import Callable

from minio import Minio
from PIL import Image, ImageCms, ImageOps

from services.storage import ObjectNotFound, get_bytes

REDUCTIONS = (8, 4, 2, 1)  # JPEG DCT scaling
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def derivative_key(institution: str, image_id: str, tier: str, cache_path: str) -> str:
    return f"{institution}/iiif/{image_id}/{tier}/{cache_path}"


def read_derivative(s3: Minio, bucket: str, key: str) -> bytes | None:
    try:
        return get_bytes(s3, bucket, key)
    except ObjectNotFound:
        return None


def write_derivative(s3: Minio, bucket: str, key: str, data: bytes, media_type: str) -> None:
    s3.put_object(bucket, key, io.BytesIO(data), len(data), content_type=media_type)


def reduction(box: tuple[float, float, float, float], output: tuple[int, int], jpeg: bool) -> int:
    """The largest JPEG scale-down (1, 2, 4, 8) after which the box still has at least the output's pixels."""
    if not jpeg:
        return 1
    bw, bh = box[2] - box[0], box[3] - box[1]
    return next(r for r in REDUCTIONS if r == 1 or (bw / r >= output[0] and bh / r >= output[1]))


def viewable(im: Image.Image) -> Image.Image:
    """Upright 8-bit sRGB or gray, transparency on white: as ingestion makes the derivatives."""
    ImageOps.exif_transpose(im, in_place=True)
    if im.mode.startswith("I;16") or im.mode == "I":
        im = im.convert("I").point(lambda v: v / 257).convert("L")  # convert() alone would clip them at 255
    if im.mode in ("1", "L"):
        return im.convert("L") if im.mode == "1" else im
    if im.mode in ("LA", "PA", "RGBA") or "transparency" in im.info:
        rgba = im.convert("RGBA")
        im = Image.new("RGB", im.size, "white")
        im.paste(rgba, mask=rgba.getchannel("A"))
    profile = im.info.get("icc_profile")
    if profile and im.mode in ("RGB", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            if "sRGB" not in ImageCms.getProfileDescription(source):
                converted = ImageCms.profileToProfile(im, source, _SRGB, outputMode="RGB")
                im = converted if converted is not None else im
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # an unusable profile: the pixels as they are
    return im if im.mode == "RGB" else im.convert("RGB")


def decode(data: bytes, reduce_by: int) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    if reduce_by > 1 and im.format == "JPEG":
        # Pillow picks the scale from width // requested width: ask for the floor to get exactly 1/reduce_by
        im.draft(im.mode, (max(1, im.width // reduce_by), max(1, im.height // reduce_by)))
    im.load()
    return viewable(im)


class TileCache:
    """Made images by derivative key, least recently used first out, within a byte budget (0: none kept)."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._used = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: str, data: bytes) -> None:
        if len(data) > self.budget:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = data
            self._used += len(data)
            while self._used > self.budget:
                _, old = self._items.popitem(last=False)
                self._used -= len(old)


class SourceCache:
    """Decoded sources, least recently used first out, within a byte budget."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self._items: OrderedDict[tuple[str, int], Image.Image] = OrderedDict()
        self._used = 0
        self._lock = threading.Lock()

    @staticmethod
    def _cost(im: Image.Image) -> int:
        return im.width * im.height * len(im.getbands())

    def get(self, key: str, reduce_by: int, load: Callable[[], Image.Image]) -> Image.Image:
        with self._lock:
            if (found := self._items.get((key, reduce_by))) is not None:
                self._items.move_to_end((key, reduce_by))
                return found
        im = load()  # outside the lock: two threads may decode the same source once each, never wait on a decode
        cost = self._cost(im)
        if cost <= self.budget:
            with self._lock:
                if (key, reduce_by) not in self._items:
                    self._items[(key, reduce_by)] = im
                    self._used += cost
                while self._used > self.budget:
                    _, old = self._items.popitem(last=False)
                    self._used -= self._cost(old)
        return im


def load_source(s3: Minio, bucket: str, key: str, reduce_by: int, cache: SourceCache) -> Image.Image:
    """The decoded source `key` (upright), from memory or from S3. ObjectNotFound when it is not stored."""
    return cache.get(key, reduce_by, lambda: decode(get_bytes(s3, bucket, key), reduce_by))
