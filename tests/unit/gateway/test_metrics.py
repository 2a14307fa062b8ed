"""The gateway's metrics without the stack: requests counted by route template and status, 429s by caller and
budget, the search timings, and the scrape-time collector's cache and its failing sources (issue 19, item 1)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily, Metric

from services.gateway.errors import install_handlers
from services.gateway.metrics import instrument
from services.gateway.stack_metrics import StackCollector, _histogram
from services.search_timing import observe_took, timed
from services.settings import Settings
from tests.helpers import assert_problem


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def tiny_app(settings: Settings) -> FastAPI:
    app = FastAPI()

    @app.get("/v1/things/{thing_id}")
    def read_thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    @app.get("/iiif/3/{image_id}/info.json")
    def refuse(image_id: str) -> JSONResponse:
        return JSONResponse({"status": 429}, status_code=429)

    install_handlers(app)
    instrument(app, settings)
    return app


def test_requests_are_counted_by_route_template_method_and_status() -> None:
    labels = {"handler": "/v1/things/{thing_id}", "method": "GET", "status": "200"}
    before = sample("wenyuan_http_requests_total", **labels)
    missing = sample("wenyuan_http_requests_total", handler="none", method="GET", status="404")
    with TestClient(tiny_app(Settings())) as client:
        for n in range(3):
            assert client.get(f"/v1/things/{n}").status_code == 200
        assert client.get("/nowhere/at/all").status_code == 404

    assert sample("wenyuan_http_requests_total", **labels) - before == 3  # one series for every thing id
    assert sample("wenyuan_http_requests_total", handler="none", method="GET", status="404") - missing == 1
    assert sample("wenyuan_http_request_duration_seconds_count", **labels) >= 3


def test_every_app_of_the_process_counts_and_429s_are_counted_by_caller_and_budget() -> None:
    keyed, anonymous = (sample("wenyuan_rate_limited_total", caller=c, budget="image") for c in ("key", "address"))
    refused = {"handler": "/iiif/3/{image_id}/info.json", "method": "GET", "status": "429"}
    before = sample("wenyuan_http_requests_total", **refused)
    tiny_app(Settings())  # apps made earlier in the process (tests make many) take nothing from the later ones
    with TestClient(tiny_app(Settings())) as first, TestClient(tiny_app(Settings())) as second:
        assert first.get("/iiif/3/x/info.json", headers={"Authorization": "Bearer wy_k"}).status_code == 429
        assert second.get("/iiif/3/x/info.json").status_code == 429
        assert second.get("/iiif/3/y/info.json").status_code == 429

    assert sample("wenyuan_http_requests_total", **refused) - before == 3
    assert sample("wenyuan_rate_limited_total", caller="key", budget="image") - keyed == 1
    assert sample("wenyuan_rate_limited_total", caller="address", budget="image") - anonymous == 2


def test_metrics_can_be_turned_off_and_are_refused_to_the_anonymous() -> None:
    off = Settings().model_copy(update={"gateway": Settings().gateway.model_copy(update={"metrics_enabled": False})})
    with TestClient(tiny_app(off)) as client:
        assert client.get("/metrics").status_code == 404
    with TestClient(tiny_app(Settings())) as client:
        assert_problem(client.get("/metrics"), 403, "https://wenyuan.dev/problems/missing-scope")


def test_search_timings_observe_took_in_seconds_and_the_encoders_duration() -> None:
    before = sample("wenyuan_search_es_took_seconds_sum", leg="unit-leg")
    observe_took("unit-leg", {"took": 250})
    observe_took("unit-leg", {"took": "soon"})  # not a number: nothing observed
    observe_took("unit-leg", {})
    encoded = sample("wenyuan_query_encoder_seconds_count", encoder="unit")

    assert timed("unit", lambda texts: [len(t) for t in texts], ["ab", "c"]) == [2, 1]
    with pytest.raises(ZeroDivisionError):  # a failed encoding is timed too
        timed("unit", lambda: 1 / 0)
    assert sample("wenyuan_search_es_took_seconds_sum", leg="unit-leg") - before == pytest.approx(0.25)
    assert sample("wenyuan_search_es_took_seconds_count", leg="unit-leg") == 1
    assert sample("wenyuan_query_encoder_seconds_count", encoder="unit") - encoded == 2


class Sources(StackCollector):
    """The collector's cache and failure handling over sources of the test's own (no service involved)."""

    def __init__(self, cache_s: float) -> None:
        settings = Settings()
        settings.gateway.metrics_cache_s = cache_s
        super().__init__(None, None, None, settings)  # type: ignore[arg-type]
        self.reads: dict[str, int] = {"good": 0, "broken": 0}
        self._sources = {"good": self._good, "broken": self._broken}

    def _good(self) -> list[Metric]:
        self.reads["good"] += 1
        gauge = GaugeMetricFamily("wenyuan_unit_gauge", "A gauge.", labels=["x"])
        gauge.add_metric(["y"], float(self.reads["good"]))
        return [gauge]

    def _broken(self) -> list[Metric]:
        self.reads["broken"] += 1
        raise ConnectionError("down")


def collected(collector: StackCollector) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for m in collector.collect() for s in m.samples}


def test_each_source_is_read_once_per_cache_period_and_a_failing_one_is_reported_down() -> None:
    cached = Sources(cache_s=3600)
    first, second = collected(cached), collected(cached)

    assert cached.reads == {"good": 1, "broken": 1}  # the second scrape read nothing
    assert first == second
    assert first[("wenyuan_unit_gauge", (("x", "y"),))] == 1
    assert first[("wenyuan_metrics_source_up", (("source", "good"),))] == 1
    assert first[("wenyuan_metrics_source_up", (("source", "broken"),))] == 0
    fresh = Sources(cache_s=0)
    collected(fresh)
    assert collected(fresh)[("wenyuan_unit_gauge", (("x", "y"),))] == 2
    assert fresh.reads == {"good": 2, "broken": 2}


def test_task_durations_are_a_cumulative_gauge_histogram() -> None:
    family = _histogram("wenyuan_unit_tasks_seconds", "Durations.", {("ingest", "store", "success"): [0.2, 3, 3, 700]})
    samples: dict[tuple[str, str | None], float] = {(s.name, s.labels.get("le")): s.value for s in family.samples}

    assert family.type == "gaugehistogram"
    assert samples[("wenyuan_unit_tasks_seconds_bucket", "0.5")] == 1
    assert samples[("wenyuan_unit_tasks_seconds_bucket", "5.0")] == 3
    assert samples[("wenyuan_unit_tasks_seconds_bucket", "600.0")] == 3
    assert samples[("wenyuan_unit_tasks_seconds_bucket", "+Inf")] == 4
    assert samples[("wenyuan_unit_tasks_seconds_gcount", None)] == 4
    assert samples[("wenyuan_unit_tasks_seconds_gsum", None)] == pytest.approx(706.2)
