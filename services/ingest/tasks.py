"""The entry points ingest_batch's tasks call, each measured; clients and models made once per process.

Each step's code is in the module named for it: prepare, store, enrich, index, finalize
(services/ingest/<step>.py); chunk keys are named by services/ingest/keys.py. One mapped task runs a
chunk's three steps (store → enrich → index) in one process, so a chunk pays for one task start, not
three; each step still writes its output key and then its progress (services/ingest/progress.py), and a
retried chunk resumes after the last step it finished.
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
from services.ingest.progress import StepDone, chunk_state, record
from services.ingest.stats import measured
from services.ingest.store import store_chunk


def run_prepare(batch_id: str) -> list[str]:
    with measured(ctx := get_context(), batch_id, "prepare"):
        return prepare(ctx, batch_id)


def run_chunk(batch_id: str, chunk_key: str) -> str:
    """Store, enrich and index one chunk → its `indexed` key (what finalize reads); a retry resumes after the
    last step this run finished (services/ingest/progress.py)."""
    ctx, keys = get_context(), ChunkKeys.of(chunk_key)
    state = chunk_state(ctx, batch_id, keys.part)
    steps = state.get("steps", 0)
    if steps >= 1:
        stored = StepDone(keys.result, state["items"], state["stored"])
    else:
        with measured(ctx, batch_id, "store", keys.part):
            stored = store_chunk(ctx, batch_id, chunk_key)
        record(ctx, batch_id, keys.part, stored.items, "stored", stored.count)
    if steps < 2:
        with measured(ctx, batch_id, "enrich", keys.part):
            enriched = enrich_chunk(ctx, stored.key, stored.items)
        record(ctx, batch_id, keys.part, stored.items, "enriched", enriched.count)
    if steps < 3:
        with measured(ctx, batch_id, "index", keys.part):
            indexed = index_chunk(ctx, keys.enriched, stored.items)
        record(ctx, batch_id, keys.part, stored.items, "indexed", indexed.count)
    return keys.indexed


def run_finalize(batch_id: str) -> dict[str, Any]:
    with measured(ctx := get_context(), batch_id, "finalize"):
        return finalize(ctx, batch_id)


def run_reindex() -> dict[str, Any]:
    """Re-derive and re-embed every document with the configured models into a new index version."""
    ctx = get_context()
    enricher = get_enricher()
    return reindex(ctx.es, ctx.settings, enricher.enrich_documents, enricher.encoders, started=datetime.now(UTC))
