"""Versioned indices behind aliases: `<prefix>-assets` → `<prefix>-assets-v<n>`.

Callers name the alias (through `assets_alias`); only this module knows concrete index names.
Creating the first version is idempotent and safe under concurrency (two tasks may race).
"""

from __future__ import annotations

from elasticsearch import BadRequestError, Elasticsearch

from indexing.mappings import assets_index_body
from services.settings import ElasticsearchSettings


def assets_alias(es_settings: ElasticsearchSettings) -> str:
    return f"{es_settings.index_prefix}-assets"


def ensure_assets_index(es: Elasticsearch, es_settings: ElasticsearchSettings) -> str:
    """The alias, pointing at a first versioned index if none existed yet."""
    alias = assets_alias(es_settings)
    if es.indices.exists_alias(name=alias):
        # Fields added to the schema since the index was made are added to its mapping (additive
        # changes only; a changed field needs a new index version and a reindex).
        es.indices.put_mapping(index=alias, properties=assets_index_body()["mappings"]["properties"])
        return alias
    index = f"{alias}-v1"
    try:
        es.indices.create(index=index, aliases={alias: {"is_write_index": True}}, **assets_index_body())
    except BadRequestError as exc:
        if exc.error != "resource_already_exists_exception":
            raise
    return alias
