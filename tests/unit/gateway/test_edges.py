"""The gateway's edges, in-process (no stack needed): every failure is problem+json with the right status,
a request id on every answer, settings (not literals) bound the page size, and a slow search does not
hold up the event loop."""

from __future__ import annotations

import io
import logging
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image

from services.gateway.app import create_app
from services.gateway.errors import InvalidRequest, ServiceUnavailable
from services.settings import Settings, get_settings
from tests.helpers import assert_problem

BAD_REQUEST = "https://wenyuan.dev/problems/bad-request"
INTERNAL = "https://wenyuan.dev/problems/internal-error"


def _settings(**search: Any) -> Settings:
    base = get_settings()
    return base.model_copy(update={"search": base.search.model_copy(update=search)})


def _app(settings: Settings | None = None) -> FastAPI:
    app = create_app(settings or get_settings())

    @app.get("/test/broken")
    def broken() -> None:
        raise RuntimeError("a bug, with a secret in its message")

    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(_app()) as c:
        yield c


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def test_an_unhandled_exception_is_a_problem_500_with_the_request_id(client: TestClient,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        resp = client.get("/test/broken")

    body = assert_problem(resp, 500, INTERNAL)
    assert "secret" not in resp.text
    assert body["request_id"] == resp.headers["x-request-id"]
    logged = [r for r in caplog.records if r.getMessage() == "unhandled error"]
    assert logged and logged[0].exc_info is not None and "a bug" in str(logged[0].exc_info[1])


def test_every_answer_carries_a_request_id_and_a_sane_given_one_is_kept(client: TestClient) -> None:
    made = client.get("/healthz")
    kept = client.get("/healthz", headers={"X-Request-ID": "trace-42"})
    refused = client.get("/healthz", headers={"X-Request-ID": "not a token " * 10})

    assert len(made.headers["x-request-id"]) == 32
    assert kept.headers["x-request-id"] == "trace-42"
    assert refused.headers["x-request-id"] != "not a token"


def test_a_reversed_year_range_is_a_422_problem(client: TestClient) -> None:
    resp = client.get("/v1/search", params={"institution": "x", "year_from": 1900, "year_to": 1800})

    body = assert_problem(resp, 422, InvalidRequest.type)
    assert body["field"] == "year_to"


def test_a_3000_character_query_is_a_422_problem(client: TestClient) -> None:
    resp = client.get("/v1/search", params={"q": "瓷" * 3000})

    body = assert_problem(resp, 422, InvalidRequest.type)
    assert body["field"] == "q"


def test_an_unknown_cursor_is_a_400_problem(client: TestClient) -> None:
    resp = client.get("/v1/search", params={"institution": "x", "cursor": "bm90LWEtY3Vyc29y"})

    body = assert_problem(resp, 400, BAD_REQUEST)
    assert body["field"] == "cursor"


def test_image_search_without_an_image_encoder_is_a_503_problem(client: TestClient,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("services.gateway.routers.search.image_encoder", lambda *_: None)

    resp = client.post("/v1/search/image", files={"file": ("a.png", _png(), "image/png")})

    body = assert_problem(resp, 503, ServiceUnavailable.type)
    assert "no image encoder" in body["detail"]


def test_the_page_size_limit_is_the_setting_not_a_literal() -> None:
    with TestClient(_app(_settings(max_page_size=5))) as small:
        resp = small.get("/v1/search", params={"institution": "x", "size": 6})
    with TestClient(_app(_settings(max_page_size=500))) as large:
        allowed = large.get("/v1/search", params={"institution": "x", "size": 300, "cursor": "bm90LWEtY3Vyc29y"})

    body = assert_problem(resp, 422, InvalidRequest.type)
    assert body["errors"] == [{"field": "query.size", "reason": "must be at most 5"}]
    assert allowed.status_code == 400  # past the size check (to the cursor's): 300 is within the setting


class SlowEncoder:
    name, version, dim = "slow", "1", 4

    def encode(self, items: list[Any]) -> list[list[float]]:
        time.sleep(2)
        return [[1.0, 0.0, 0.0, 0.0] for _ in items]


def test_a_slow_image_search_does_not_delay_healthz(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("services.gateway.routers.search.image_encoder", lambda *_: SlowEncoder())
    monkeypatch.setattr("services.assets.image_encoder", lambda *_: SlowEncoder())
    finished: list[str] = []

    def search() -> None:
        client.post("/v1/search/image", files={"file": ("a.png", _png(), "image/png")})
        finished.append("search")

    worker = threading.Thread(target=search)
    worker.start()
    time.sleep(0.5)  # the search is encoding now
    health = client.get("/healthz")
    finished.append("healthz")
    worker.join(timeout=30)

    assert health.status_code == 200
    assert finished == ["healthz", "search"]


def test_docs_load_swagger_ui_from_the_gateway_not_a_cdn(client: TestClient) -> None:
    page = client.get("/docs")
    linked = re.search(r'"(/static/v/[0-9a-f]+/build/swagger-ui)/swagger-ui-bundle\.js"', page.text)
    assert linked, page.text  # a versioned URL of the gateway's own static files
    script = client.get(f"{linked.group(1)}/swagger-ui-bundle.js")
    styles = client.get(f"{linked.group(1)}/swagger-ui.css")

    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text[:5000] + script.text[-5000:]
    assert styles.status_code == 200
