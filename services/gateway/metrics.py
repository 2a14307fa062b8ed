"""The gateway's Prometheus metrics: what every request did, counted and timed in the process that served
it, and what the stack holds, read when /metrics is scraped.

Per request (prometheus-fastapi-instrumentator's middleware, outermost, so it sees the access
middleware's 401s and 429s and the 500s of RequestContext too):

    wenyuan_http_requests_total{handler, method, status}            the route's template, not the path
    wenyuan_http_request_duration_seconds{handler, method, status}  a histogram
    wenyuan_rate_limited_total{caller, budget}                      429s: caller key|address, budget api|image

and from the search path (services/search_timing.py): `wenyuan_search_es_took_seconds{leg}`,
`wenyuan_query_encoder_seconds{encoder}`. A path no route matches is counted as handler `none`.

At scrape time (services/gateway/stack_metrics.py, cached `gateway.metrics_cache_s`): Elasticsearch's
open search contexts and points in time, batches by state and items by outcome, and the durations of
Airflow's recent task instances.

Several workers (`uvicorn --workers N`): prometheus_client's multiprocess mode. deploy/local sets
`PROMETHEUS_MULTIPROC_DIR` (emptied when the gateway starts) before the workers start; each writes
its values there and a scrape, whichever worker answers it, sums every process's files, those of
workers that have exited included (their requests happened). No gauge is kept per process (the
stack's gauges are read at scrape time), so no live-gauge file needs removing when a worker exits
(`mark_process_dead` has nothing to do). Without the variable (a test's in-process gateway) the
default registry serves, one process's values.
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import FastAPI
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_fastapi_instrumentator import Instrumentator
from prometheus_fastapi_instrumentator.metrics import Info

from services.gateway.middleware import IMAGE_API, api_key
from services.gateway.stack_metrics import StackCollector
from services.settings import Settings

# From a health check's millisecond to a dump's minute.
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

# Made here, once per process, not by the instrumentator's own `metrics.requests()` and `latency()`: those give a
# second app in the process (tests make many) no instrumentation at all once the first registered the series.
REQUESTS = Counter("wenyuan_http_requests_total", "Requests by the route's template, method and status.",
                   ["handler", "method", "status"])
DURATION = Histogram("wenyuan_http_request_duration_seconds", "Time to answer a request (to its last byte), by the "
                     "route's template, method and status.", ["handler", "method", "status"], buckets=HTTP_BUCKETS)
RATE_LIMITED = Counter("wenyuan_rate_limited_total",
                       "Requests refused by a rate limit (429), by caller (key or address) and budget (api or image).",
                       ["caller", "budget"])

_stack_lock = threading.Lock()


def _count(info: Info) -> None:
    labels = (info.modified_handler, info.method, info.modified_status)
    REQUESTS.labels(*labels).inc()
    DURATION.labels(*labels).observe(info.modified_duration)
    if info.response is None or info.response.status_code != 429:
        return
    caller = "key" if api_key(info.request.headers) else "address"
    budget = "image" if info.request.url.path.startswith(IMAGE_API) else "api"
    RATE_LIMITED.labels(caller, budget).inc()


def instrument(app: FastAPI, settings: Settings) -> None:
    """Count and time every request of `app` and serve /metrics (unless `gateway.metrics_enabled` is off).
    Several apps in one process (tests) count into the same series."""
    if not settings.gateway.metrics_enabled:
        return
    from services.gateway.routers import metrics  # the router needs this module's exposition

    instrumentator = Instrumentator(should_group_status_codes=False, should_group_untemplated=True)
    instrumentator.add(_count)  # the instrumentator finds the route's template and times the answer
    instrumentator.instrument(app)
    app.include_router(metrics.router)


def _stack_registry(state: Any) -> CollectorRegistry:
    """The registry of the stack's gauges of this app, made on the first scrape (the clients are the
    lifespan's)."""
    with _stack_lock:
        registry = getattr(state, "stack_metrics", None)
        if not isinstance(registry, CollectorRegistry):
            registry = CollectorRegistry(auto_describe=False)
            registry.register(StackCollector(state.es, state.s3, state.airflow, state.settings))
            state.stack_metrics = registry
    return registry


def exposition(state: Any) -> bytes:
    """Every metric in Prometheus' text format: the processes' (all workers', in multiprocess mode), then the
    stack's."""
    directory = state.settings.gateway.metrics_dir
    registry = REGISTRY
    if directory is not None:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
    return generate_latest(registry) + generate_latest(_stack_registry(state))
