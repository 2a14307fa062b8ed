"""The gateway's edge on the real app and services (services/gateway/security.py): CORS answers only the configured
origins on the API while the IIIF routes stay open to all; answers other middleware gives (a 401) and real API
answers carry the headers; an oversized body of a real route is refused before the route reads it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from services.gateway.app import create_app
from services.gateway.errors import PROBLEM_BASE
from services.gateway.security import API_POLICY
from services.settings import SecuritySettings, Settings
from tests.helpers import assert_problem

pytestmark = pytest.mark.integration

PARTNER = "https://partner.example.org"
OTHER = "https://elsewhere.example.com"


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    security = SecuritySettings(cors_origins=[PARTNER], max_body_bytes=8192)
    with TestClient(create_app(settings.model_copy(update={"security": security})),
                    raise_server_exceptions=False) as client:
        yield client


def test_the_api_answers_cors_to_a_configured_origin_only(client: TestClient) -> None:
    partner = client.get("/v1/search", params={"q": "bowl"}, headers={"Origin": PARTNER})
    other = client.get("/v1/search", params={"q": "bowl"}, headers={"Origin": OTHER})
    preflight = client.options("/v1/search", headers={"Origin": OTHER, "Access-Control-Request-Method": "GET",
                                                      "Access-Control-Request-Headers": "authorization"})

    assert partner.status_code == 200 and partner.headers["access-control-allow-origin"] == PARTNER
    assert other.status_code == 200 and "access-control-allow-origin" not in other.headers
    assert "access-control-allow-origin" not in preflight.headers


def test_iiif_stays_open_to_every_origin(client: TestClient) -> None:
    resp = client.get("/iiif/3/00000000-0000-4000-8000-000000000000/info.json", headers={"Origin": OTHER})

    assert resp.status_code == 404
    assert resp.headers["access-control-allow-origin"] == "*"


def test_api_answers_and_refusals_of_the_access_middleware_carry_the_headers(client: TestClient) -> None:
    search = client.get("/v1/search", params={"q": "bowl"})
    refused = client.get("/v1/me", headers={"Authorization": "Bearer wy_00000000." + "A" * 43})

    for resp in (search, refused):
        assert resp.headers["content-security-policy"] == API_POLICY
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["x-frame-options"] == "DENY"
    assert_problem(refused, 401, PROBLEM_BASE + "invalid-key")


def test_a_grant_body_over_the_limit_is_refused_before_the_route_reads_it(client: TestClient) -> None:
    resp = client.post("/v1/grants", content=b'{"note": "' + b"x" * 10_000 + b'"}',
                       headers={"Content-Type": "application/json"})

    assert_problem(resp, 413, PROBLEM_BASE + "payload-too-large")  # not the 401/422 the route would give
