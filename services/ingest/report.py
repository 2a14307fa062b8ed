"""Steps 3–5 of ingest_batch: enrich and index each stored chunk, then account for every item.

The report lists every item received — stored and indexed, or rejected with row, field, code
and reason — as JSON and CSV, and the batch counts must balance: received = stored + rejected.
A batch whose numbers do not balance, or whose chunks did not all finish, ends `failed` with
the reason, never `succeeded` with silent gaps.
"""

from __future__ import annotations

import csv
import io
import logging
from typing import Any

from indexing.aliases import EncoderMismatch, assets_alias, ensure_assets_index
from indexing.bulk import BulkResult, index_documents
from schemas.asset import AssetRecord, EncoderInfo
from services.ingest.batches import BatchState, load_batch, report_key, save_batch, work_key
from services.ingest.context import IngestContext, get_enricher
from services.storage import ObjectNotFound, get_json, get_jsonl, list_keys, put_json, put_jsonl

log = logging.getLogger(__name__)

REPORT_COLUMNS = ["row", "object_id", "status", "asset_id", "field", "code", "reason", "paths"]


def enriched_key(result_key: str) -> str:
    return result_key.replace("/result-", "/enriched-")


def indexed_key(result_key: str) -> str:
    return result_key.replace("/result-", "/indexed-").replace("/enriched-", "/indexed-").replace(".jsonl", ".json")


def enrich_chunk(ctx: IngestContext, batch_id: str, result_key: str) -> str:
    """Vectors, AI labels and OCR for a stored chunk's documents → `enriched-<n>.jsonl`."""
    s3 = ctx.settings.s3
    stored = [r for r in get_jsonl(ctx.s3, s3.bucket_reports, result_key) if r["status"] == "stored"]
    enricher = get_enricher()
    enricher.timings.clear()
    assets = enricher.enrich([AssetRecord.model_validate(r["document"]) for r in stored])
    key = enriched_key(result_key)
    put_jsonl(ctx.s3, s3.bucket_reports, key, [{"asset_id": a.asset_id, "document": a.model_dump(mode="json")}
                                               for a in assets])
    put_json(ctx.s3, s3.bucket_reports, key.replace(".jsonl", ".encoders.json"),
             {m: e.model_dump() if e else None for m, e in enricher.encoders.items()})
    chunk = key.rsplit("-", 1)[-1].replace(".jsonl", ".json")
    put_json(ctx.s3, s3.bucket_reports, work_key(batch_id, f"models/{chunk}"),
             {stage: {"seconds": round(t[0], 3), "items": int(t[1])} for stage, t in enricher.timings.items()})
    return key


def index_chunk(ctx: IngestContext, batch_id: str, enriched: str) -> str:
    s3 = ctx.settings.s3
    docs = get_jsonl(ctx.s3, s3.bucket_reports, enriched)
    encoders = {m: EncoderInfo.model_validate(e) if e else None
                for m, e in get_json(ctx.s3, s3.bucket_reports, enriched.replace(".jsonl", ".encoders.json")).items()}
    try:
        alias = ensure_assets_index(ctx.es, ctx.settings, encoders)
    except EncoderMismatch as exc:  # every item of the chunk is reported with the reason
        result = BulkResult(failed={d["asset_id"]: str(exc) for d in docs})
    else:
        result = index_documents(ctx.es, alias, ((d["asset_id"], d["document"]) for d in docs))
    key = indexed_key(enriched)
    put_json(ctx.s3, s3.bucket_reports, key, {"indexed": result.indexed, "failed": result.failed})
    return key


def report_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One flat row per item and error, for the CSV."""
    rows = []
    for item in items:
        base = {"row": item.get("row"), "object_id": item.get("object_id"), "status": item["status"],
                "asset_id": item.get("asset_id"), "paths": "; ".join(item.get("paths", []))}
        for err in item.get("errors") or [{}]:
            rows.append(base | {"field": err.get("field"), "code": err.get("code"), "reason": err.get("reason")})
    return rows


def to_csv(items: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(report_rows(items))
    return out.getvalue()


def finalize(ctx: IngestContext, batch_id: str) -> dict[str, Any]:
    s3 = ctx.settings.s3
    batch = load_batch(ctx.s3, s3, batch_id)
    if batch.state is BatchState.FAILED and batch.error:
        return batch.counts.model_dump()  # the manifest could not be read: nothing to account for
    items: list[dict[str, Any]] = []
    problems: list[str] = []
    try:
        items += get_jsonl(ctx.s3, s3.bucket_reports, work_key(batch_id, "rejected.jsonl"))
    except ObjectNotFound:
        problems.append("the validation step did not finish")
    prefix = work_key(batch_id, "")
    chunks = sorted(o.object_name or "" for o in list_keys(ctx.s3, s3.bucket_reports, prefix + "chunk-"))
    indexed = 0
    for chunk in chunks:
        result_key = chunk.replace("/chunk-", "/result-")
        try:
            results = get_jsonl(ctx.s3, s3.bucket_reports, result_key)
            summary = get_json(ctx.s3, s3.bucket_reports, indexed_key(result_key))
        except ObjectNotFound:
            problems.append(f"{chunk.rsplit('/', 1)[-1]} did not finish")
            continue
        indexed += summary["indexed"]
        for r in results:
            r.pop("document", None)
            if r["status"] == "stored" and r["asset_id"] in summary["failed"]:
                r["errors"] = [{"field": None, "code": "index-failed", "reason": summary["failed"][r["asset_id"]]}]
            elif r["status"] == "stored":
                r["status"] = "indexed"
            items.append(r)
    items.sort(key=lambda i: (i.get("row") is None, i.get("row") or 0, i.get("paths") or []))
    counts = batch.counts
    counts.stored = sum(1 for i in items if i["status"] in {"stored", "indexed"})
    counts.indexed = indexed
    counts.rejected = sum(1 for i in items if i["status"] == "rejected")
    if counts.received != counts.stored + counts.rejected:
        problems.append(f"received {counts.received} ≠ stored {counts.stored} + rejected {counts.rejected}")
    put_json(ctx.s3, s3.bucket_reports, report_key(batch_id), items)
    data = to_csv(items).encode("utf-8-sig")  # BOM: Excel opens it as UTF-8
    ctx.s3.put_object(s3.bucket_reports, report_key(batch_id, "csv"), io.BytesIO(data), len(data),
                      content_type="text/csv; charset=utf-8")
    rejected = [i for i in items if i["status"] == "rejected"]
    put_json(ctx.s3, s3.bucket_quarantine, f"{batch_id}/report.json", rejected)
    if counts.stored:
        ctx.es.indices.refresh(index=assets_alias(ctx.settings.es))
    batch = load_batch(ctx.s3, s3, batch_id)
    batch.counts = counts
    batch.state = BatchState.FAILED if problems else BatchState.SUCCEEDED
    batch.error = "; ".join(problems) or None
    save_batch(ctx.s3, s3, batch)
    log.info("batch finished", extra={"batch_id": batch_id, "state": batch.state, **counts.model_dump()})
    return counts.model_dump()
