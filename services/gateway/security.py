"""The gateway's edge: security headers on every answer, CORS for configured origins only, request size limits.

`Hardening` is one pure ASGI middleware around the routes and the other middleware (streamed answers pass
through untouched):

- **Headers.** Every answer says `X-Content-Type-Options: nosniff`, and `X-Frame-Options: DENY` and
  `Referrer-Policy: strict-origin-when-cross-origin` unless the route chose its own (the web UI's pages
  send the stricter `same-origin`). A route's own Content-Security-Policy is kept (the web UI's pages have
  theirs: services/gateway/routers/web.py). Without one, an HTML page gets scripts and styles of this
  origin only, plus the SHA-256 of each inline script of the pages named in INLINE_SCRIPT_PAGES (FastAPI's
  Swagger UI start-up script on /docs, its OAuth redirect page), hashed from the page as sent, so an upgrade
  that changes them needs no edit here; any other answer of the API (JSON, problems, images, XML) gets
  `default-src 'none'; frame-ancestors 'none'`: a response a browser is tricked into rendering runs nothing
  and cannot be framed. Static files get no policy of their own (the page that loads them has one, and a
  script's own policy would bind any worker it starts).
- **Limits.** A request head over `security.max_header_bytes` is a 431 problem. A body over its route's
  limit (BODY_LIMITS) is a 413 problem, before the route reads it when Content-Length says so; a body
  without a length (chunked) is counted as it arrives, and the route's answer, whatever it made of the cut
  body, is replaced by the 413.
- **CORS.** Starlette's CORSMiddleware for the origins in `security.cors_origins` only (none by default):
  a request from any other origin gets no CORS header at all, so the browser keeps its page out. The IIIF
  routes are left to their own router, which answers every origin (viewers on any site use them).
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.errors import PROBLEM_BASE, BadRequest, PayloadTooLarge, Problem, problem_response
from services.settings import Settings

NOSNIFF = ("X-Content-Type-Options", "nosniff")
DEFAULTS = {"X-Frame-Options": "DENY", "Referrer-Policy": "strict-origin-when-cross-origin"}
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
PAGE_POLICY = ("default-src 'self'; script-src 'self'{scripts}; style-src 'self'; img-src 'self' data:; "
               "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
INLINE_SCRIPT_PAGES = frozenset({"/docs", "/docs/oauth2-redirect"})
INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)
STATIC = "/static/"
OPEN_TO_ALL = "/iiif/"  # the IIIF routers answer CORS for every origin themselves
MULTIPART_SLACK = 64 * 1024  # the form around an image for search: boundaries, part headers, the other fields
CORS_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
CORS_HEADERS = ["Authorization", "X-API-Key", "Content-Type", "Accept", "Accept-Language", "X-Request-ID"]
CORS_EXPOSED = ["X-Request-ID", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After",
                "Link", "Content-Language"]


class HeadersTooLarge(Problem):
    type = PROBLEM_BASE + "headers-too-large"
    title = "Request header fields too large"
    status = 431


def body_limit(settings: Settings, path: str) -> int:
    """The largest body a request to `path` may send."""
    if path == "/v1/search/image":
        return settings.search.max_image_upload_bytes + MULTIPART_SLACK
    if path == "/v1/batches" or path.startswith("/v1/batches/"):
        return settings.security.max_batch_body_bytes
    return settings.security.max_body_bytes


def head_bytes(scope: Scope) -> int:
    """The size of the request's header fields as sent: `name: value` and CRLF each."""
    return sum(len(name) + len(value) + 4 for name, value in scope["headers"])


def script_hashes(html: bytes) -> list[str]:
    return [f"'sha256-{base64.b64encode(hashlib.sha256(body).digest()).decode()}'"
            for body in INLINE_SCRIPT.findall(html)]


def _add_headers(message: Message, path: str, body: bytes | None = None) -> None:
    headers = MutableHeaders(scope=message)
    headers[NOSNIFF[0]] = NOSNIFF[1]
    for name, value in DEFAULTS.items():
        if name not in headers:
            headers[name] = value
    if "content-security-policy" in headers:
        return
    html = headers.get("content-type", "").startswith("text/html")
    if html:
        hashes = script_hashes(body) if body is not None else []
        headers["Content-Security-Policy"] = PAGE_POLICY.format(scripts="".join(f" {h}" for h in hashes))
    elif not path.startswith(STATIC):
        headers["Content-Security-Policy"] = API_POLICY


class ConfiguredCors(CORSMiddleware):
    """CORSMiddleware that leaves requests of other origins, and the IIIF routes, to the app untouched (so a
    disallowed preflight gets the route's own answer, without CORS headers), and refuses a preflight of an
    allowed origin as a problem rather than plain text."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        super().__init__(app, allow_origins=origins, allow_methods=CORS_METHODS, allow_headers=CORS_HEADERS,
                         expose_headers=CORS_EXPOSED, max_age=600)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = Headers(scope=scope).get("origin") if scope["type"] == "http" else None
        if origin is None or scope["path"].startswith(OPEN_TO_ALL) or not self.is_allowed_origin(origin):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        said = bytes(response.body).decode()  # "Disallowed CORS method, headers"
        body = BadRequest(f"{said}: this API allows the methods {', '.join(CORS_METHODS)} and the headers "
                          f"{', '.join(CORS_HEADERS)}").body()
        return problem_response(400, body)


class Hardening:
    """See the module docstring. Outside the other middleware, so their answers (401, 429, 500) get the
    headers too."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.settings = settings
        self.app: ASGIApp = ConfiguredCors(app, settings.security.cors_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_hardened(message: Message) -> None:
            if message["type"] == "http.response.start":
                _add_headers(message, path)
            await send(message)

        if (size := head_bytes(scope)) > (most := self.settings.security.max_header_bytes):
            problem = HeadersTooLarge(f"the request's header fields are {size} bytes; at most {most} are accepted")
            await problem_response(431, problem.body(path), {"Connection": "close"})(scope, receive, send_hardened)
            return
        limit = body_limit(self.settings, path)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse_body(limit, path, scope, receive, send_hardened)
            return
        if path in INLINE_SCRIPT_PAGES:
            await self._page_with_hashes(scope, receive, send)
            return
        await self._counted(limit, scope, receive, send_hardened)

    async def _refuse_body(self, limit: int, path: str, scope: Scope, receive: Receive, send: Send) -> None:
        problem = PayloadTooLarge(f"the request body is larger than the {limit} bytes accepted here")
        await problem_response(413, problem.body(path), {"Connection": "close"})(scope, receive, send)

    async def _counted(self, limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the body on while it stays within `limit`; past it, end it there and answer 413 instead of
        whatever the route makes of the cut body."""
        received = 0
        exceeded = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def send_unless_exceeded(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, send_unless_exceeded)
        except Exception:
            if not exceeded or started:  # not ours to answer: RequestContext makes it a 500
                raise
        if exceeded and not started:
            await self._refuse_body(limit, scope["path"], scope, receive, send)

    async def _page_with_hashes(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The page whole (a few kilobytes), uncompressed, so its inline scripts can be hashed into its policy."""
        plain = dict(scope, headers=[(k, v) for k, v in scope["headers"] if k != b"accept-encoding"])
        start: Message | None = None
        body = b""

        async def send_buffered(message: Message) -> None:
            nonlocal start, body
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                body += message.get("body", b"")
                if not message.get("more_body", False) and start is not None:
                    if "content-encoding" not in Headers(raw=start["headers"]):
                        _add_headers(start, scope["path"], body)
                    else:  # compressed after all: no hashes, the page's inline scripts will be refused
                        _add_headers(start, scope["path"])
                    await send(start)
                    await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(plain, receive, send_buffered)
