"""The gateway has exactly one error shape: RFC 9457 problem+json."""

from __future__ import annotations

from fastapi.testclient import TestClient

from services.gateway.app import create_app
from services.gateway.errors import NotFound
from tests.helpers import assert_problem


def _client() -> TestClient:
    app = create_app()

    @app.get("/test/missing-thing")
    def missing_thing() -> None:
        raise NotFound("asset demo:42 does not exist", asset_id="demo:42")

    @app.get("/test/needs-int")
    def needs_int(n: int) -> int:
        return n

    return TestClient(app)


def test_a_problem_raised_by_a_route_is_rendered_as_problem_json() -> None:
    with _client() as client:
        resp = client.get("/test/missing-thing")

    body = assert_problem(resp, 404, NotFound.type)
    assert body["detail"] == "asset demo:42 does not exist"
    assert body["asset_id"] == "demo:42"
    assert body["instance"] == "/test/missing-thing"


def test_an_unknown_route_is_problem_json_too() -> None:
    with _client() as client:
        resp = client.get("/no/such/route")

    assert_problem(resp, 404, "about:blank")


def test_validation_errors_name_the_field_and_reason() -> None:
    with _client() as client:
        resp = client.get("/test/needs-int", params={"n": "many"})

    body = assert_problem(resp, 422, "https://wenyuan.dev/problems/invalid-request")
    assert body["errors"][0]["field"] == "query.n"
    assert "integer" in body["errors"][0]["reason"]


def test_healthz_answers_without_dependencies() -> None:
    with _client() as client:
        resp = client.get("/healthz")

    assert resp.status_code == 200
    assert resp.json()["status"] == "ok"
