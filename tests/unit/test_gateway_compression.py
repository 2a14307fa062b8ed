"""gzip of the gateway's answers (services/gateway/app.py): text compressed, images and small bodies not."""

from __future__ import annotations

import gzip

from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.gateway.app import GZIP_MIN_BYTES, create_app
from services.gateway.routers import web
from tests.helpers import ROOT

STATIC = ROOT / "services/web/static"
GZIP = {"Accept-Encoding": "gzip"}


def _raw(client: TestClient, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and the body as sent (not decoded)."""
    with client.stream("GET", path, headers=headers) as resp:
        return resp.status_code, dict(resp.headers), b"".join(resp.iter_raw())


def test_text_is_gzipped_for_clients_that_accept_it_and_sent_plain_to_others() -> None:
    client = TestClient(create_app())  # no lifespan: /static/ needs none
    css = (STATIC / "css/wenyuan.css").read_bytes()
    assert len(css) > GZIP_MIN_BYTES

    status, headers, body = _raw(client, web.static_url("css/wenyuan.css"), GZIP)
    plain_status, plain_headers, plain = _raw(client, web.static_url("css/wenyuan.css"),
                                              {"Accept-Encoding": "identity"})

    assert status == 200 and headers["content-encoding"] == "gzip" and "accept-encoding" in headers["vary"].lower()
    assert gzip.decompress(body) == css and len(body) < len(css) / 2
    assert headers["cache-control"] == "public, max-age=31536000, immutable"  # compression keeps the caching
    assert plain_status == 200 and "content-encoding" not in plain_headers and plain == css


def test_images_are_sent_as_they_are() -> None:
    client = TestClient(create_app())
    png = next((STATIC / "build/openseadragon/images").glob("*.png"))
    assert png.stat().st_size > GZIP_MIN_BYTES

    status, headers, body = _raw(client, f"/static/build/openseadragon/images/{png.name}", GZIP)

    assert status == 200 and headers["content-type"] == "image/png"
    assert "content-encoding" not in headers and body == png.read_bytes()


def test_a_gzip_body_such_as_a_dump_is_not_compressed_twice() -> None:
    app = create_app()
    body = gzip.compress(b'{"record": 1}\n' * 500)

    async def dump_like(request: Request) -> Response:
        return Response(body, media_type="application/gzip")  # as /v1/dumps/records.ndjson.gz answers

    app.router.routes.insert(0, Route("/static/probe.ndjson.gz", dump_like))  # /static/: no lifespan needed
    status, headers, sent = _raw(TestClient(app), "/static/probe.ndjson.gz", GZIP)

    assert status == 200 and "content-encoding" not in headers and sent == body
