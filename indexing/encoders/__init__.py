"""Encoders: text and images → L2-normalised float32 vectors, with the name and version that made them.

Backends (chosen by spec in Settings.models, passed in by the caller; shared per process by
`text_encoder(models)` / `image_encoder(models)`, each loading its model once, on first use):

- `use-multilingual-v3` — Universal Sentence Encoder multilingual v3 (packaged, numpy, 512-d),
  one space for Chinese and English, so a Chinese query finds an English-only record;
- `efficientnet-lite0` — EfficientNet-Lite0 ImageNet features (packaged weights, 1280-d),
  run through ONNX Runtime after a one-time export (or through torch);
- `st:<model id or path>` — any sentence-transformers model, from a hub or a local folder,
  including CLIP models whose text and image vectors share a space.
"""

from __future__ import annotations

from indexing.encoders.base import Encoder, Modality, normalise
from indexing.encoders.registry import build_encoder, image_encoder, text_encoder
from schemas.asset import EncoderInfo

__all__ = ["Encoder", "EncoderInfo", "Modality", "build_encoder", "image_encoder", "normalise", "text_encoder"]
