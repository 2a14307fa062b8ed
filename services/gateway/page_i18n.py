"""The web pages in the reader's language from the first byte: no flash of English for a Chinese reader.

The interface's strings live in one place, the JavaScript catalogues (services/web/static/js/messages*.js,
one `"key": "text",` a line under `en: {` and `zh: {`), which the browser uses after a switch of language.
The server reads the same files, so a page it sends already has its `data-i18n` texts, placeholders and
accessible names, its `<html lang>`, title, description and Open Graph tags in the reader's language.

The language of a page: `?lang=zh|en`, else the `wenyuan_lang` cookie the interface sets when the reader
switches, else `Accept-Language` (services/messages.negotiate), else English.
"""

from __future__ import annotations

import html
import json
import re
from functools import cache
from pathlib import Path

from fastapi import Request

from services.messages import LANGS, Lang, negotiate

JS = Path(__file__).resolve().parents[1] / "web" / "static" / "js"
COOKIE = "wenyuan_lang"
HTML_LANG: dict[Lang, str] = {"en": "en", "zh": "zh-CN"}
OG_LOCALE: dict[Lang, str] = {"en": "en_GB", "zh": "zh_CN"}

_BLOCK = re.compile(r"^\s*(en|zh):\s*\{\s*$")
_ENTRY = re.compile(r'^\s*"([^"]+)":\s*("(?:[^"\\]|\\.)*"),?\s*$')
_TEXT = re.compile(r'(<(\w+)\b[^>]*?\sdata-i18n="([\w.-]+)"[^>]*>)([^<]*)(</\2>)')
_ATTR = {"placeholder": re.compile(r'<[^>]*\sdata-i18n-placeholder="([\w.-]+)"[^>]*>'),
         "aria-label": re.compile(r'<[^>]*\sdata-i18n-aria-label="([\w.-]+)"[^>]*>')}


def page_lang(request: Request) -> Lang:
    asked = request.query_params.get("lang") or request.cookies.get(COOKIE)
    if asked in LANGS:
        return "zh" if asked == "zh" else "en"
    return negotiate(request.headers.get("accept-language"))


@cache
def catalogue() -> dict[Lang, dict[str, str]]:
    """Every interface string of the JavaScript catalogues, by language."""
    out: dict[Lang, dict[str, str]] = {"en": {}, "zh": {}}
    for path in sorted(JS.glob("messages*.js")):
        lang: Lang | None = None
        for line in path.read_text(encoding="utf-8").splitlines():
            if block := _BLOCK.match(line):
                lang = "zh" if block[1] == "zh" else "en"
            elif lang is not None and (entry := _ENTRY.match(line)):
                out[lang][entry[1]] = json.loads(entry[2])
    return out


def say(key: str, lang: Lang, **params: str) -> str:
    """An interface string in `lang` (English where it has none), its {name}s filled."""
    found = catalogue()
    text = found[lang].get(key) or found["en"].get(key, key)
    return re.sub(r"\{(\w+)\}", lambda m: params.get(m[1], ""), text)


def translate(page: str, lang: Lang) -> str:
    """The page's `data-i18n` texts, placeholders and accessible names in `lang`, as translate() in i18n.js."""
    if lang == "en":
        return page  # the templates are written in English
    page = _TEXT.sub(lambda m: m[1] + html.escape(say(m[3], lang), quote=False) + m[5], page)
    for attr, tag in _ATTR.items():
        def fill(m: re.Match[str], attr: str = attr) -> str:
            value = html.escape(say(m[1], lang))
            return re.sub(rf'\s{attr}="[^"]*"', f' {attr}="{value}"', m[0], count=1) if f' {attr}="' in m[0] \
                else m[0][:-1].rstrip("/") + f' {attr}="{value}">'
        page = tag.sub(fill, page)
    return page


def head(lang: Lang, title: str, description: str, url: str, image: str | None = None) -> str:
    """The <head> elements that name the page: description and Open Graph tags (escaped)."""
    tags = [f'<meta name="description" content="{html.escape(description)}">',
            '<meta property="og:site_name" content="文渊 Wenyuan">', '<meta property="og:type" content="website">',
            f'<meta property="og:title" content="{html.escape(title)}">',
            f'<meta property="og:description" content="{html.escape(description)}">',
            f'<meta property="og:url" content="{html.escape(url)}">',
            f'<meta property="og:locale" content="{OG_LOCALE[lang]}">',
            f'<meta property="og:locale:alternate" content="{OG_LOCALE["en" if lang == "zh" else "zh"]}">']
    if image:
        tags.append(f'<meta property="og:image" content="{html.escape(image)}">')
    return "\n".join(tags)
