"""The web UI: the search page, an asset's page and the museum console, and their static files.

The pages are plain HTML (services/web/templates) that JavaScript modules (services/web/static/js) fill
from the JSON API, with the caller's key when signed in; of a record, the server renders only the title,
description and Open Graph tags of its page (for link previews), and answers 404 with a page of its own for
an asset the visitor may not see. Pages are sent in the reader's language (services/gateway/page_i18n.py).
Each page carries the vocabularies it names things with (taxonomy concepts and periods, and the names of
institutions, departments and regions, zh/en) and a Content-Security-Policy that allows scripts and styles
from this origin only, and connections to this origin and to the S3 server the presigned URLs point at.
`/static/…` serves services/web/static, including `build/` (OpenSeadragon and Swagger UI, copied there by the
stack's install step from the npm lock), so `/docs` (Swagger UI for the OpenAPI document) loads nothing from a
CDN either.

The pages link their static files under `/static/v/<version>/…`, the version a hash of every file in the
folder (taken once per process: restart the gateway after editing one). Such URLs are cached immutably
for a year — any change makes new URLs, and the modules' relative imports (`./api.js`) stay under the
same version. `/static/…` without a version, and a version not the current one, are revalidated on each
use (no-cache).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
from functools import cache
from html import escape
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from starlette.datastructures import MutableHeaders
from starlette.routing import Route
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

from schemas.access import Tier
from schemas.asset import AssetRecord
from schemas.licences import LICENCES
from schemas.periods import load_periods
from schemas.taxonomy import categories, materials
from services import assets
from services.access.db import Database
from services.access.names import names
from services.access.policy import Decision
from services.gateway.deps import DbDep, EsDep, PrincipalDep, SettingsDep
from services.gateway.page_i18n import HTML_LANG, catalogue, head, page_lang, say, translate
from services.messages import LICENCE_ZH, Lang
from services.record_view import media_href
from services.settings import Settings

WEB = Path(__file__).resolve().parents[2] / "web"
STATIC = WEB / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
PERIOD_KINDS = {"age", "dynasty"}  # the period control offers these; reigns are searched by their years

router = APIRouter(tags=["web"])


@cache
def _template(name: str) -> Template:
    return Template((WEB / "templates" / f"{name}.html").read_text(encoding="utf-8"))


@cache
def vocabulary_json() -> str:
    """Names of taxonomy concepts and periods, as JSON safe inside a <script> element."""
    vocab = {"concepts": {c.id: [c.zh, c.en] for c in (*categories(), *materials())},
             "periods": [{"id": p.id, "zh": p.zh, "en": p.en, "start": p.start, "end": p.end}
                         for p in load_periods() if p.kind in PERIOD_KINDS]}
    return json.dumps(vocab, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")


def tree_hash(folder: Path) -> str:
    """A hash of the names and contents of every file below `folder` (12 hex digits)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:12]


@cache
def static_version() -> str:
    """The version of services/web/static in this process."""
    return tree_hash(STATIC)


IMPORT = re.compile(r'from "\./([\w-]+\.js)"')


@cache
def module_preloads(page: str) -> str:
    """`<link rel="modulepreload">` for every module the page's script imports, directly or not: the browser
    fetches them at once instead of one import level after another."""
    seen: list[str] = []
    todo = [f"{page}.js"]
    while todo:
        name = todo.pop(0)
        if name not in seen:
            seen.append(name)
            todo += IMPORT.findall((STATIC / "js" / name).read_text(encoding="utf-8"))
    return "\n".join(f'<link rel="modulepreload" href="{static_url("js/" + name)}">' for name in seen[1:])


def static_url(path: str = "") -> str:
    """The versioned URL of a static file (`path` below services/web/static), or of the folder."""
    return f"/static/v/{static_version()}/{path}".rstrip("/")


# OpenSeadragon adds a <style> that hides the focus outline on touch screens unless one marked as its own is
# there: the asset page carries that marker empty, and the policy allows exactly an empty inline style.
EMPTY_STYLE = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
OPENSEADRAGON = ('<script defer src="${static}/build/openseadragon/openseadragon.min.js"></script>\n'
                 '<style data-openseadragon-mobile-css></style>')


@cache
def model_viewer_style() -> str:
    """The hash of the one inline <style> that <model-viewer> puts in its shadow DOM, read from the bundle served
    (so an upgrade of the pinned version needs no edit here); '' when the web build is not there."""
    bundle = WEB / "static" / "build" / "model-viewer" / "model-viewer.min.js"
    if not bundle.is_file():
        return ""
    styles = re.findall(r"<style>(.*?)</style>", bundle.read_text(encoding="utf-8"), re.S)
    return " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in styles)


def content_security_policy(settings: Settings) -> str:
    """Scripts and styles of our own only; pictures, players' media and fetches also from object storage (the
    presigned URLs deliveries redirect to)."""
    s3 = urlsplit(settings.s3.public_url or settings.s3.url)
    storage = f"{s3.scheme}://{s3.netloc}"
    styles = " ".join(filter(None, (EMPTY_STYLE, model_viewer_style())))
    return (f"default-src 'self'; script-src 'self'; style-src 'self' {styles}; "
            f"img-src 'self' blob: data: {storage}; media-src 'self' blob: {storage}; "
            f"connect-src 'self' {storage}; object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'")


def names_json(db: Database | None) -> str:
    """The names of institutions, departments and regions (services/access/names.py) and of licences, safe inside
    a <script>."""
    found = names(db).as_json() if db is not None else {"institutions": {}, "regions": {}, "departments": {}}
    found["licences"] = {code: [LICENCE_ZH.get(code, lic.label), lic.label] for code, lic in LICENCES.items()}
    return json.dumps(found, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")


def render(page: str, title: str, settings: Settings, scripts: str = "", *, lang: Lang = "en",
           db: Database | None = None, url: str = "/", description: str | None = None, image: str | None = None,
           status: int = 200) -> HTMLResponse:
    """The page `page` in `lang`. `title`: an interface string's key (or a text), `description` likewise (by default
    the page's `meta.<page>`)."""
    static = static_url()
    title = say(title, lang) if title.replace(".", "").isalnum() and "." in title else title
    description = description or say(f"meta.{page}" if f"meta.{page}" in catalogue()["en"] else "meta.site", lang)
    other: Lang = "en" if lang == "zh" else "zh"
    html = _template("base").substitute(
        page=page, title=escape(title), main=translate(_template(page).template, lang), vocab=vocabulary_json(),
        names=names_json(db), scripts=Template(scripts).substitute(static=static), static=static,
        preloads=module_preloads(page), html_lang=HTML_LANG[lang], other_lang=HTML_LANG[other],
        other_name=say("lang.name", other), other_switch=escape(say("lang.switch", other)),
        head=head(lang, f"{title} · 文渊 Wenyuan", description, settings.gateway.public_url + url, image),
        footer=escape(say("footer", lang)), skip=escape(say("skip", lang)), nav_label=escape(say("nav.label", lang)),
        nav_search=escape(say("nav.search", lang)), nav_console=escape(say("nav.console", lang)))
    return HTMLResponse(html, status_code=status, headers={
        "Content-Security-Policy": content_security_policy(settings), "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin", "Cache-Control": "no-cache", "Content-Language": lang,
        "Vary": "Accept-Language, Cookie"})


@router.get("/", response_class=HTMLResponse, summary="The search page")
def search_page(request: Request, settings: SettingsDep, db: DbDep) -> HTMLResponse:
    """Search by words (Chinese or English) or by a picture, with facets, a period range and a reusable switch.
    Every page is in the language of `?lang=`, else of the `wenyuan_lang` cookie, else of `Accept-Language`."""
    return render("search", "title.search", settings, lang=page_lang(request), db=db, url="/")


def _seen(es: Any, settings: Settings, asset_id: str, principal: Any) -> tuple[AssetRecord, Decision] | None:
    try:
        return assets.load_seen(es, settings, asset_id, principal)
    except assets.AssetNotFound:
        return None


@router.get("/assets/{asset_id}", response_class=HTMLResponse, summary="An asset's page",
            responses={404: {"description": "No asset the visitor may see (an HTML page, in their language)."}})
async def asset_page(asset_id: str, request: Request, settings: SettingsDep, es: EsDep, db: DbDep,
                     principal: PrincipalDep) -> HTMLResponse:
    """The zoomable image, the record in zh/en, AI labels, licence and credit line, downloads, similar items.
    An asset the visitor may not see (or none) is a 404 page; a signed-in visitor's key is in the tab, not in
    the request, so that page asks the API with it and, if the asset is theirs to see, comes back with
    `?signed-in=1`, which shows the page without the check (the API still decides what it shows)."""
    lang, url = page_lang(request), f"/assets/{quote(asset_id)}"
    if "signed-in" in request.query_params:
        return render("asset", "title.asset", settings, scripts=OPENSEADRAGON, lang=lang, db=db, url=url)
    seen = await asyncio.to_thread(_seen, es, settings, asset_id, principal)
    if seen is None:
        return render("notfound", "notfound.title", settings, lang=lang, db=db, url=url, status=404)
    record, decision = seen
    title = (record.title_zh or record.title_en) if lang == "zh" else (record.title_en or record.title_zh)
    holder = names(db).institution(record.institution)
    by = (holder.zh if lang == "zh" else holder.en) if holder else record.institution
    image = (media_href(settings.gateway.public_url, record.asset_id, 0, Tier.THUMBNAIL)
             if record.images and (decision.tier or Tier.METADATA).includes(Tier.THUMBNAIL) else None)
    return render("asset", title or record.object_id, settings, scripts=OPENSEADRAGON, lang=lang, db=db, url=url,
                  description=f"{title or record.object_id} · {by}", image=image)


@router.get("/console", response_class=HTMLResponse, summary="The museum console")
def console_page(request: Request, settings: SettingsDep, db: DbDep) -> HTMLResponse:
    """Sign in with an institution key; upload a batch folder; follow batches; read reports; decide AI labels."""
    return render("console", "title.console", settings, lang=page_lang(request), db=db, url="/console")




MIRADOR = '<script defer src="${static}/build/mirador/mirador.min.js"></script>'


@router.get("/viewer", response_class=HTMLResponse, summary="Mirador, to compare IIIF manifests side by side")
def viewer_page(request: Request, settings: SettingsDep, db: DbDep) -> HTMLResponse:
    """Mirador (npm `mirador`, pinned, served from this origin) with a window for each `manifest` parameter of this
    site (`/viewer?manifest=A&manifest=B`); more can be added from Mirador's own catalogue."""
    return render("viewer", "mirador.title", settings, scripts=MIRADOR, lang=page_lang(request), db=db, url="/viewer")


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI for the OpenAPI document, its script and styles served by the gateway (services/web/package-lock.json
    pins swagger-ui-dist)."""
    swagger = static_url("build/swagger-ui")
    return get_swagger_ui_html(openapi_url=request.app.openapi_url or "/openapi.json",
                               title=f"{request.app.title} — API", swagger_js_url=f"{swagger}/swagger-ui-bundle.js",
                               swagger_css_url=f"{swagger}/swagger-ui.css",
                               swagger_favicon_url=f"{swagger}/favicon-32x32.png",
                               oauth2_redirect_url="/docs/oauth2-redirect",
                               # no badge from swagger.io's online validator: this page loads nothing from elsewhere
                               swagger_ui_parameters={"validatorUrl": None})


@router.get("/docs/oauth2-redirect", response_class=HTMLResponse, include_in_schema=False)
def api_docs_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


class StaticUnder:
    """StaticFiles as a route of this router (include_router copies routes, not mounts): it sees the path below
    `prefix` (and below `v/<version>/` for a versioned URL), as under a Mount, so `..` cannot leave the folder.
    The current version's files are cached immutably; every other file is revalidated on each use (no-cache)."""

    def __init__(self, directory: Path, prefix: str) -> None:
        self.files = StaticFiles(directory=directory, check_dir=False)
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        root = scope.get("root_path", "") + self.prefix
        below = scope["path"][len(root):] if scope["path"].startswith(root) else ""
        cache_control = "no-cache"
        if below.startswith("/v/"):
            version = below[3:].partition("/")[0]
            root += f"/v/{version}"
            if version == static_version():
                cache_control = IMMUTABLE

        async def send_cached(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["cache-control"] = cache_control if message["status"] in (200, 304) else "no-cache"
            await send(message)

        await self.files(dict(scope, root_path=root), receive, send_cached)


router.routes.append(Route("/static/{path:path}", StaticUnder(STATIC, "/static"), methods=["GET", "HEAD"],
                           include_in_schema=False, name="static"))
