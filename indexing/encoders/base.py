"""The Encoder protocol every backend implements, and the lazy loading they share.

As in immich's ML service, a backend is cheap to construct (names, settings, a version read from
package metadata) and loads its model on first use: `load()` is idempotent and guarded by a lock,
checked twice, so threads of one process that ask for the same encoder at once load it exactly once.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
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
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def dimension(self) -> int: ...
    @property
    def modality(self) -> Modality: ...

    def encode(self, items: Sequence[Any], *, batch_size: int = 32) -> Vectors:
        """Encode texts (modality text) or PIL images (modality image): float32 (n, dimension), unit length."""
        ...


@runtime_checkable
class TextToImageEncoder(Encoder, Protocol):
    """An image encoder that also encodes text into its image space (CLIP)."""

    def encode_text(self, texts: Sequence[str], *, batch_size: int = 32) -> Vectors: ...


class LazyModel(ABC):
    """A model loaded once, on first use: subclasses implement `_load`; `loads` counts how often it ran."""

    def __init__(self) -> None:
        self._load_lock = threading.Lock()
        self._loaded = False
        self.loads = 0

    @property
    def loaded(self) -> bool:
        return self._loaded

    def load(self) -> None:
        if self._loaded:
            return
        with self._load_lock:
            if self._loaded:  # another thread loaded it while this one waited
                return
            self._load()
            self.loads += 1
            self._loaded = True

    @abstractmethod
    def _load(self) -> None:
        """Read the weights and build the runtime; runs once, under the lock."""


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
