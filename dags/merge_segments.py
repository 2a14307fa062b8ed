"""
### merge_segments

Daily: force-merges the live assets index into `WENYUAN_SEARCH__MERGE_TO_SEGMENTS` (default 1)
segments per shard when it holds more than `WENYUAN_SEARCH__MERGE_ABOVE_SEGMENTS` (default 5). A
kNN search walks every segment's HNSW graph, so a bulk-loaded index of ~24 segments answers its
vector legs about twice as slowly as a merged one (indexing/segments.py, docs/BENCHMARKS.md).
Searches and writes go on while it merges; trigger it by hand after a large batch (no conf needed).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task


@dag(
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["wenyuan", "index"],
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=5)},
    doc_md=__doc__,
)
def merge_segments() -> None:
    @task
    def merge() -> dict[str, object]:
        from indexing.segments import run

        return run()

    merge()


merge_segments()
