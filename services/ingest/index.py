"""Step 4 of ingest_batch: bulk-index one enriched chunk into the assets index."""

from __future__ import annotations

from indexing.aliases import EncoderMismatch, ensure_assets_index
from indexing.bulk import BulkResult, index_documents
from schemas.asset import EncoderInfo
from services.ingest.context import IngestContext
from services.ingest.keys import ChunkKeys
from services.ingest.progress import StepDone
from services.storage import get_json, get_jsonl, put_json


def index_chunk(ctx: IngestContext, enriched_key: str, items: int = 0) -> StepDone:
    """An enriched chunk's documents into Elasticsearch → its `indexed` key (what was indexed, what failed)."""
    s3 = ctx.settings.s3
    keys = ChunkKeys.of(enriched_key)
    docs = get_jsonl(ctx.s3, s3.bucket_reports, keys.enriched)
    encoders = {m: EncoderInfo.model_validate(e) if e else None
                for m, e in get_json(ctx.s3, s3.bucket_reports, keys.encoders).items()}
    try:
        alias = ensure_assets_index(ctx.es, ctx.settings, encoders)
    except EncoderMismatch as exc:  # every item of the chunk is reported with the reason
        result = BulkResult(failed={d["asset_id"]: str(exc) for d in docs})
    else:
        result = index_documents(ctx.es, alias, ((d["asset_id"], d["document"]) for d in docs))
    put_json(ctx.s3, s3.bucket_reports, keys.indexed, {"indexed": result.indexed, "failed": result.failed})
    return StepDone(keys.indexed, items or len(docs), result.indexed)
