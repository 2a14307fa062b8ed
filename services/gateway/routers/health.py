"""Liveness and readiness.

/healthz answers while the process runs. /readyz checks each dependency — Elasticsearch,
S3, Airflow and the access database (at the migrations' head revision) —
concurrently, each within `gateway.readiness_timeout_s`, and reports ok or
failed with its latency; it answers 503 when any failed, so a load balancer can act on it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from elasticsearch import Elasticsearch
from fastapi import APIRouter, Request, Response
from minio import Minio
from pydantic import BaseModel

from services import __version__
from services.access.db import Database, head_revision
from services.gateway.deps import AirflowDep, EsDep, SettingsDep
from services.settings import Settings
from services.workflows import AirflowClient

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class Check(BaseModel):
    status: Literal["ok", "failed"]
    latency_ms: float
    detail: str | None = None


class Readiness(BaseModel):
    status: Literal["ok", "failed"]
    checks: dict[str, Check]


@router.get("/healthz")
def read_health() -> Health:
    return Health(status="ok", version=__version__)


def _check_elasticsearch(deps: Dependencies) -> str:
    es = deps.es.options(request_timeout=deps.timeout_s, max_retries=0)
    health = es.cluster.health()
    if health["status"] == "red":
        raise RuntimeError("cluster status red")
    return f"cluster {health['status']}"


def _check_s3(deps: Dependencies) -> str:
    missing = [b for b in deps.settings.s3.buckets if not deps.s3_probe.bucket_exists(b)]
    if missing:
        raise RuntimeError(f"missing buckets: {', '.join(missing)}")
    return f"{len(deps.settings.s3.buckets)} buckets"


def _check_airflow(deps: Dependencies) -> str:
    health = deps.airflow.health(timeout_s=deps.timeout_s)
    unhealthy = [k for k in ("metadatabase", "scheduler") if (health.get(k) or {}).get("status") != "healthy"]
    if unhealthy:
        raise RuntimeError(f"unhealthy: {', '.join(unhealthy)}")
    return "scheduler healthy"


def _check_database(deps: Dependencies) -> str:
    have, want = deps.db.revision(), head_revision()
    if have != want:
        raise RuntimeError(f"schema at revision {have}, expected {want}: run `wenyuan db upgrade`")
    return f"revision {have}"


@dataclass
class Dependencies:
    settings: Settings
    es: Elasticsearch
    s3_probe: Minio
    airflow: AirflowClient
    db: Database

    @property
    def timeout_s(self) -> float:
        return self.settings.gateway.readiness_timeout_s


async def _timed(check: Callable[[Dependencies], str], deps: Dependencies) -> Check:
    start = time.perf_counter()
    try:
        detail = await asyncio.wait_for(asyncio.to_thread(check, deps), deps.timeout_s + 1)
        status: Literal["ok", "failed"] = "ok"
    except Exception as exc:  # any failure of a dependency is a "failed" check, reported with its reason
        detail, status = f"{type(exc).__name__}: {exc}"[:300], "failed"
    return Check(status=status, latency_ms=round((time.perf_counter() - start) * 1000, 1), detail=detail)


@router.get("/readyz", responses={503: {"model": Readiness}})
async def read_readiness(
    settings: SettingsDep, es: EsDep, airflow: AirflowDep, request: Request, response: Response
) -> Readiness:
    deps = Dependencies(settings, es, request.app.state.s3_probe, airflow, request.app.state.db)
    names = ("elasticsearch", "s3", "airflow", "database")
    results = await asyncio.gather(*(_timed(c, deps) for c in (_check_elasticsearch, _check_s3, _check_airflow,
                                                                 _check_database)))
    checks = dict(zip(names, results, strict=True))
    ok = all(c.status == "ok" for c in checks.values())
    response.status_code = 200 if ok else 503
    return Readiness(status="ok" if ok else "failed", checks=checks)
