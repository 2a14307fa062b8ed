"""
### reindex

Rebuilds the assets index as a new version (`<prefix>-assets-v<n+1>`) from the current schema:
every document is re-validated and re-enriched with the configured models (indexing/enrich.py:
periods, taxonomy ids, text and image vectors, AI labels, OCR, curator decisions). Vectors made by
the configured encoder are reused; a changed encoder re-embeds into an index made for its vector
length. Then the alias moves to the new index in one atomic step and the writes that arrived
meanwhile are copied over. Searches keep answering throughout.
Trigger it after changing a mapping or an encoder (`WENYUAN_MODELS__*`; no conf needed).
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, task


@dag(
    schedule=None,
    catchup=False,
    tags=["wenyuan", "index"],
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=1)},
    doc_md=__doc__,
)
def reindex() -> None:
    @task
    def rebuild() -> dict[str, object]:
        from services.ingest.tasks import run_reindex

        return run_reindex()

    rebuild()


reindex()
