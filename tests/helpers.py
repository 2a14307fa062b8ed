"""Helpers shared by the tests."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx

PROBLEM_MEDIA_TYPE = "application/problem+json"


def assert_problem(resp: httpx.Response | Any, status: int, type_: str) -> dict[str, Any]:
    """The response is RFC 9457 problem+json with this status and type; returns the body."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE), resp.headers["content-type"]
    body: dict[str, Any] = resp.json()
    assert body["type"] == type_, body
    assert body["status"] == status
    assert body["title"] and body["detail"], body
    return body


ROOT = Path(__file__).resolve().parents[1]


def run_stack(*args: str) -> subprocess.CompletedProcess[str]:
    """deploy/local/stack.py with these arguments (e.g. "stop", "elasticsearch")."""
    return subprocess.run([sys.executable, str(ROOT / "deploy/local/stack.py"), *args],
                          capture_output=True, text=True, timeout=400)


T = TypeVar("T")


def run_coroutine(coro: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` in a thread of its own. Playwright's sync API (the e2e tests' session-wide browser) keeps an
    event loop running in the main thread for the rest of the session, and there `asyncio.run` refuses to start."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
