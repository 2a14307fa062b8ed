"""The real Airflow of the stack: a DAG triggered over REST API v2 with a conf runs and returns."""

from __future__ import annotations

import uuid

import pytest

from services.workflows import AirflowClient

pytestmark = pytest.mark.slow


def test_selftest_dag_triggered_with_conf_runs_to_success_and_returns_its_result(airflow: AirflowClient) -> None:
    dag = airflow.wait_for_dag("stack_selftest")
    run_id = f"test-{uuid.uuid4().hex[:8]}"

    airflow.trigger("stack_selftest", {"echo": "文渊", "numbers": [3, 4, 5]}, run_id=run_id)
    run = airflow.wait("stack_selftest", run_id, timeout_s=240)

    assert dag["is_paused"] is False
    assert run["state"] == "success", airflow.task_instances("stack_selftest", run_id)
    assert run["conf"] == {"echo": "文渊", "numbers": [3, 4, 5]}
    assert airflow.xcom("stack_selftest", run_id, "summarise") == {"echo": "文渊", "count": 3, "sum": 12}


def test_rest_api_refuses_a_wrong_password(airflow: AirflowClient) -> None:
    import httpx

    from services.settings import get_settings

    url = get_settings().airflow.url + "/auth/token"

    resp = httpx.post(url, json={"username": get_settings().airflow.username, "password": "wrong"})

    assert resp.status_code == 401
