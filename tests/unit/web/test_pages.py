"""The web UI's pages and static files as the gateway serves them (services/gateway/routers/web.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

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
    module = re.search(r'<script type="module" src="/static/v/([0-9a-f]{12})/(js/\w+\.js)">', html)
    assert module and module[1] == web.static_version() and (STATIC / module[2]).is_file()
    assert f'<link rel="stylesheet" href="/static/v/{module[1]}/css/wenyuan.css">' in html
    preloaded = re.findall(rf'<link rel="modulepreload" href="/static/v/{module[1]}/js/([\w-]+\.js)">', html)
    assert "api.js" in preloaded and "messages.js" in preloaded  # imported directly, and through i18n.js
    assert f"{page}.js" not in preloaded and all((STATIC / "js" / name).is_file() for name in preloaded)
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
    assert "media-src 'self' blob: https://s3.example.org;" in policy  # <video>/<audio> play presigned URLs
    if web.model_viewer_style():  # the web build is there: <model-viewer>'s own style, by its hash, no more
        assert web.model_viewer_style() in policy and web.model_viewer_style().count("'sha256-") == 1
    assert "frame-ancestors 'none'" in policy


def test_static_files_are_served_revalidated_and_outside_the_rate_limit() -> None:
    client = TestClient(create_app())  # no lifespan: /static/ never reaches the access middleware's state

    css = client.get("/static/css/wenyuan.css")
    old = client.get("/static/v/000000000000/css/wenyuan.css")  # a page of an earlier version still loads

    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert css.headers["cache-control"] == "no-cache"
    assert "x-ratelimit-limit" not in css.headers
    assert old.status_code == 200 and old.headers["cache-control"] == "no-cache" and old.content == css.content


def test_versioned_static_files_are_cached_immutably_and_the_version_follows_the_content(tmp_path: Path) -> None:
    client = TestClient(create_app())
    base = web.static_url()

    module = client.get(f"{base}/js/search.js")
    imported = client.get(f"{base}/js/api.js")  # what `import … from "./api.js"` asks for
    missing = client.get(f"{base}/js/nothing.js")
    escape = client.get(f"{base}/%2e%2e/%2e%2e/templates/base.html")

    assert module.status_code == 200 and module.content == (STATIC / "js/search.js").read_bytes()
    assert module.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert imported.status_code == 200 and imported.headers["cache-control"] == module.headers["cache-control"]
    assert missing.status_code == 404
    assert escape.status_code == 404
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "a.js").write_text("export const a = 1;\n", encoding="utf-8")
    first = web.tree_hash(tmp_path)
    (tmp_path / "js" / "a.js").write_text("export const a = 2;\n", encoding="utf-8")
    changed = web.tree_hash(tmp_path)
    (tmp_path / "js" / "a.js").rename(tmp_path / "js" / "b.js")
    assert len({first, changed, web.tree_hash(tmp_path)}) == 3  # a changed or renamed file: new URLs
    assert re.fullmatch(r"[0-9a-f]{12}", first) and web.tree_hash(tmp_path) == web.tree_hash(tmp_path)


@pytest.mark.parametrize("path", ["/static/%2e%2e/templates/base.html", "/static/..%2ftemplates/base.html",
                                  "/static/js/nothing.js"])
def test_nothing_outside_the_static_folder_is_served(path: str) -> None:
    assert TestClient(create_app()).get(path).status_code == 404
