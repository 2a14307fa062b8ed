"""What kind of media a file is, read from its bytes, and the shapes every media kind's module returns.

`sniff` looks at the first bytes (never at the name alone): a still image, a document (PDF, multi-page
TIFF), a recording (audio or video: PyAV tells which from its streams) or a 3D model. A name whose extension
says one kind and bytes that say another is refused (`extension-mismatch`): a museum's `oral-history.mp3` that
is really a PDF is a mistake worth hearing about.

Each kind has one module of pure functions (no S3, no settings; limits and sizes are parameters):
`media_document` (PDF, TIFF pages), `media_av` (audio, video), `media_model` (3D). Each has
`inspect_<kind>(path, limits) -> MediaFacts`, raising `MediaRejected` with a stable reason, and
`derive_<kind>(path, facts, out_dir, params) -> Derived`: the web derivatives and the images (pages, keyframes,
views) that services/ingest/derive.py stores as `ImageRecord`s with `of_media`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from schemas.access import Tier
from schemas.media import MediaType, TextSource
from services.ingest.errors import ErrorCode
from services.ingest.media import MediaRejected

__all__ = ["DeriveParams", "Derived", "DerivedFile", "Kind", "MediaFacts", "MediaLimits", "Surrogate", "sniff"]

_HEAD_BYTES = 4096


class Kind(StrEnum):
    """Which module reads a file."""

    IMAGE = "image"
    DOCUMENT = "document"
    AV = "av"  # audio or video: the streams decide
    MODEL = "model"


@dataclass(frozen=True)
class MediaLimits:
    max_bytes: int
    max_pixels: int
    max_duration_s: float
    max_pages: int
    max_faces: int


@dataclass(frozen=True)
class DeriveParams:
    """Sizes of what is made (services/settings.py MediaSettings and IngestSettings)."""

    thumbnail_px: int = 400
    preview_px: int = 1600
    page_px: int = 2000
    keyframes: int = 8
    contact_sheet_columns: int = 4
    rendition_height: int = 480
    video_bitrate: int = 800_000
    audio_bitrate: int = 96_000
    waveform_size: tuple[int, int] = (1600, 240)
    model_views: tuple[str, ...] = ("front", "side", "top", "three-quarter")
    view_px: int = 800


@dataclass(frozen=True)
class MediaFacts:
    """What a file's header says, checked against the limits."""

    media_type: MediaType
    format: str  # PDF, TIFF, MP4, WEBM, MP3, WAV, FLAC, OGG, GLB, GLTF, OBJ, PLY, STL
    mime: str
    sha256: str
    size_bytes: int
    technical: dict[str, Any] = field(default_factory=dict)  # MediaRecord fields: duration_s, page_count, faces, …


@dataclass(frozen=True)
class DerivedFile:
    name: str  # poster, contact-sheet, rendition, waveform, glb, text
    path: Path
    mime: str
    tier: Tier  # THUMBNAIL or PREVIEW: the lowest tier that receives it
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class Surrogate:
    """A picture of the media (a page, a keyframe, a rendered view): a PNG or JPEG the image pipeline accepts."""

    path: Path
    page: int | None = None
    time_s: float | None = None
    view: str | None = None
    text: str | None = None
    text_source: TextSource | None = None


@dataclass
class Derived:
    files: list[DerivedFile] = field(default_factory=list)
    surrogates: list[Surrogate] = field(default_factory=list)


# What a file name's extension promises; a file with another extension (or none) is judged by its bytes alone.
_EXTENSION_KINDS = {
    **dict.fromkeys((".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".jp2", ".j2k"), frozenset({Kind.IMAGE})),
    **dict.fromkeys((".tif", ".tiff"), frozenset({Kind.IMAGE, Kind.DOCUMENT})),
    ".pdf": frozenset({Kind.DOCUMENT}),
    **dict.fromkeys((".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".mp3", ".wav", ".flac", ".ogg", ".oga",
                     ".opus", ".m4a", ".aac"), frozenset({Kind.AV})),
    **dict.fromkeys((".glb", ".gltf", ".obj", ".ply", ".stl"), frozenset({Kind.MODEL})),
}


def sniff(path: Path, name: str) -> Kind:
    """The kind of the file at path, from its bytes; `name` is its name in the batch (its extension is checked)."""
    with path.open("rb") as stream:
        head = stream.read(_HEAD_BYTES)
    size = path.stat().st_size
    kind = _kind_of(head, size, path)
    promised = _EXTENSION_KINDS.get(Path(name).suffix.lower())
    if kind is not None and promised is not None and kind not in promised:
        raise MediaRejected(ErrorCode.EXTENSION_MISMATCH,
                            f"'{name}' is named as {_describe(promised)} but its contents are "
                            f"{_describe(frozenset({kind}))}; "
                            "rename it or upload the right file.")
    if kind is None:
        # Bytes of no kind we know: the reader of the kind its name promises gives the precise reason (a binary STL
        # whose header declares more triangles than it holds, a PDF cut off before its header…), else the image
        # reader does (not an image, truncated, unsupported…).
        others = sorted(promised - {Kind.IMAGE}) if promised else []
        return Kind(others[0]) if len(others) == 1 and Kind.IMAGE not in (promised or ()) else Kind.IMAGE
    return kind


def _kind_of(head: bytes, size: int, path: Path) -> Kind | None:
    if head.startswith(b"%PDF-"):
        return Kind.DOCUMENT
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return Kind.DOCUMENT if _tiff_pages(path) > 1 else Kind.IMAGE
    if (head[4:8] == b"ftyp" or head.startswith((b"\x1aE\xdf\xa3", b"OggS", b"fLaC", b"ID3"))
            or (head[:4] == b"RIFF" and head[8:12] in (b"WAVE", b"AVI "))
            or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06)):  # MPEG audio frame
        if head[4:8] == b"ftyp" and head[8:12] in (b"avif", b"avis", b"heic", b"heix", b"mif1"):
            return Kind.IMAGE  # HEIF/AVIF stills share the ISO box layout
        return Kind.AV
    if head.startswith(b"glTF") or head.startswith(b"ply\n") or head.startswith(b"ply\r\n"):
        return Kind.MODEL
    if size >= 84 and 84 + 50 * struct.unpack_from("<I", head, 80)[0] == size:
        return Kind.MODEL  # binary STL: an 80-byte header, a triangle count, 50 bytes a triangle
    text = head.lstrip().lower()
    if text.startswith(b"solid") and b"facet" in head.lower():
        return Kind.MODEL  # ASCII STL
    if text.startswith(b"{") and b'"asset"' in head:
        return Kind.MODEL  # glTF JSON
    if _looks_like_obj(head):
        return Kind.MODEL
    return None


def _tiff_pages(path: Path) -> int:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return int(getattr(im, "n_frames", 1))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        return 1  # the image reader says what is wrong with it


def _looks_like_obj(head: bytes) -> bool:
    """Wavefront OBJ: text lines of `v x y z`, `f a b c`, comments, groups, materials."""
    try:
        lines = [line.strip() for line in head.decode("ascii").splitlines()[:-1] if line.strip()]
    except UnicodeDecodeError:
        return False
    keywords = {line.split()[0] for line in lines}
    return bool(lines) and "v" in keywords and keywords <= {"#", "v", "vt", "vn", "vp", "f", "l", "o", "g", "s",
                                                            "mtllib", "usemtl"} | {w for w in keywords if w[0] == "#"}


def _describe(kinds: frozenset[Kind]) -> str:
    names = {Kind.IMAGE: "an image", Kind.DOCUMENT: "a document", Kind.AV: "audio or video", Kind.MODEL: "a 3D model"}
    return " or ".join(sorted(names[k] for k in kinds))
