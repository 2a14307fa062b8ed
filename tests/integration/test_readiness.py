"""/readyz follows the real dependencies: Elasticsearch stopped → failed; restarted → ok."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from services.settings import Settings
from tests.helpers import run_stack

pytestmark = pytest.mark.slow



def _readiness(settings: Settings) -> tuple[int, dict[str, Any]]:
    resp = httpx.get(settings.gateway.public_url + "/readyz", timeout=15)
    return resp.status_code, resp.json()


def _poll(settings: Settings, want: str, timeout_s: float = 60) -> tuple[int, dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while True:
        code, body = _readiness(settings)
        if body["checks"]["elasticsearch"]["status"] == want or time.monotonic() > deadline:
            return code, body
        time.sleep(1)


def test_readyz_reports_each_dependency_ok_with_latency(settings: Settings) -> None:
    code, body = _readiness(settings)

    assert code == 200
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"elasticsearch", "s3", "airflow", "database"}
    assert all(c["status"] == "ok" and c["latency_ms"] >= 0 for c in body["checks"].values())


def test_readyz_fails_while_elasticsearch_is_stopped_and_recovers_after_restart(settings: Settings) -> None:
    stopped = run_stack("stop", "elasticsearch")
    try:
        down_code, down = _poll(settings, "failed")
    finally:
        started = run_stack("start", "elasticsearch")
    up_code, up = _poll(settings, "ok")

    assert stopped.returncode == 0, stopped.stderr
    assert down_code == 503
    assert down["status"] == "failed"
    assert down["checks"]["elasticsearch"]["status"] == "failed"
    assert down["checks"]["s3"]["status"] == "ok"
    assert started.returncode == 0, started.stdout + started.stderr
    assert up_code == 200
    assert up["checks"]["elasticsearch"]["status"] == "ok"
