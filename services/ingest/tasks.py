"""The entry points ingest_batch's tasks call: one per step, each measured, clients made once per process."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from indexing.aliases import reindex
from services.ingest.context import get_context, get_enricher
from services.ingest.prepare import prepare
from services.ingest.report import enrich_chunk, finalize, index_chunk
from services.ingest.stats import measured
from services.ingest.store import store_chunk


def _part(key: str) -> str:
    return key.rsplit("-", 1)[-1].split(".", 1)[0]  # chunk-00042.jsonl → 00042


def run_prepare(batch_id: str) -> list[str]:
    with measured(ctx := get_context(), batch_id, "prepare"):
        return prepare(ctx, batch_id)


def run_store(batch_id: str, chunk_key: str) -> str:
    with measured(ctx := get_context(), batch_id, "store", _part(chunk_key)):
        return store_chunk(ctx, batch_id, chunk_key)


def run_enrich(batch_id: str, result_key: str) -> str:
    with measured(ctx := get_context(), batch_id, "enrich", _part(result_key)):
        return enrich_chunk(ctx, batch_id, result_key)


def run_index(batch_id: str, enriched_key: str) -> str:
    with measured(ctx := get_context(), batch_id, "index", _part(enriched_key)):
        return index_chunk(ctx, batch_id, enriched_key)


def run_finalize(batch_id: str) -> dict[str, Any]:
    with measured(ctx := get_context(), batch_id, "finalize"):
        return finalize(ctx, batch_id)


def run_reindex() -> dict[str, Any]:
    """Re-derive and re-embed every document with the configured models into a new index version."""
    ctx = get_context()
    enricher = get_enricher()
    return reindex(ctx.es, ctx.settings, enricher.enrich_documents, enricher.encoders, started=datetime.now(UTC))
