"""
### ingest_batch

Ingests one uploaded batch (`conf: {"batch_id": "..."}`), as submitted by the gateway
(`POST /v1/batches/{id}/submit`) or `wenyuan upload`:

1. **prepare** — read the manifest, validate every row, check the files, cut valid rows into chunks;
2. **ingest_chunk** (mapped, one task per chunk), three steps in one process, so a chunk pays for one
   task start and one model load:
   - **store** — fetch each row's files and **derive** them (inspect, store originals
     content-addressed, make thumbnail and preview), build the asset records;
   - **enrich** — text and image vectors, AI labels, OCR (indexing/enrich.py);
   - **index** — bulk-index the chunk's records into Elasticsearch;
3. **finalize** (runs even when a chunk failed) — the per-item report and the batch counts.

Each step's code is the module named for it in services/ingest (prepare, store, derive, enrich,
index, finalize), entered through services/ingest/tasks.py; after each step a chunk adds its counts
to the batch record's `progress` (services/ingest/progress.py). XCom carries object keys only, named by
services/ingest/keys.py. Every step is idempotent: ids and keys derive from content and
the institution's own object ids, so a retried or repeated run writes the same objects.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Param, dag, task


def _batch(params: dict[str, str] | None) -> str:
    if not params or not params.get("batch_id"):
        raise ValueError("trigger ingest_batch with conf {\"batch_id\": \"...\"}")
    return params["batch_id"]


@dag(
    schedule=None,
    catchup=False,
    tags=["wenyuan", "ingest"],
    params={"batch_id": Param(type="string", description="The batch to ingest.")},
    default_args={"retries": 3, "retry_delay": timedelta(seconds=10), "retry_exponential_backoff": True,
                  "max_retry_delay": timedelta(minutes=5)},
    max_active_tasks=2,
    doc_md=__doc__,
)
def ingest_batch() -> None:
    @task
    def prepare(params: dict[str, str] | None = None) -> list[str]:
        from services.ingest.tasks import run_prepare

        return run_prepare(_batch(params))

    @task(max_active_tis_per_dagrun=2)
    def ingest_chunk(chunk_key: str, params: dict[str, str] | None = None) -> str:
        from services.ingest.tasks import run_chunk

        return run_chunk(_batch(params), chunk_key)

    @task(trigger_rule="all_done")
    def finalize(indexed: list[str], params: dict[str, str] | None = None) -> dict[str, int]:
        from services.ingest.tasks import run_finalize

        return run_finalize(_batch(params))

    indexed = ingest_chunk.expand(chunk_key=prepare())
    finalize(indexed)


ingest_batch()
