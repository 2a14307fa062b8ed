"""Pages in the reader's language from the server (services/gateway/page_i18n.py): the catalogue it reads from the
JavaScript files is whole, every text a template names is in it in both languages, and a page is sent translated."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from starlette.requests import Request

from services.gateway.page_i18n import catalogue, head, page_lang, translate

TEMPLATES = Path(__file__).resolve().parents[3] / "services" / "web" / "templates"
KEYS = re.compile(r'data-i18n(?:-placeholder|-aria-label)?="([\w.-]+)"')
HAN = re.compile(r"[\u4e00-\u9fff]")


def _request(query: str = "", cookie: str | None = None, accept: str | None = None) -> Request:
    headers = [(b"cookie", cookie.encode())] if cookie else []
    headers += [(b"accept-language", accept.encode())] if accept else []
    return Request({"type": "http", "method": "GET", "path": "/", "query_string": query.encode(), "headers": headers})


JS = TEMPLATES.parent / "static" / "js"


def test_the_catalogue_read_from_the_javascript_is_what_the_browser_gets() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("no node here to evaluate messages.js")
    script = 'import { MESSAGES } from "./messages.js"; process.stdout.write(JSON.stringify(MESSAGES));'
    browser = json.loads(subprocess.run([node, "--input-type=module", "-e", script], cwd=JS, check=True,
                                        capture_output=True, text=True).stdout)

    assert catalogue() == browser


def test_the_catalogue_has_every_key_in_both_languages() -> None:
    found = catalogue()

    assert len(found["en"]) > 300
    assert found["en"].keys() == found["zh"].keys()
    assert found["zh"]["title.search"] == "检索" and found["en"]["notfound.heading"] == "No such object here"


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_every_text_a_template_names_is_in_the_catalogue(template: str) -> None:
    keys = set(KEYS.findall((TEMPLATES / template).read_text(encoding="utf-8")))

    assert keys - catalogue()["zh"].keys() == set()


def test_a_page_for_a_chinese_reader_has_its_texts_placeholders_and_names_in_chinese() -> None:
    page = ('<label for="q" data-i18n="search.label">Words</label>\n<input id="q" placeholder="x"\n'
            ' data-i18n-placeholder="search.placeholder"><nav aria-label="Main" data-i18n-aria-label="nav.label">'
            '<canvas data-i18n-aria-label="crop.canvas"></canvas>')

    said = translate(page, "zh")

    assert f'data-i18n="search.label">{catalogue()["zh"]["search.label"]}</label>' in said
    assert f'placeholder="{catalogue()["zh"]["search.placeholder"]}"' in said
    assert 'aria-label="主导航"' in said and f'aria-label="{catalogue()["zh"]["crop.canvas"]}"' in said
    assert translate(page, "en") == page


def test_the_language_of_a_page_is_the_query_then_the_cookie_then_accept_language() -> None:
    assert page_lang(_request("lang=zh", "wenyuan_lang=en", "en")) == "zh"
    assert page_lang(_request("", "wenyuan_lang=zh", "en-GB")) == "zh"
    assert page_lang(_request("", "wenyuan_lang=fr", "zh-TW,en;q=0.5")) == "zh"
    assert page_lang(_request("lang=de")) == "en"


def test_open_graph_tags_are_escaped() -> None:
    tags = head("zh", 'A "quoted" <title>', "d & d", "http://x/assets/1", "http://x/t?a=1&b=2")

    assert 'content="A &quot;quoted&quot; &lt;title&gt;"' in tags and 'content="d &amp; d"' in tags
    assert '<meta property="og:image" content="http://x/t?a=1&amp;b=2">' in tags
    assert HAN.search(tags)  # the site's name
