"""Encoders by spec, loaded once per process (a gateway worker or an Airflow task process)."""

from __future__ import annotations

from functools import cache

from indexing.encoders.base import Encoder, Modality
from services.settings import ModelSettings, get_settings

ST_PREFIX = "st:"


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


@cache
def _cached(spec: str, modality: Modality) -> Encoder:
    return build_encoder(spec, modality, get_settings().models)


def text_encoder() -> Encoder:
    return _cached(get_settings().models.text_encoder, Modality.TEXT)


def image_encoder() -> Encoder | None:
    """The configured image encoder, or None when image vectors are turned off (`none`)."""
    spec = get_settings().models.image_encoder
    return None if spec == "none" else _cached(spec, Modality.IMAGE)
