"""The entry points ingest_batch's tasks call: one per step, each measured, clients made once per process.

Each step's code is in the module named for it: prepare, store, enrich, index, finalize
(services/ingest/<step>.py); chunk keys are named by services/ingest/keys.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from indexing.aliases import reindex
from services.ingest.context import get_context, get_enricher
from services.ingest.enrich import enrich_chunk
from services.ingest.finalize import finalize
from services.ingest.index import index_chunk
from services.ingest.keys import ChunkKeys
from services.ingest.prepare import prepare
from services.ingest.stats import measured
from services.ingest.store import store_chunk


def run_prepare(batch_id: str) -> list[str]:
    with measured(ctx := get_context(), batch_id, "prepare"):
        return prepare(ctx, batch_id)


def run_store(batch_id: str, chunk_key: str) -> str:
    with measured(ctx := get_context(), batch_id, "store", ChunkKeys.of(chunk_key).part):
        return store_chunk(ctx, batch_id, chunk_key)


def run_enrich(batch_id: str, result_key: str) -> str:
    with measured(ctx := get_context(), batch_id, "enrich", ChunkKeys.of(result_key).part):
        return enrich_chunk(ctx, result_key)


def run_index(batch_id: str, enriched_key: str) -> str:
    with measured(ctx := get_context(), batch_id, "index", ChunkKeys.of(enriched_key).part):
        return index_chunk(ctx, enriched_key)


def run_finalize(batch_id: str) -> dict[str, Any]:
    with measured(ctx := get_context(), batch_id, "finalize"):
        return finalize(ctx, batch_id)


def run_reindex() -> dict[str, Any]:
    """Re-derive and re-embed every document with the configured models into a new index version."""
    ctx = get_context()
    enricher = get_enricher()
    return reindex(ctx.es, ctx.settings, enricher.enrich_documents, enricher.encoders, started=datetime.now(UTC))
