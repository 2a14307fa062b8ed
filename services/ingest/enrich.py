"""Step 3 of ingest_batch: vectors, AI labels and OCR for one stored chunk (indexing/enrich.py)."""

from __future__ import annotations

from schemas.asset import AssetRecord
from services.ingest.context import IngestContext, get_enricher
from services.ingest.keys import ChunkKeys
from services.ingest.progress import StepDone
from services.storage import get_jsonl, put_json, put_jsonl


def enrich_chunk(ctx: IngestContext, result_key: str, items: int = 0) -> StepDone:
    """A stored chunk's documents, enriched → its `enriched` key (with the encoders and model timings beside it)."""
    s3 = ctx.settings.s3
    keys = ChunkKeys.of(result_key)
    stored = [r for r in get_jsonl(ctx.s3, s3.bucket_reports, keys.result) if r["status"] == "stored"]
    enricher = get_enricher()
    enricher.timings.clear()
    assets = enricher.enrich([AssetRecord.model_validate(r["document"]) for r in stored])
    put_jsonl(ctx.s3, s3.bucket_reports, keys.enriched, [{"asset_id": a.asset_id, "document": a.model_dump(mode="json")}
                                                         for a in assets])
    put_json(ctx.s3, s3.bucket_reports, keys.encoders,
             {m: e.model_dump() if e else None for m, e in enricher.encoders.items()})
    put_json(ctx.s3, s3.bucket_reports, keys.models,
             {stage: {"seconds": round(t[0], 3), "items": int(t[1])} for stage, t in enricher.timings.items()})
    return StepDone(keys.enriched, items or len(stored), len(assets))
