"""Versioned indices behind aliases: `<prefix>-assets` → `<prefix>-assets-v<n>`.

Callers name the alias (through `assets_alias`); only this module knows concrete index names.
A reindex (as in elasticsearch-py's alias-migration example, client-side because this server has
no reindex module) creates `v<n+1>` from the current schema, copies every document through a
transform (re-derivation, re-embedding), swaps the alias in one atomic `update_aliases`, then
copies again what was written to the old index meanwhile. Readers never see an empty alias.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from elasticsearch import BadRequestError, Elasticsearch
from elasticsearch.helpers import scan

from indexing.bulk import BulkResult, index_documents
from indexing.mappings import assets_index_body
from services.settings import ElasticsearchSettings

log = logging.getLogger(__name__)

Transform = Callable[[dict[str, Any]], dict[str, Any]]


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


def current_index(es: Elasticsearch, alias: str) -> str:
    indices = list(es.indices.get_alias(name=alias))
    if len(indices) != 1:
        raise RuntimeError(f"alias {alias} points at {indices}; expected exactly one index")
    return indices[0]


def create_next_version(es: Elasticsearch, es_settings: ElasticsearchSettings) -> str:
    """A new, empty `v<n+1>` index with the current schema's mapping (not yet behind the alias)."""
    alias = ensure_assets_index(es, es_settings)
    existing = [int(m.group(1)) for name in es.indices.get(index=f"{alias}-v*")
                if (m := re.fullmatch(rf"{re.escape(alias)}-v(\d+)", name))]
    index = f"{alias}-v{max(existing, default=0) + 1}"
    es.indices.create(index=index, **assets_index_body())
    return index


def copy_documents(es: Elasticsearch, source: str, dest: str, transform: Transform,
                   query: dict[str, Any] | None = None) -> BulkResult:
    def docs() -> Iterator[tuple[str, dict[str, Any]]]:
        for hit in scan(es, index=source, query={"query": query or {"match_all": {}}}, size=500,
                        source={"exclude_vectors": False}):
            yield hit["_id"], transform(hit["_source"])

    return index_documents(es, dest, docs())


def swap_alias(es: Elasticsearch, alias: str, new_index: str) -> str:
    """Point the alias at `new_index` in one atomic step; returns the index it left."""
    old = current_index(es, alias)
    es.indices.update_aliases(actions=[
        {"remove": {"index": old, "alias": alias}},
        {"add": {"index": new_index, "alias": alias, "is_write_index": True}},
    ])
    return old


# A document can be stored (ingested_at) well before a later task indexes it into the old index;
# the catch-up copies everything ingested within this window before the reindex began.
CATCH_UP_WINDOW = timedelta(days=1)


def reindex(es: Elasticsearch, es_settings: ElasticsearchSettings, transform: Transform, *,
            started: datetime, drop_old: bool = True) -> dict[str, Any]:
    """Copy everything into a new version through `transform`, swap, catch up with late writes."""
    alias = ensure_assets_index(es, es_settings)
    old = current_index(es, alias)
    new = create_next_version(es, es_settings)
    copied = copy_documents(es, old, new, transform)
    es.indices.refresh(index=new)
    swap_alias(es, alias, new)
    # Ingestion kept writing to the old index until the swap: copy what it wrote since `started`.
    since = (started - CATCH_UP_WINDOW).isoformat()
    caught_up = copy_documents(es, old, new, transform, {"range": {"ingested_at": {"gte": since}}})
    es.indices.refresh(index=new)
    if drop_old and not copied.failed and not caught_up.failed:
        es.indices.delete(index=old)
    log.info("reindexed", extra={"from": old, "to": new, "copied": copied.indexed, "caught_up": caught_up.indexed})
    return {"from": old, "to": new, "copied": copied.indexed, "caught_up": caught_up.indexed,
            "failed": copied.failed | caught_up.failed}
