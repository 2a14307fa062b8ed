"""Any sentence-transformers model, by hub id or local path: text models and CLIP (text + images).

The version recorded with each vector is a short hash of the model's weights, so two different
checkpoints under one name never pass as the same encoder.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexing.encoders.base import Modality, Vectors, normalise


def weights_version(model: Any) -> str:
    """sha256 of every parameter and buffer, in order: the identity of the weights whatever the name."""
    digest = hashlib.sha256()
    for key, tensor in model.state_dict().items():
        digest.update(key.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:12]


class SentenceTransformerEncoder:
    """`st:<id or path>`. modality image needs a model that encodes images (CLIP)."""

    def __init__(self, model: str, modality: Modality, device: str = "cpu", threads: int = 2) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        self._model = SentenceTransformer(model, device=device)
        self.name = f"st:{Path(model).name if Path(model).exists() else model}"
        self.modality = modality
        self.is_clip = bool(self._model.supports("image"))
        if modality is Modality.IMAGE and not self.is_clip:
            raise ValueError(f"{model} does not encode images: an image encoder must be a CLIP model")
        self.version = weights_version(self._model)
        dimension = self._model.get_embedding_dimension()
        if dimension is None:  # CLIP reports none: measure it
            dimension = int(self._encode(["dimension"], 1).shape[1])
        self.dimension = int(dimension)

    def _encode(self, items: Sequence[Any], batch_size: int) -> Vectors:
        vectors = self._model.encode(list(items), batch_size=batch_size, convert_to_numpy=True,
                                     normalize_embeddings=False, show_progress_bar=False)
        return normalise(np.asarray(vectors))

    def encode(self, items: Sequence[Any], *, batch_size: int = 32) -> Vectors:
        if not items:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.modality is Modality.IMAGE:
            items = [image.convert("RGB") for image in items]
        return self._encode(items, batch_size)

    def encode_text(self, texts: Sequence[str], *, batch_size: int = 32) -> Vectors:
        """Text into this model's space: for a CLIP image encoder, the query side of text → image search."""
        return self._encode(texts, batch_size) if texts else np.zeros((0, self.dimension), dtype=np.float32)
