"""Check uploaded media files and make their web derivatives.

The ingest DAG copies each original to local disk and calls two pure functions on it (no S3, no settings:
limits are parameters):

- `inspect_image` accepts the file, returning its `MediaInfo` (content hash, real format, size, a readable
  EXIF subset, perceptual hashes for near-duplicate search), or raises `MediaRejected` whose `reason` is a
  stable `RejectReason` code for the batch report and whose `message` a museum user can act on.
- `make_derivatives` writes a thumbnail and a preview JPEG: upright, sRGB, never upscaled, without EXIF.
  The pixels are `indexing.encoders.pixels.viewable`, the function image search decodes uploads with, so
  an image encoder sees the same picture whether a file was ingested or uploaded as a query.

Memory stays flat for big files: hashing streams, the pixel limit is checked from the header before any
decoding, and JPEGs are decoded at a reduced scale (`Image.draft`) when only a small image is needed.

Pillow's safety switches (`Image.MAX_IMAGE_PIXELS`, `ImageFile.LOAD_TRUNCATED_IMAGES`) are process-wide;
`_pillow_limits` sets them to this call's values under a lock and restores them afterwards.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import imagehash
from PIL import ExifTags, Image, ImageFile, TiffImagePlugin, UnidentifiedImageError, features

from indexing.encoders.pixels import viewable
from services.ingest.errors import ErrorCode

__all__ = [
    "ACCEPTED_FORMATS", "Derivative", "MediaInfo", "MediaRejected", "RejectReason", "inspect_image", "make_derivatives",
    "sha256_file",
]  # fmt: skip

logger = logging.getLogger(__name__)

_BLOCK_BYTES = 1 << 20
_HASH_DRAFT_PX = 256  # perceptual hashes work on a 32 × 32 reduction, so a 1/8-scale JPEG decode loses nothing
_JPEG_QUALITY = 85

# Pillow's JPEG 2000 plugin reads headers without OpenJPEG, so only accept what this build can decode.
ACCEPTED_FORMATS = frozenset(
    {"JPEG", "PNG", "TIFF", "WEBP", "GIF", "BMP"} | ({"JPEG2000"} if features.check("jpg_2000") else set())
)
# Cameras write JPEGs with an MPF block (a second, preview image); Pillow calls those MPO, but they are JPEGs.
_FORMAT_ALIASES = {"MPO": "JPEG"}

# A readable subset for curators. GPS is left out on purpose: a find spot or a storeroom is not for the index.
_IFD0_TAGS = [ExifTags.Base[name] for name in (
    "Make", "Model", "Software", "Artist", "Copyright", "ImageDescription", "DateTime", "Orientation",
    "XResolution", "YResolution", "ResolutionUnit",
)]  # fmt: skip
_EXIF_IFD_TAGS = [ExifTags.Base[name] for name in ("DateTimeOriginal", "DateTimeDigitized", "LensModel")]
_SIDEWAYS_ORIENTATIONS = frozenset({"5", "6", "7", "8"})

_pillow_globals = threading.Lock()


# The file-check codes are members of the report's ErrorCode (one vocabulary for the whole report).
RejectReason = ErrorCode


class MediaRejected(Exception):
    def __init__(self, reason: RejectReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __reduce__(self) -> tuple[type[MediaRejected], tuple[RejectReason, str]]:
        # Airflow may pickle a task's exception; the default would call MediaRejected(message) and fail.
        return type(self), (self.reason, self.message)


@dataclass(frozen=True)
class MediaInfo:
    sha256: str
    size_bytes: int
    format: str
    mime: str
    width: int  # as stored in the file, before EXIF orientation; see display_size
    height: int
    mode: str
    exif: dict[str, str]
    phash: str
    dhash: str

    @property
    def display_size(self) -> tuple[int, int]:
        """Width and height as a viewer shows the image, after EXIF orientation."""
        if self.exif.get("Orientation") in _SIDEWAYS_ORIENTATIONS:
            return self.height, self.width
        return self.width, self.height


@dataclass(frozen=True)
class Derivative:
    name: str
    path: Path
    width: int
    height: int
    mime: str
    size_bytes: int


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(_BLOCK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def inspect_image(path: Path, *, max_bytes: int, max_pixels: int) -> MediaInfo:
    size_bytes = path.stat().st_size
    if size_bytes == 0:
        raise MediaRejected(RejectReason.EMPTY_FILE, "The file is empty (0 bytes); it may not have finished uploading.")
    if size_bytes > max_bytes:
        raise MediaRejected(
            RejectReason.TOO_LARGE,
            f"The file is {_human_bytes(size_bytes)}, larger than the limit of {_human_bytes(max_bytes)} per file.",
        )
    with _pillow_limits(max_pixels), _open_image(path, max_pixels) as im:
        image_format = _real_format(im)
        width, height, mode = im.width, im.height, im.mode
        if image_format == "JPEG":
            im.draft(None, (_HASH_DRAFT_PX, _HASH_DRAFT_PX))
        _decode(im, max_pixels)
        exif = _readable_exif(im)
        visible = viewable(im)
    return MediaInfo(
        sha256=sha256_file(path),
        size_bytes=size_bytes,
        format=image_format,
        mime=Image.MIME[image_format],
        width=width,
        height=height,
        mode=mode,
        exif=exif,
        phash=str(imagehash.phash(visible)),
        dhash=str(imagehash.dhash(visible)),
    )


def make_derivatives(
    path: Path, out_dir: Path, *, thumbnail_px: int = 400, preview_px: int = 1600, max_pixels: int | None = None
) -> list[Derivative]:
    """Write `<stem>.thumbnail.jpg` and `<stem>.preview.jpg` into out_dir, longest side at most the bound.

    max_pixels None trusts that `inspect_image` has already accepted the file (Pillow's own default cap of
    about 89 megapixels would otherwise refuse the large scans museums make).
    """
    if thumbnail_px < 1 or preview_px < 1:
        raise ValueError(f"derivative bounds must be positive, got {thumbnail_px=} {preview_px=}")
    out_dir.mkdir(parents=True, exist_ok=True)
    with _pillow_limits(max_pixels), _open_image(path, max_pixels) as im:
        if _real_format(im) == "JPEG":
            # Decode at the smallest DCT scale that still covers the preview: a 100-megapixel JPEG then costs
            # a few megabytes instead of 300.
            im.draft(None, derivative_size(im.size, max(preview_px, thumbnail_px)))
        _decode(im, max_pixels)
        visible = viewable(im)
    derivatives = []
    for name, bound in (("thumbnail", thumbnail_px), ("preview", preview_px)):
        size = derivative_size(visible.size, bound)
        # reducing_gap box-filters most of a large reduction first: far faster, no visible loss at these sizes
        resized = visible if size == visible.size else visible.resize(size, Image.Resampling.LANCZOS, reducing_gap=3)
        target = out_dir / f"{path.stem}.{name}.jpg"
        # No exif= or icc_profile= argument: derivatives are public, so GPS and camera serials stay behind,
        # and the pixels are already sRGB, the web's default.
        resized.save(target, "JPEG", quality=_JPEG_QUALITY, progressive=True, optimize=True)
        derivatives.append(Derivative(name, target, resized.width, resized.height, "image/jpeg", target.stat().st_size))
    return derivatives


@contextmanager
def _pillow_limits(max_pixels: int | None) -> Iterator[None]:
    with _pillow_globals, warnings.catch_warnings():
        saved = Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES
        # Pillow raises DecompressionBombError from the header above 2 × MAX_IMAGE_PIXELS (for WebP even before
        # the decoder allocates its canvas), so half our limit makes that error fire at our limit. Its warning
        # at the half-way mark means nothing here.
        Image.MAX_IMAGE_PIXELS = None if max_pixels is None else (max_pixels + 1) // 2
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        # A truncated upload must be rejected, not silently padded with grey.
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = saved


@contextmanager
def _open_image(path: Path, max_pixels: int | None) -> Iterator[ImageFile.ImageFile]:
    """Open (headers only) and refuse, before any decoding, formats we don't accept and oversized images."""
    try:
        im = Image.open(path)
    except Image.DecompressionBombError as error:
        raise _too_many_pixels(max_pixels) from error
    except UnidentifiedImageError as error:
        raise MediaRejected(
            RejectReason.NOT_AN_IMAGE,
            f"'{path.name}' is not an image file we can read; accepted formats: {_accepted()}.",
        ) from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise _damaged(error) from error
    with im:
        if _real_format(im) not in ACCEPTED_FORMATS:
            # Checked before decoding so that plugins we never meant to accept (EPS runs Ghostscript) never run.
            raise MediaRejected(
                RejectReason.UNSUPPORTED_FORMAT,
                f"{im.format_description or im.format} files are not accepted; accepted formats: {_accepted()}.",
            )
        if max_pixels is not None and im.width * im.height > max_pixels:
            raise MediaRejected(
                RejectReason.DECOMPRESSION_BOMB,
                f"The image is {im.width:,} × {im.height:,} = {im.width * im.height:,} pixels, "
                f"more than the limit of {max_pixels:,} pixels; reduce its resolution or split it.",
            )
        yield im


def _real_format(im: ImageFile.ImageFile) -> str:
    return _FORMAT_ALIASES.get(im.format or "", im.format or "")


def _decode(im: ImageFile.ImageFile, max_pixels: int | None) -> None:
    try:
        im.load()
    except Image.DecompressionBombError as error:  # multi-frame and tiled formats check again while decoding
        raise _too_many_pixels(max_pixels) from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise _damaged(error) from error


def _too_many_pixels(max_pixels: int | None) -> MediaRejected:
    return MediaRejected(
        RejectReason.DECOMPRESSION_BOMB,
        f"The image's width × height is more than the limit of {max_pixels or 0:,} pixels, so it was not opened; "
        "reduce its resolution or split it.",
    )


def _damaged(error: BaseException) -> MediaRejected:
    return MediaRejected(
        RejectReason.TRUNCATED,
        f"The image data is incomplete or damaged ({error}); the upload may have been cut off. Upload it again.",
    )


def _readable_exif(im: Image.Image) -> dict[str, str]:
    try:
        exif = im.getexif()
        values = [(tag, exif.get(tag)) for tag in _IFD0_TAGS]
        exif_ifd = exif.get_ifd(ExifTags.IFD.Exif)
        values += [(tag, exif_ifd.get(tag)) for tag in _EXIF_IFD_TAGS]
    except Exception:  # EXIF is a courtesy: a malformed block must not reject an otherwise sound image
        logger.warning("ignoring unreadable EXIF", extra={"file": getattr(im, "filename", "")})
        return {}
    readable = {}
    for tag, value in values:
        if (text := _exif_text(value)) is not None:
            readable[tag.name] = text
    return readable


def _exif_text(value: object) -> str | None:
    if isinstance(value, TiffImagePlugin.IFDRational):
        return f"{float(value):g}" if value.denominator else None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and max(value, default="\x00") <= "\xff":
        # Pillow decodes EXIF strings as Latin-1, but Chinese cameras and catalogue software write UTF-8:
        # recover the bytes, keep what is valid UTF-8 and drop the rest rather than guess an encoding.
        value = value.encode("latin-1")
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="ignore")
    return (value.replace("\x00", "").strip() or None) if isinstance(value, str) else None


def derivative_size(size: tuple[int, int], bound: int) -> tuple[int, int]:
    """The size within a bound × bound box, never larger than the image itself."""
    scale = min(1.0, bound / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _accepted() -> str:
    return ", ".join(sorted(ACCEPTED_FORMATS))


def _human_bytes(size: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor:
            return f"{size / factor:.1f} {unit} ({size:,} bytes)"
    return f"{size:,} bytes"
