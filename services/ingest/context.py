"""Clients for the pipeline's tasks: made once per worker process, from Settings."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from elasticsearch import Elasticsearch
from minio import Minio

from indexing.client import make_client as make_es_client
from services.settings import Settings, get_settings
from services.storage import make_client as make_s3_client

if TYPE_CHECKING:
    from indexing.enrich import Enricher


@dataclass(frozen=True)
class IngestContext:
    settings: Settings
    s3: Minio
    es: Elasticsearch


@cache
def get_enricher() -> Enricher:
    """Models loaded once per worker process, on first use (the store step never loads them)."""
    from indexing.enrich import Enricher

    ctx = get_context()
    return Enricher(ctx.settings, ctx.es, ctx.s3)


@cache
def get_context() -> IngestContext:
    settings = get_settings()
    return IngestContext(settings, make_s3_client(settings.s3), make_es_client(settings.es))
