"""Bucket CORS for the web UI: which origins, and the S3 document that says so."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from services.bucket_cors import browser_origins, cors_configuration


def test_a_loopback_gateway_allows_every_port_of_its_host() -> None:
    assert browser_origins("http://127.0.0.1:8000") == ["http://127.0.0.1:8000", "http://127.0.0.1:*"]
    assert browser_origins("http://localhost:8000/") == ["http://localhost:8000", "http://localhost:*"]
    assert browser_origins("http://[::1]:8000") == ["http://[::1]:8000", "http://[::1]:*"]


def test_a_public_gateway_allows_exactly_its_own_origin() -> None:
    assert browser_origins("https://wenyuan.example.org/some/path") == ["https://wenyuan.example.org"]
    assert browser_origins("https://wenyuan.example.org:8443") == ["https://wenyuan.example.org:8443"]


def test_a_relative_url_is_refused() -> None:
    with pytest.raises(ValueError, match="not an absolute URL"):
        browser_origins("wenyuan.example.org")


def test_the_configuration_is_one_rule_with_the_origins_methods_and_the_etag_exposed() -> None:
    doc = ET.fromstring(cors_configuration(["https://a.example", "http://127.0.0.1:*"], ["PUT"]))

    (rule,) = doc.findall("CORSRule")
    assert [o.text for o in rule.findall("AllowedOrigin")] == ["https://a.example", "http://127.0.0.1:*"]
    assert [m.text for m in rule.findall("AllowedMethod")] == ["PUT"]
    assert rule.findtext("AllowedHeader") == "*"
    assert rule.findtext("ExposeHeader") == "ETag"


def test_an_origin_with_markup_is_escaped_in_the_document() -> None:
    doc = ET.fromstring(cors_configuration(["https://a.example/<x>&"], ["GET"]))

    assert doc.findtext("CORSRule/AllowedOrigin") == "https://a.example/<x>&"
