"""The Encoder protocol every backend implements."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from schemas.asset import EncoderInfo

Vectors = NDArray[np.float32]


class Modality(StrEnum):
    TEXT = "text"
    IMAGE = "image"


@runtime_checkable
class Encoder(Protocol):
    name: str
    version: str
    dimension: int
    modality: Modality

    def encode(self, items: Sequence[Any], *, batch_size: int = 32) -> Vectors:
        """Encode texts (modality text) or PIL images (modality image): float32 (n, dimension), unit length."""
        ...


@runtime_checkable
class TextToImageEncoder(Encoder, Protocol):
    """An image encoder that also encodes text into its image space (CLIP)."""

    def encode_text(self, texts: Sequence[str], *, batch_size: int = 32) -> Vectors: ...


def info(encoder: Encoder) -> EncoderInfo:
    return EncoderInfo(name=encoder.name, version=encoder.version, dimension=encoder.dimension)


def normalise(vectors: NDArray[Any]) -> Vectors:
    """Rows scaled to unit length (zero rows stay zero); float32."""
    v = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    out: Vectors = np.divide(v, norms, out=np.zeros_like(v), where=norms > 0)
    return out


def batches(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i:i + size] for i in range(0, len(items), max(1, size))]
