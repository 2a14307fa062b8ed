"""Airflow over its REST API v2: sign in, trigger a DAG run with a conf, follow it, read XCom.

The gateway and the CLI act as one Airflow user (SimpleAuthManager locally, any auth manager
that issues JWTs from POST /auth/token in production). Tokens are cached and renewed on 401.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from services.settings import AirflowSettings

TERMINAL_STATES = frozenset({"success", "failed"})


class AirflowError(RuntimeError):
    """Airflow answered with an error, or could not be reached."""


class AirflowClient:
    def __init__(self, settings: AirflowSettings, *, transport: httpx.BaseTransport | None = None) -> None:
        self._settings = settings
        self._http = httpx.Client(base_url=settings.url, timeout=settings.request_timeout_s, transport=transport)
        self._token: str | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AirflowClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def health(self, *, timeout_s: float | None = None) -> dict[str, Any]:
        """/api/v2/monitor/health: metadatabase, scheduler, dag_processor and triggerer status."""
        timeout = timeout_s if timeout_s is not None else self._settings.request_timeout_s
        return self._request("GET", "/api/v2/monitor/health", auth=False, timeout=timeout)

    def dag(self, dag_id: str) -> dict[str, Any]:
        return self._request("GET", f"/api/v2/dags/{dag_id}")

    def wait_for_dag(self, dag_id: str, *, timeout_s: float = 180, poll_s: float = 2.0) -> dict[str, Any]:
        """The DAG once the dag-processor has parsed it (new files appear after a refresh interval)."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return self.dag(dag_id)
            except AirflowError as exc:
                if time.monotonic() > deadline or " 404:" not in str(exc):
                    raise
            time.sleep(poll_s)

    def trigger(self, dag_id: str, conf: dict[str, Any], *, run_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"logical_date": None, "conf": conf}
        if run_id:
            body["dag_run_id"] = run_id
        return self._request("POST", f"/api/v2/dags/{dag_id}/dagRuns", json=body)

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self._request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")

    def wait(self, dag_id: str, run_id: str, *, timeout_s: float = 300, poll_s: float = 1.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            run = self.run(dag_id, run_id)
            if run["state"] in TERMINAL_STATES or time.monotonic() > deadline:
                return run
            time.sleep(poll_s)

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}"
        return self._request("GET", path, params={"deserialize": "true"})["value"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
        return list(self._request("GET", path)["task_instances"])

    def _login(self) -> str:
        body = {"username": self._settings.username, "password": self._settings.resolved_password()}
        data = self._request("POST", "/auth/token", json=body, auth=False)
        return str(data["access_token"])

    def _request(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> dict[str, Any]:
        for attempt in (1, 2):
            headers = {}
            if auth:
                self._token = self._token or self._login()
                headers["Authorization"] = f"Bearer {self._token}"
            try:
                resp = self._http.request(method, path, headers=headers, **kwargs)
            except httpx.HTTPError as exc:
                raise AirflowError(f"Airflow at {self._settings.url} unreachable: {exc}") from exc
            if resp.status_code == 401 and auth and attempt == 1:
                self._token = None  # expired: sign in again once
                continue
            if resp.status_code >= 400:
                raise AirflowError(f"{method} {path} -> {resp.status_code}: {resp.text[:500]}")
            body = resp.json()
            if not isinstance(body, dict):
                raise AirflowError(f"{method} {path}: expected a JSON object, got {type(body).__name__}")
            return body
        raise AirflowError(f"{method} {path}: not authorised")  # unreachable: the loop returns or raises
