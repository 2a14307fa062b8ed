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

from indexing.encoders.base import LazyModel, Modality, Vectors, normalise


def weights_version(model: Any) -> str:
    """sha256 of every parameter and buffer, in order: the identity of the weights whatever the name."""
    digest = hashlib.sha256()
    for key, tensor in model.state_dict().items():
        digest.update(key.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:12]


def declares_clip(folder: Path) -> bool | None:
    """Whether a local model folder is a CLIP model, by its config files alone; None when it is no local folder."""
    if not folder.is_dir():
        return None
    configs = (folder / "modules.json", folder / "config.json")
    return any("clip" in p.read_text(encoding="utf-8", errors="ignore").lower() for p in configs if p.is_file())


class SentenceTransformerEncoder(LazyModel):
    """`st:<id or path>`. modality image needs a model that encodes images (CLIP).

    The version (a hash of the weights) and the dimension are known once the model is loaded:
    reading them loads it."""

    def __init__(self, model: str, modality: Modality, device: str = "cpu", threads: int = 2) -> None:
        super().__init__()
        self.model = model
        self.device = device
        self.threads = threads
        self.name = f"st:{Path(model).name if Path(model).exists() else model}"
        self.modality = modality
        if modality is Modality.IMAGE and declares_clip(Path(model)) is False:  # a hub id is checked on load
            raise ValueError(f"{model} does not encode images: an image encoder must be a CLIP model")
        self._model: Any = None
        self._version = ""
        self._dimension = 0
        self.is_clip = False

    def _load(self) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(self.threads)
        model = SentenceTransformer(self.model, device=self.device)
        self.is_clip = bool(model.supports("image"))
        if self.modality is Modality.IMAGE and not self.is_clip:
            raise ValueError(f"{self.model} does not encode images: an image encoder must be a CLIP model")
        self._model = model
        self._version = weights_version(model)
        dimension = model.get_embedding_dimension()
        if dimension is None:  # CLIP reports none: measure it
            dimension = int(self._encode(["dimension"], 1).shape[1])
        self._dimension = int(dimension)

    @property
    def version(self) -> str:
        self.load()
        return self._version

    @property
    def dimension(self) -> int:
        self.load()
        return self._dimension

    def _encode(self, items: Sequence[Any], batch_size: int) -> Vectors:
        vectors = self._model.encode(list(items), batch_size=batch_size, convert_to_numpy=True,
                                     normalize_embeddings=False, show_progress_bar=False)
        return normalise(np.asarray(vectors))

    def encode(self, items: Sequence[Any], *, batch_size: int = 32) -> Vectors:
        self.load()
        if not items:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.modality is Modality.IMAGE:
            items = [image.convert("RGB") for image in items]
        return self._encode(items, batch_size)

    def encode_text(self, texts: Sequence[str], *, batch_size: int = 32) -> Vectors:
        """Text into this model's space: for a CLIP image encoder, the query side of text → image search."""
        self.load()
        return self._encode(texts, batch_size) if texts else np.zeros((0, self.dimension), dtype=np.float32)
