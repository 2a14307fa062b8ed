"""The gateway's edge (services/gateway/security.py): security headers, CORS for configured origins, size limits.

The limits are checked on the real app (create_app, no lifespan): they answer before any route or the access
middleware runs, so a route that ran would fail for want of its clients instead. Headers and CORS are checked
on a small app of its own behind the same middleware.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from services.gateway.app import create_app
from services.gateway.errors import PROBLEM_BASE
from services.gateway.routers import web
from services.gateway.security import API_POLICY, Hardening, script_hashes
from services.settings import SecuritySettings, Settings
from tests.helpers import assert_problem

ORIGIN = "https://partner.example.org"
DOCS_SCRIPT = "\nconst ui = SwaggerUIBundle({url: '/openapi.json'})\n"


@pytest.fixture(scope="module")
def gateway() -> TestClient:
    return TestClient(create_app(Settings(security=SecuritySettings(max_body_bytes=4096, max_header_bytes=2048))),
                      raise_server_exceptions=False)


def _small_app() -> Starlette:
    async def page(request: Request) -> Response:
        return HTMLResponse(f"<html><body><script src='/static/a.js'></script><script>{DOCS_SCRIPT}</script>"
                            "</body></html>" + " " * 1000)

    async def own_policy(request: Request) -> Response:
        return HTMLResponse("<p>hi</p>", headers={"Content-Security-Policy": "default-src 'self'",
                                                  "Referrer-Policy": "same-origin"})

    async def data(request: Request) -> Response:
        return JSONResponse({"ok": True, "read": len(await request.body())})

    async def preflight_of_route(request: Request) -> Response:
        return PlainTextResponse("the route's own", status_code=405)

    routes = [Route("/docs", page), Route("/html", own_policy), Route("/v1/data", data, methods=["GET", "POST"]),
              Route("/v1/data", preflight_of_route, methods=["OPTIONS"]), Route("/iiif/3/x", data),
              Route("/static/app.js", lambda r: PlainTextResponse("x", media_type="text/javascript"))]
    return Starlette(routes=routes)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = Hardening(_small_app(), Settings(security=SecuritySettings(cors_origins=[ORIGIN])))
    with TestClient(app) as client:
        yield client


def test_every_answer_says_nosniff_and_refuses_framing(client: TestClient) -> None:
    for path in ("/docs", "/html", "/v1/data", "/static/app.js", "/nowhere"):
        resp = client.get(path)

        assert resp.headers["x-content-type-options"] == "nosniff", path
        assert resp.headers["x-frame-options"] == "DENY", path
        assert resp.headers["referrer-policy"] in ("strict-origin-when-cross-origin", "same-origin"), path


def test_api_answers_run_nothing_and_a_routes_own_policy_is_kept(client: TestClient) -> None:
    api = client.get("/v1/data")
    own = client.get("/html")
    static = client.get("/static/app.js")

    assert api.headers["content-security-policy"] == API_POLICY == "default-src 'none'; frame-ancestors 'none'"
    assert own.headers["content-security-policy"] == "default-src 'self'"
    assert own.headers["referrer-policy"] == "same-origin"
    assert "content-security-policy" not in static.headers


def test_a_docs_page_allows_exactly_its_own_inline_script_by_hash_even_when_gzip_was_asked_for(
        client: TestClient) -> None:
    expected = "'sha256-" + base64.b64encode(hashlib.sha256(DOCS_SCRIPT.encode()).digest()).decode() + "'"

    resp = client.get("/docs", headers={"Accept-Encoding": "gzip"})

    policy = resp.headers["content-security-policy"]
    assert f"script-src 'self' {expected};" in policy
    assert "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
    assert DOCS_SCRIPT in resp.text


def test_script_hashes_skip_scripts_loaded_by_src() -> None:
    assert script_hashes(b"<script src='/a.js'></script><script type=module src=x></script>") == []
    assert len(script_hashes(b"<script>a()</script><SCRIPT nonce=1>b()</SCRIPT>")) == 2


def test_a_configured_origin_gets_cors_and_any_other_gets_none(client: TestClient) -> None:
    allowed = client.get("/v1/data", headers={"Origin": ORIGIN})
    other = client.get("/v1/data", headers={"Origin": "https://evil.example.com"})

    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in allowed.headers["access-control-expose-headers"].lower()
    assert not any(h.startswith("access-control-") for h in other.headers)


def test_a_preflight_of_a_configured_origin_is_answered_and_of_another_left_to_the_route(client: TestClient) -> None:
    ask = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}

    allowed = client.options("/v1/data", headers={"Origin": ORIGIN, **ask})
    other = client.options("/v1/data", headers={"Origin": "https://evil.example.com", **ask})
    bad_method = client.options("/v1/data", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "TRACE"})

    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert other.status_code == 405 and other.text == "the route's own"
    assert "access-control-allow-origin" not in other.headers
    assert_problem(bad_method, 400, PROBLEM_BASE + "bad-request")


def test_iiif_routes_are_left_to_their_own_cors(client: TestClient) -> None:
    resp = client.get("/iiif/3/x", headers={"Origin": ORIGIN})

    assert "access-control-allow-origin" not in resp.headers  # this stand-in route sets none; the real one sets *


def test_cors_origins_are_exact_origins() -> None:
    for bad in ("*", "https://a.example.org/", "https://a.example.org/path", "a.example.org", "ftp://a.example.org"):
        with pytest.raises(ValueError, match="scheme://host"):
            SecuritySettings(cors_origins=[bad])


def test_a_declared_body_over_the_limit_is_413_before_any_route_runs(gateway: TestClient) -> None:
    resp = gateway.post("/v1/admin/regions", content=b"{" + b" " * 5000 + b"}",
                        headers={"Content-Type": "application/json"})

    body = assert_problem(resp, 413, PROBLEM_BASE + "payload-too-large")
    assert "4096 bytes" in body["detail"]
    assert resp.headers["x-content-type-options"] == "nosniff" and resp.headers["x-request-id"]


def test_a_chunked_body_over_the_limit_is_cut_and_the_routes_answer_replaced_by_413() -> None:
    app = Hardening(_small_app(), Settings(security=SecuritySettings(max_body_bytes=4096)))

    def chunks(n: int) -> Iterator[bytes]:
        for _ in range(n):
            yield b" " * 1000

    with TestClient(app) as client:
        over = client.post("/v1/data", content=chunks(10))
        within = client.post("/v1/data", content=chunks(4))

    assert "content-length" not in over.request.headers
    assert_problem(over, 413, PROBLEM_BASE + "payload-too-large")
    assert within.status_code == 200 and within.json()["read"] == 4000


def test_image_search_and_batches_have_limits_of_their_own(gateway: TestClient) -> None:
    settings = Settings(security=SecuritySettings(max_body_bytes=4096, max_header_bytes=2048))
    image_limit = settings.search.max_image_upload_bytes + 64 * 1024
    over_image = {"Content-Length": str(image_limit + 1), "Content-Type": "multipart/form-data; boundary=x"}
    over_batch = {"Content-Length": str(settings.security.max_batch_body_bytes + 1),
                  "Content-Type": "application/json"}

    image = gateway.post("/v1/search/image", content=b"", headers=over_image)
    batch = gateway.post("/v1/batches", content=b"", headers=over_batch)

    assert_problem(image, 413, PROBLEM_BASE + "payload-too-large")
    assert f"{image_limit} bytes" in image.json()["detail"]
    assert_problem(batch, 413, PROBLEM_BASE + "payload-too-large")
    assert f"{settings.security.max_batch_body_bytes} bytes" in batch.json()["detail"]


def test_headers_over_the_limit_are_431(gateway: TestClient) -> None:
    resp = gateway.get(web.static_url("css/wenyuan.css"), headers={"X-Padding": "a" * 3000})
    fine = gateway.get(web.static_url("css/wenyuan.css"), headers={"X-Padding": "a" * 1000})

    body = assert_problem(resp, 431, PROBLEM_BASE + "headers-too-large")
    assert "at most 2048" in body["detail"]
    assert fine.status_code == 200
