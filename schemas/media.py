"""Media other than still images: documents, audio, video and 3D models, as an asset record holds them.

A non-image file is one `MediaRecord`: its original (content-addressed, like an image's), the technical
facts read from its header, and its derivatives for the web (a poster, a contact sheet, a rendition, a
waveform, a GLB). What can be seen of it — a document's pages, a video's keyframes, a 3D model's rendered
views — is also stored as images (`ImageRecord` with `of_media` and `page`, `time_s` or `view`), so the
Image API, thumbnails, image vectors and image search treat them as they treat any picture: search by a
photo finds a video by one of its frames and a 3D object by one of its views.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import BaseModel, Field

from schemas.access import Tier

MEDIA_NAMESPACE = uuid.UUID("0b7e4c2d-61a4-4f0e-8a5c-2f9d3b1e7a60")


class MediaType(StrEnum):
    IMAGE = "image"  # a still image (ImageRecord only)
    DOCUMENT = "document"  # PDF, multi-page TIFF: pages
    AUDIO = "audio"
    VIDEO = "video"
    MODEL = "model"  # a 3D model: glTF/GLB, OBJ, PLY, STL


class TextSource(StrEnum):
    LAYER = "layer"  # the document's own text layer
    OCR = "ocr"  # read from the page image


def media_id_for(asset_id: str, sha256: str) -> str:
    """The identifier of one media file of one asset: stable across re-ingests."""
    return str(uuid.uuid5(MEDIA_NAMESPACE, f"media\x1f{asset_id}\x1f{sha256}"))


class MediaDerivative(BaseModel):
    """One file made from a media original for the web; the tier says who may receive it."""

    name: str = Field(description="poster, contact-sheet, rendition, waveform, glb or text.")
    key: str = Field(description="Object key in the assets bucket.")
    mime: str = Field(description="Media type of the file.")
    size_bytes: int = Field(description="Size, bytes.")
    tier: Tier = Field(description="The lowest delivery tier that receives it (thumbnail or preview).")
    width: int | None = Field(None, description="Width in pixels, for pictures and video renditions.")
    height: int | None = Field(None, description="Height in pixels, for pictures and video renditions.")


class MediaRecord(BaseModel):
    """One stored document, recording or 3D model of an asset: the original and what was read and made from it."""

    id: str = Field(description="Identifier of this media file of this asset, a UUID.")
    media_type: MediaType = Field(description="document, audio, video or model.")
    sha256: str = Field(description="SHA-256 of the original file: its identity and storage key.")
    key: str = Field(description="Object key of the original in the assets bucket.")
    path: str = Field(description="Path of the file in the uploaded batch.")
    label: str | None = Field(None, description="Label from the manifest.")
    format: str = Field(description="Container or file format as read from the file (PDF, TIFF, MP4, WEBM, MP3, "
                                    "WAV, FLAC, OGG, GLB, GLTF, OBJ, PLY, STL).")
    mime: str = Field(description="Media type of the original.")
    size_bytes: int = Field(description="Size of the original, bytes.")
    duration_s: float | None = Field(None, description="Duration of audio or video, seconds.")
    video_codec: str | None = Field(None, description="Codec of the first video stream (h264, vp9, av1…).")
    audio_codec: str | None = Field(None, description="Codec of the first audio stream (aac, opus, flac, mp3…).")
    width: int | None = Field(None, description="Frame width of a video, pixels.")
    height: int | None = Field(None, description="Frame height of a video, pixels.")
    frame_rate: float | None = Field(None, description="Frames per second of a video.")
    sample_rate: int | None = Field(None, description="Samples per second of the first audio stream.")
    channels: int | None = Field(None, description="Channels of the first audio stream.")
    page_count: int | None = Field(None, description="Pages of a document.")
    vertices: int | None = Field(None, description="Vertices of a 3D model.")
    faces: int | None = Field(None, description="Triangles of a 3D model.")
    bounds_min: list[float] | None = Field(None, description="Smallest x, y, z of a 3D model, in its own units.")
    bounds_max: list[float] | None = Field(None, description="Largest x, y, z of a 3D model, in its own units.")
    derivatives: list[MediaDerivative] = Field(default_factory=list, description="Files made for the web.")
