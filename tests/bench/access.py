"""What licensed access costs: resolving a key to a principal, the gateway's per-request overhead, and the
visibility filter inside Elasticsearch's own query time.

- **Principal** (in-process, the access database of Settings.db): `principal_for_key` for a staff key
  holding 3 grants, against a raw baseline — the same primary-key row read with the bare sqlite3 module.
- **Per request** (a gateway process of the benchmark's own, as the stack runs it — uvicorn, one worker —
  with the public's limit raised so the measurement is not throttled; sequential, one client):
  `GET /v1/me` with that key and without one, against `GET /healthz`, which the access middleware skips.
- **In the query** (the 100,000 assets of tests/bench/latency.py, built if absent): Elasticsearch's own
  `took` for a keyword page and a kNN page with no filter (raw baseline), the public's filter, and the
  filter of a staff member with 3 grants (one a saved query).

Run: `.venv/bin/python -m tests.bench access`.
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np

from indexing.aliases import assets_alias
from indexing.client import make_client
from indexing.query import Filters, keyword_query, knn_clause
from indexing.source import record_source
from schemas.access import GranteeKind, GrantScope, Role, Tier
from services.access.db import Database, upgrade
from services.access.policy import visibility_filter
from services.access.principals import ANONYMOUS, Principal
from services.access.resolve import principal_for_key
from services.settings import Settings
from tests.access import grant, make_institution, principal, staff_key
from tests.bench import latency
from tests.bench.gateway import bench_gateway

N = 2000
N_HTTP = 1000
N_QUERIES = 100


def _log(msg: str) -> None:
    print(f"[bench access] {msg}", file=sys.stderr, flush=True)


def _stats(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    n = len(ordered) - 1
    return statistics.median(ordered), ordered[int(0.95 * n)], ordered[int(0.99 * n)]


def _timed(call: Callable[[], Any], n: int) -> list[float]:
    for _ in range(min(20, n)):
        call()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        call()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _principal_with_grants(db: Database) -> tuple[str, Principal]:
    holder = make_institution(db, "CN-BJ", ("ceramics",))
    admin = staff_key(db, holder, Role.ADMIN)
    reader = staff_key(db, make_institution(db, "CN-BJ"), Role.VIEWER, rate=100_000)
    for scope, value in ((GrantScope.BATCH, {"batch_id": latency.INSTITUTION}),
                         (GrantScope.CATEGORY, {"category": "porcelain"}),
                         (GrantScope.QUERY, {"query": {"q": "青花 瓷", "filters": {"material": ["porcelain"]}}})):
        grant(db, admin, GranteeKind.INSTITUTION, reader.institution, Tier.PREVIEW, scope, value)
    return reader.key, principal(db, reader.key)


def measure(settings: Settings) -> str:
    upgrade(settings.db)
    db = Database(settings.db)
    key, granted = _principal_with_grants(db)
    rows = ["| what | p50 ms | p95 ms | p99 ms |", "|---|---:|---:|---:|"]

    def resolve() -> None:
        with db.session() as s:
            principal_for_key(s, key)

    path = settings.db.url.removeprefix("sqlite:///")
    raw = sqlite3.connect(path) if settings.db.is_sqlite else None

    def raw_read() -> None:
        assert raw is not None
        raw.execute("SELECT * FROM api_keys WHERE prefix = ?", (key.split(".")[0],)).fetchall()

    _log("principal resolution")
    for name, call, n in (("principal from a key with 3 grants (`principal_for_key`, SQLAlchemy)", resolve, N),
                          ("raw baseline: the key's row by primary key (sqlite3)", raw_read, N)):
        if call is raw_read and raw is None:
            continue
        p50, p95, p99 = _stats(_timed(call, n))
        rows.append(f"| {name} | {p50:.3f} | {p95:.3f} | {p99:.3f} |")

    _log("per request through a gateway of the benchmark's own")
    with bench_gateway() as (base, _), httpx.Client(base_url=base, timeout=30) as client:
        for name, url, headers in (("`GET /v1/me` with the key (middleware: resolve, limit, headers)", "/v1/me",
                                    {"Authorization": f"Bearer {key}"}),
                                   ("`GET /v1/me` without a key (anonymous: limit by address)", "/v1/me", {}),
                                   ("raw baseline: `GET /healthz` (no access middleware)", "/healthz", {})):
            p50, p95, p99 = _stats(_timed(lambda u=url, h=headers: client.get(u, headers=h).raise_for_status(),
                                          N_HTTP))
            rows.append(f"| {name} | {p50:.2f} | {p95:.2f} | {p99:.2f} |")

    es = make_client(settings.es)
    setup = latency.setup(es, settings, latency._encoders())
    alias = assets_alias(settings.es)
    qs = latency.queries(N_QUERIES)
    from indexing.encoders import text_encoder

    vectors = np.asarray(text_encoder(settings.models).encode(qs)).tolist()
    flt = Filters()
    took_rows = ["| query (100,000 assets, page of 20) | filter | ES took p50 ms | p95 ms | p99 ms | hits p50 |",
                 "|---|---|---:|---:|---:|---:|"]
    _log(f"filters in Elasticsearch ({setup.indexed or setup.present_before:,} assets)")
    configs = [("none (raw baseline)", None), ("the public", visibility_filter(ANONYMOUS)),
               ("staff with 3 grants", visibility_filter(granted))]

    def run(kind: str, q: str, v: list[float], vis: dict[str, Any] | None) -> Any:
        if kind == "keyword":
            return es.search(index=alias, query=keyword_query(q, flt, vis), size=20,
                             source=record_source(), track_total_hits=True)
        return es.search(index=alias, knn=knn_clause("text_vector", v, 20, settings.search.num_candidates, flt, vis),
                         size=20, source=False)

    for kind in ("keyword", "kNN"):
        for q, v in zip(qs, vectors, strict=True):  # warm up every configuration first
            for _, vis in configs:
                run(kind, q, v, vis)
        took: dict[str, list[float]] = {label: [] for label, _ in configs}
        hits: dict[str, list[float]] = {label: [] for label, _ in configs}
        for q, v in zip(qs, vectors, strict=True):  # then interleaved, so no configuration gets a warmer cache
            for label, vis in configs:
                resp = run(kind, q, v, vis)
                took[label].append(float(resp["took"]))
                hits[label].append(float(resp["hits"]["total"]["value"]))
        for label, _ in configs:
            p50, p95, p99 = _stats(took[label])
            took_rows.append(f"| {kind} | {label} | {p50:.0f} | {p95:.0f} | {p99:.0f} | "
                             f"{statistics.median(hits[label]):,.0f} |")
    es.close()
    db.close()
    if raw is not None:
        raw.close()
    return "\n".join([
        f"Access database: `{settings.db.url.split('://')[0]}`; {N:,} resolutions, {N_HTTP} requests each, "
        f"{N_QUERIES} queries per row (tests/bench/latency.py's corpus). Run id {uuid.uuid4().hex[:6]}.", "",
        *rows, "", *took_rows])
