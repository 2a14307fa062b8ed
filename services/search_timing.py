"""What a search spends where, as Prometheus histograms the gateway's `/metrics` exposes
(services/gateway/metrics.py): Elasticsearch's own `took` of each leg of a search, and the time
the query encoders take.

The histograms live in prometheus_client's default registry. Under several gateway workers
(`PROMETHEUS_MULTIPROC_DIR` set before the process starts, as deploy/local does) each process
writes its own values to that directory and a scrape sums them; elsewhere (the pipeline, the
benchmarks, a test's in-process gateway) they are plain in-memory values nobody need read.

Legs are the searches of one page, by the name services/search.py gives each in its `_msearch`:
`page` and `tail` (keyword matches), `facets`, `records` (a ranked page's hits), `keyword` and
`bridge` (the BM25 legs of a hybrid window), `title` and `text` (its semantic kNN legs), `image`
(CLIP's text-to-image kNN leg), and `by_image` (search by picture, services/assets.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from prometheus_client import Histogram

T = TypeVar("T")

# Elasticsearch answers in milliseconds, the encoders in tens of them; the last buckets catch the stalls.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

SEARCH_TOOK = Histogram("wenyuan_search_es_took_seconds",
                        "Elasticsearch's own time (took) of each search leg, by leg.",
                        ["leg"], buckets=BUCKETS)
ENCODER_TIME = Histogram("wenyuan_query_encoder_seconds",
                         "Time to encode a search query, by encoder (text, clip_text, image).",
                         ["encoder"], buckets=BUCKETS)


def observe_took(leg: str, response: Any) -> None:
    """One leg's `took` (milliseconds, as Elasticsearch reports it), if the response (a dict, or the client's
    ObjectApiResponse) carries one."""
    try:
        took = response["took"]
    except (KeyError, TypeError):
        return
    if isinstance(took, int | float):
        SEARCH_TOOK.labels(leg).observe(took / 1000)


def timed(encoder: str, encode: Callable[..., T], *args: Any) -> T:
    """`encode(*args)`, its duration observed under `encoder`."""
    started = time.perf_counter()
    try:
        return encode(*args)
    finally:
        ENCODER_TIME.labels(encoder).observe(time.perf_counter() - started)
