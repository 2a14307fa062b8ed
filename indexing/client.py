"""The Elasticsearch client, configured from Settings (one per process, made by the caller)."""

from __future__ import annotations

from elasticsearch import Elasticsearch

from services.settings import ElasticsearchSettings


def make_client(es: ElasticsearchSettings) -> Elasticsearch:
    return Elasticsearch(
        es.url,
        request_timeout=es.request_timeout_s,
        max_retries=es.max_retries,
        retry_on_timeout=True,
        retry_on_status=(429, 502, 503, 504),
    )
