"""Step 5 of ingest_batch (runs even when a chunk failed): account for every item of the batch.

The batch counts must balance: received = stored + rejected, and every stored item must be
indexed. A batch whose numbers do not balance, whose chunks did not all finish, or with a stored
item that Elasticsearch refused (`index-failed` in the report), ends `failed` with the reason,
never `succeeded` with silent gaps. Valid rows' warnings (prepare: a date not understood) are
added to their items.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from indexing.aliases import assets_alias
from services.ingest.batches import BatchState, load_batch, save_batch
from services.ingest.context import IngestContext
from services.ingest.errors import ErrorCode
from services.ingest.keys import BatchKeys, ChunkKeys
from services.ingest.progress import summed
from services.ingest.report import to_csv
from services.storage import ObjectNotFound, get_json, get_jsonl, list_keys, put_json

log = logging.getLogger(__name__)


def finalize(ctx: IngestContext, batch_id: str) -> dict[str, Any]:
    """Account for every item: write the report (JSON, CSV, the quarantine's), set the batch's counts and state."""
    s3 = ctx.settings.s3
    keys = BatchKeys(batch_id)
    batch = load_batch(ctx.s3, s3, batch_id)
    if batch.state is BatchState.FAILED and batch.error:
        return batch.counts.model_dump()  # the manifest could not be read: nothing to account for
    items: list[dict[str, Any]] = []
    problems: list[str] = []
    try:
        items += get_jsonl(ctx.s3, s3.bucket_reports, keys.rejected)
    except ObjectNotFound:
        problems.append("the validation step did not finish")
    try:
        warnings = {w["row"]: w["warnings"] for w in get_jsonl(ctx.s3, s3.bucket_reports, keys.warnings)}
    except ObjectNotFound:
        warnings = {}  # a batch prepared before warnings existed
    chunks = sorted(o.object_name or "" for o in list_keys(ctx.s3, s3.bucket_reports, keys.chunk_prefix))
    indexed = 0
    for chunk in chunks:
        chunk_keys = ChunkKeys.of(chunk)
        try:
            results = get_jsonl(ctx.s3, s3.bucket_reports, chunk_keys.result)
            summary = get_json(ctx.s3, s3.bucket_reports, chunk_keys.indexed)
        except ObjectNotFound:
            problems.append(f"{chunk.rsplit('/', 1)[-1]} did not finish")
            continue
        indexed += summary["indexed"]
        for r in results:
            r.pop("document", None)
            if r["status"] == "stored" and r["asset_id"] in summary["failed"]:
                r["errors"] = [{"field": None, "code": ErrorCode.INDEX_FAILED.value,
                                "reason": f"Elasticsearch refused the document: {summary['failed'][r['asset_id']]}"}]
            elif r["status"] == "stored":
                r["status"] = "indexed"
            if r["status"] != "rejected" and r.get("row") in warnings:
                r["warnings"] = warnings[r["row"]]
            items.append(r)
    items.sort(key=lambda i: (i.get("row") is None, i.get("row") or 0, i.get("paths") or []))
    counts = batch.counts
    counts.stored = sum(1 for i in items if i["status"] in {"stored", "indexed"})
    counts.indexed = indexed
    counts.rejected = sum(1 for i in items if i["status"] == "rejected")
    if counts.received != counts.stored + counts.rejected:
        problems.append(f"received {counts.received} ≠ stored {counts.stored} + rejected {counts.rejected}")
    unindexed = sum(1 for i in items if i["status"] == "stored")
    if unindexed or counts.indexed != counts.stored:
        problems.append(f"{unindexed or counts.stored - counts.indexed} of {counts.stored} stored item(s) not indexed "
                        f"(indexed {counts.indexed}; index-failed in the report)")
    put_json(ctx.s3, s3.bucket_reports, keys.report(), items)
    data = to_csv(items).encode("utf-8-sig")  # BOM: Excel opens it as UTF-8
    ctx.s3.put_object(s3.bucket_reports, keys.report("csv"), io.BytesIO(data), len(data),
                      content_type="text/csv; charset=utf-8")
    rejected = [i for i in items if i["status"] == "rejected"]
    put_json(ctx.s3, s3.bucket_quarantine, keys.quarantine_report, rejected)
    if counts.stored:
        ctx.es.indices.refresh(index=assets_alias(ctx.settings.es))
    batch = load_batch(ctx.s3, s3, batch_id)
    batch.counts = counts
    batch.progress = summed(ctx, batch_id, batch.progress, finished=not problems)
    batch.state = BatchState.FAILED if problems else BatchState.SUCCEEDED
    batch.error = "; ".join(problems) or None
    save_batch(ctx.s3, s3, batch)
    log.info("batch finished", extra={"batch_id": batch_id, "state": batch.state, **counts.model_dump()})
    return counts.model_dump()
