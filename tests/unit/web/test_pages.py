"""The web UI's pages and static files as the gateway serves them (services/gateway/routers/web.py)."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from services.gateway.app import create_app
from services.gateway.routers import web
from services.settings import Settings
from tests.helpers import ROOT

STATIC = ROOT / "services/web/static"


@pytest.mark.parametrize("page", ["search", "asset", "console"])
def test_each_page_is_whole_html_with_its_module_and_no_placeholder_left(settings: Settings, page: str) -> None:
    html = bytes(web.render(page, "Title", settings).body).decode()

    assert html.startswith("<!doctype html>") and "${" not in html and not re.search(r"\$\w", html)
    module = re.search(r'<script type="module" src="/static/(js/\w+\.js)">', html)
    assert module and (STATIC / module[1]).is_file()
    assert 'id="main"' in html and 'class="skip" href="#main"' in html


def test_every_module_the_scripts_import_exists() -> None:
    scripts = sorted((STATIC / "js").glob("*.js"))
    imports = {(path.name, name) for path in scripts
               for name in re.findall(r'from "\./([\w-]+\.js)"', path.read_text(encoding="utf-8"))}

    assert len(scripts) >= 10 and imports
    assert [i for i in imports if not (STATIC / "js" / i[1]).is_file()] == []


def test_the_vocabulary_cannot_close_its_script_element_and_names_concepts_and_periods() -> None:
    text = web.vocabulary_json()
    vocab = json.loads(text)

    assert "<" not in text and ">" not in text
    assert vocab["concepts"]["bronze"] == ["铜器", "bronzes and copper objects"]
    assert {"id": "shang", "zh": "商", "en": "Shang", "start": -1600, "end": -1046} in vocab["periods"]


def test_the_policy_allows_this_origin_and_the_storage_the_presigned_urls_point_at(settings: Settings) -> None:
    public = settings.model_copy(update={"s3": settings.s3.model_copy(update={"public_url": "https://s3.example.org"})})

    policy = web.content_security_policy(public)

    assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy
    assert "connect-src 'self' https://s3.example.org;" in policy
    assert "img-src 'self' blob: data: https://s3.example.org;" in policy
    assert "frame-ancestors 'none'" in policy


def test_static_files_are_served_revalidated_and_outside_the_rate_limit() -> None:
    client = TestClient(create_app())  # no lifespan: /static/ never reaches the access middleware's state

    css = client.get("/static/css/wenyuan.css")

    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert css.headers["cache-control"] == "no-cache"
    assert "x-ratelimit-limit" not in css.headers


@pytest.mark.parametrize("path", ["/static/%2e%2e/templates/base.html", "/static/..%2ftemplates/base.html",
                                  "/static/js/nothing.js"])
def test_nothing_outside_the_static_folder_is_served(path: str) -> None:
    assert TestClient(create_app()).get(path).status_code == 404
