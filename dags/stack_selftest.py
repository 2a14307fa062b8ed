"""
### stack_selftest

Proves the Airflow part of the stack end to end: a run triggered over the REST API v2 with a
`conf` executes on the LocalExecutor and returns a value derived from that conf through XCom.
The integration tests trigger it; operators can too (`{"numbers": [1, 2, 3]}`).
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, get_current_context, task


@dag(
    schedule=None,
    catchup=False,
    tags=["wenyuan", "selftest"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=5)},
    doc_md=__doc__,
)
def stack_selftest() -> None:
    @task
    def summarise() -> dict[str, object]:
        conf = get_current_context()["dag_run"].conf or {}
        numbers = [int(n) for n in conf.get("numbers", [])]
        return {"echo": conf.get("echo"), "count": len(numbers), "sum": sum(numbers)}

    summarise()


stack_selftest()
