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
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from elasticsearch import BadRequestError, Elasticsearch
from elasticsearch.helpers import scan

from indexing.bulk import BulkResult, index_documents
from indexing.mappings import Encoders, assets_index_body
from services.settings import ElasticsearchSettings, Settings

log = logging.getLogger(__name__)

Transform = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]  # a page of documents at a time


class EncoderMismatch(RuntimeError):
    """Documents embedded by other encoders than those the index was made for."""


def assets_alias(es_settings: ElasticsearchSettings) -> str:
    return f"{es_settings.index_prefix}-assets"


def index_encoders(es: Elasticsearch, index: str) -> dict[str, Any] | None:
    """The encoders an index's vectors come from (its mapping's _meta), None for an index without them."""
    mappings = next(iter(es.indices.get_mapping(index=index).body.values()))["mappings"]
    encoders: dict[str, Any] | None = mappings.get("_meta", {}).get("encoders")
    return encoders


def ensure_assets_index(es: Elasticsearch, settings: Settings, encoders: Encoders) -> str:
    """The alias, pointing at a first versioned index if none existed yet.

    EncoderMismatch when the index holds vectors of other encoders: the reindex DAG moves an
    index to new models; mixing two vector spaces in one field would make kNN meaningless.
    """
    alias = assets_alias(settings.es)
    body = assets_index_body(encoders, settings.search, settings.es.cluster_nodes)
    if es.indices.exists_alias(name=alias):
        wanted = body["mappings"]["_meta"]["encoders"]
        have = index_encoders(es, alias)
        if have and have != wanted:
            raise EncoderMismatch(f"index {current_index(es, alias)} holds vectors of {have}; these documents were "
                                  f"embedded with {wanted}: trigger the reindex DAG to move the index to them")
        # Fields added to the schema since the index was made are added to its mapping (additive
        # changes only; a changed field needs a new index version and a reindex).
        es.indices.put_mapping(index=alias, properties=body["mappings"]["properties"], meta=body["mappings"]["_meta"])
        return alias
    index = f"{alias}-v1"
    try:
        es.indices.create(index=index, aliases={alias: {"is_write_index": True}}, **body)
    except BadRequestError as exc:
        if exc.error != "resource_already_exists_exception":
            raise
    return alias


def current_index(es: Elasticsearch, alias: str) -> str:
    indices = list(es.indices.get_alias(name=alias))
    if len(indices) != 1:
        raise RuntimeError(f"alias {alias} points at {indices}; expected exactly one index")
    return indices[0]


def create_next_version(es: Elasticsearch, settings: Settings, encoders: Encoders) -> str:
    """A new, empty `v<n+1>` index with the current schema's mapping (not yet behind the alias)."""
    alias = assets_alias(settings.es)
    existing = [int(m.group(1)) for name in es.indices.get(index=f"{alias}-v*")
                if (m := re.fullmatch(rf"{re.escape(alias)}-v(\d+)", name))]
    index = f"{alias}-v{max(existing, default=0) + 1}"
    es.indices.create(index=index, **assets_index_body(encoders, settings.search, settings.es.cluster_nodes))
    return index


def copy_documents(es: Elasticsearch, source: str, dest: str, transform: Transform,
                   query: dict[str, Any] | None = None, page_size: int = 100) -> BulkResult:
    """Scan `source`, transform a page at a time and bulk-index each page: memory stays one page deep."""
    total = BulkResult()

    def flush(ids: list[str], page: list[dict[str, Any]]) -> None:
        result = index_documents(es, dest, zip(ids, transform(page), strict=True))
        total.indexed += result.indexed
        total.failed |= result.failed

    page: list[dict[str, Any]] = []
    ids: list[str] = []
    for hit in scan(es, index=source, query={"query": query or {"match_all": {}}}, size=page_size,
                    source={"exclude_vectors": False}):
        page.append(hit["_source"])
        ids.append(hit["_id"])
        if len(page) == page_size:
            flush(ids, page)
            page, ids = [], []
    if page:
        flush(ids, page)
    return total


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


def reindex(es: Elasticsearch, settings: Settings, transform: Transform, encoders: Encoders, *,
            started: datetime, drop_old: bool = True) -> dict[str, Any]:
    """Copy everything into a new version through `transform`, swap, catch up with late writes.

    `encoders` are those `transform` embeds with: the new index is made for them.
    """
    alias = assets_alias(settings.es)
    if not es.indices.exists_alias(name=alias):
        ensure_assets_index(es, settings, encoders)
    old = current_index(es, alias)
    new = create_next_version(es, settings, encoders)
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
