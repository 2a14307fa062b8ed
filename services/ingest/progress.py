"""Per-stage progress of a running batch: validated, stored, enriched and indexed items, elapsed time and ETA.

Each chunk task writes its own counts to `work/progress/<part>.json` after each step (an overwrite,
so a retried chunk counts once) with the steps it has finished, then sums every chunk's counts into the batch record's
`progress`. Two chunks finishing at once may each sum before seeing the other's latest key; the
next step of either (and finalize, at the end) writes the full sum again, so the record is at most
one step behind and never counts an item twice. The same key is the chunk's checkpoint: a retried chunk
task (killed, or Elasticsearch down during enrich or index) skips the steps it already finished, so an
outage at index never runs the models again. The ETA extrapolates the pace so far: the work is
three steps for every validated row; a chunk of n rows that finished k steps has done n × k.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from services.ingest.batches import STAGES, BatchProgress, load_batch, save_batch
from services.ingest.context import IngestContext
from services.ingest.keys import BatchKeys
from services.storage import ObjectNotFound, get_json, list_keys, put_json


@dataclass(frozen=True)
class StepDone:
    """What one chunk step hands on: its output key, the chunk's rows and how many items it got through."""

    key: str
    items: int
    count: int


def estimate(progress: BatchProgress, done: int, now: datetime) -> BatchProgress:
    """`progress` with elapsed and ETA as of `now`, `done` of its 3 × validated step-items being finished."""
    if progress.started_at is None:
        return progress
    elapsed = max(0.0, (now - progress.started_at).total_seconds())
    left = max(0, len(STAGES) * progress.validated - done)
    eta = elapsed * left / done if done else None
    return progress.model_copy(update={"elapsed_s": round(elapsed, 1), "eta_s": None if eta is None else round(eta, 1)})


def chunk_state(ctx: IngestContext, batch_id: str, part: str) -> dict[str, int]:
    """What chunk `part` recorded in this run ({} before its first step): rows, steps finished, counts per step.
    A retried chunk task skips the steps it finished (prepare clears these keys when a run starts)."""
    try:
        state: dict[str, int] = get_json(ctx.s3, ctx.settings.s3.bucket_reports, BatchKeys(batch_id).progress(part))
    except ObjectNotFound:
        return {}
    return state


def record(ctx: IngestContext, batch_id: str, part: str, items: int, step: str, count: int) -> BatchProgress:
    """Chunk `part` (`items` rows) finished `step` (stored, enriched or indexed) with `count` items; the sum
    of every chunk's counts goes into the batch record."""
    bucket, keys = ctx.settings.s3.bucket_reports, BatchKeys(batch_id)
    mine: dict[str, int] = {"items": items, "steps": 0, **dict.fromkeys(STAGES, 0), **chunk_state(ctx, batch_id, part)}
    mine[step] = count
    mine["steps"] = max(mine["steps"], STAGES.index(step) + 1)
    put_json(ctx.s3, bucket, keys.progress(part), mine)
    batch = load_batch(ctx.s3, ctx.settings.s3, batch_id)
    batch.progress = summed(ctx, batch_id, batch.progress, {keys.progress(part): mine})
    save_batch(ctx.s3, ctx.settings.s3, batch)
    return batch.progress


def summed(ctx: IngestContext, batch_id: str, progress: BatchProgress, known: dict[str, dict[str, int]] | None = None,
           *, finished: bool = False) -> BatchProgress:
    """`progress` with every chunk's counts summed (`known`: keys just written, not read back) and the
    ETA; `finished` (finalize): nothing is left to do."""
    bucket, keys, known = ctx.settings.s3.bucket_reports, BatchKeys(batch_id), known or {}
    totals, done = dict.fromkeys(STAGES, 0), 0
    for o in list_keys(ctx.s3, bucket, keys.progress()):
        name = o.object_name or ""
        chunk = known.get(name) or get_json(ctx.s3, bucket, name)
        totals = {s: totals[s] + int(chunk.get(s, 0)) for s in STAGES}
        done += int(chunk.get("items", 0)) * int(chunk.get("steps", 0))
    out = estimate(progress.model_copy(update=totals), done, datetime.now(UTC))
    return out.model_copy(update={"eta_s": 0.0}) if finished else out
