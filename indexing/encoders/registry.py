"""Encoders by spec, from injected ModelSettings; one shared instance per spec and settings in a process.

`build_encoder` makes a new encoder (cheap: the model loads on first use, indexing/encoders/base.py);
`text_encoder(models)` / `image_encoder(models)` hand out the process's shared one, so a gateway worker
or an Airflow task process loads each model once.
"""

from __future__ import annotations

import threading

from indexing.encoders.base import Encoder, LazyModel, Modality
from services.settings import ModelSettings

ST_PREFIX = "st:"
# What a backend is built from; two settings that agree on these share one encoder.
_BUILD_FIELDS = {"device", "threads", "image_runtime", "cache_dir"}

_lock = threading.Lock()
_shared: dict[tuple[str, Modality, str], Encoder] = {}


def build_encoder(spec: str, modality: Modality, models: ModelSettings) -> Encoder:
    """A new encoder for `spec` (see indexing/encoders/__init__.py); ValueError names the accepted specs."""
    if spec.startswith(ST_PREFIX):
        from indexing.encoders.sentence_transformers import SentenceTransformerEncoder

        return SentenceTransformerEncoder(spec.removeprefix(ST_PREFIX), modality, models.device, models.threads)
    if spec == "use-multilingual-v3" and modality is Modality.TEXT:
        from indexing.encoders.use import UseEncoder

        return UseEncoder(models.threads)
    if spec == "efficientnet-lite0" and modality is Modality.IMAGE:
        from indexing.encoders.efficientnet import EfficientNetLite0Encoder

        return EfficientNetLite0Encoder(models.image_runtime, models.cache_dir, models.threads)
    accepted = ("use-multilingual-v3 or st:<model>" if modality is Modality.TEXT
                else "efficientnet-lite0, none or st:<CLIP model>")
    raise ValueError(f"unknown {modality} encoder {spec!r}: use {accepted}")


def shared_encoder(spec: str, modality: Modality, models: ModelSettings) -> Encoder:
    """The process's encoder for `spec` built from `models`, constructed once (under a lock) and reused."""
    key = (spec, modality, models.model_dump_json(include=_BUILD_FIELDS))
    with _lock:
        if (encoder := _shared.get(key)) is None:
            encoder = _shared[key] = build_encoder(spec, modality, models)
    return encoder


def text_encoder(models: ModelSettings) -> Encoder:
    return shared_encoder(models.text_encoder, Modality.TEXT, models)


def image_encoder(models: ModelSettings) -> Encoder | None:
    """The configured image encoder, or None when image vectors are turned off (`none`)."""
    return None if models.image_encoder == "none" else shared_encoder(models.image_encoder, Modality.IMAGE, models)


def load_encoders(models: ModelSettings) -> None:
    """Load the configured text and image encoders now (a gateway's warm-up) rather than on first use."""
    for encoder in (text_encoder(models), image_encoder(models)):
        if isinstance(encoder, LazyModel):
            encoder.load()
