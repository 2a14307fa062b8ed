"""Per-task measurements of ingest_batch: peak resident memory and time, kept with the batch.

Each step writes `work/stats/<step>-<n>.json`; `make bench` reads them to show that memory stays
flat as batches grow and where the time goes.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager

from services.ingest.context import IngestContext
from services.ingest.keys import BatchKeys
from services.storage import put_json


@contextmanager
def measured(ctx: IngestContext, batch_id: str, step: str, name: str = "0") -> Iterator[None]:
    started = time.perf_counter()
    yield
    stats = {"step": step, "seconds": round(time.perf_counter() - started, 3),
             "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    put_json(ctx.s3, ctx.settings.s3.bucket_reports, BatchKeys(batch_id).stats(step, name), stats)
