"""Clients for the pipeline's tasks: made once per worker process, from Settings."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from elasticsearch import Elasticsearch
from minio import Minio

from indexing.client import make_client as make_es_client
from services.settings import Settings, get_settings
from services.storage import make_client as make_s3_client


@dataclass(frozen=True)
class IngestContext:
    settings: Settings
    s3: Minio
    es: Elasticsearch


@cache
def get_context() -> IngestContext:
    settings = get_settings()
    return IngestContext(settings, make_s3_client(settings.s3), make_es_client(settings.es))
