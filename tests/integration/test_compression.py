"""The stack's gateway gzips JSON and XML for clients that accept it (tests/unit/test_gateway_compression.py: what
it leaves alone)."""

from __future__ import annotations

import gzip
import json

import httpx
import pytest

from services.settings import Settings

GZIP = {"Accept-Encoding": "gzip"}


def _raw(url: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
    with httpx.stream("GET", url, headers=headers, timeout=60) as resp:
        return resp, b"".join(resp.iter_raw())


@pytest.mark.parametrize(("path", "media_type"), [("/openapi.json", "application/json"),
                                                  ("/oai?verb=ListMetadataFormats", "text/xml")])
def test_json_and_xml_are_gzipped(settings: Settings, path: str, media_type: str) -> None:
    url = settings.gateway.public_url + path

    resp, body = _raw(url, GZIP)
    plain, plain_body = _raw(url, {"Accept-Encoding": "identity"})

    assert resp.status_code == 200 and resp.headers["content-type"].startswith(media_type)
    assert resp.headers["content-encoding"] == "gzip" and "accept-encoding" in resp.headers["vary"].lower()
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    assert gzip.decompress(body) == plain_body and len(body) < len(plain_body)
    if media_type == "application/json":
        assert json.loads(gzip.decompress(body))["openapi"]
