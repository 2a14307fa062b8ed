"""Around every request: its id and the last word on failures (RequestContext), then who is calling and
how often (AccessMiddleware).

RequestContext (outermost) takes the caller's `X-Request-ID` when it is a short token, or makes one,
puts it in services/logs.request_id for every line logged meanwhile, and returns it as `X-Request-ID`.
An exception nothing else handled is logged once with its traceback and answered with a problem+json 500
carrying the request id (services/gateway/errors.internal_error).

AccessMiddleware: the principal of each request and its rate limit, before any route runs.

A pure ASGI middleware (streamed responses such as dumps pass through untouched): it reads the
API key (`Authorization: Bearer …` or `X-API-Key`), makes the principal (services/access/resolve.py's
PrincipalCache: the store is read, in a worker thread, only for a key not seen since the store last
changed), counts the request against the key's limit (or the client address's, without a key), and
adds the `X-RateLimit-*` headers to the answer. A bad key is a 401, never a silent fall-back to
anonymous; over the limit is a 429 with `Retry-After`.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.access.errors import InvalidKey
from services.access.principals import ANONYMOUS, Principal
from services.gateway.errors import TooManyRequests, Unauthorized, internal_error, problem_response
from services.logs import request_id
from services.messages import Message as Said
from services.messages import negotiate

log = logging.getLogger(__name__)

EXEMPT = ("/healthz", "/readyz", "/metrics")
IMAGE_API = "/iiif/3/"  # Presentation manifests share the prefix and the budget: viewers fetch them with the tiles


REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("x-request-id", "")
        rid = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        scope.setdefault("state", {})["request_id"] = rid
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error", extra={"method": scope["method"], "path": scope["path"]})
            if started:  # a streamed answer already under way cannot become a problem: cut it off
                raise
            lang = negotiate(Headers(scope=scope).get("accept-language"))
            await internal_error(scope["path"], rid, lang)(scope, receive, send)
        finally:
            request_id.reset(token)


def api_key(headers: Headers) -> str | None:
    auth = headers.get("authorization")
    if auth and auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return headers.get("x-api-key") or None


class AccessMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        state: Any = scope["app"].state
        headers = Headers(scope=scope)
        key, lang = api_key(headers), negotiate(headers.get("accept-language"))
        try:
            principal: Principal = ANONYMOUS
            if key is not None:
                principal = await state.principals.principal(key)
        except InvalidKey as exc:
            body = Unauthorized(exc.detail).body(scope["path"], lang)
            challenge = {"WWW-Authenticate": 'Bearer realm="wenyuan"'}
            await problem_response(401, body, challenge, lang)(scope, receive, send)
            return
        if principal.key_prefix:
            bucket, limit = f"key:{principal.key_prefix}", principal.rate_limit_per_min or 1
        else:
            client = scope.get("client") or ("unknown", 0)
            bucket, limit = f"addr:{client[0]}", state.settings.access.anonymous_rate_per_min
        if scope["path"].startswith(IMAGE_API):  # tiles come by the hundred: a budget of their own
            bucket, limit = f"{bucket}:image", state.settings.access.image_rate_per_min
        allowance = await state.limiter.hit(bucket, limit)
        if not allowance.allowed:
            said = (Said("rate.key", key=principal.key_prefix, limit=limit, s=allowance.reset_s)
                    if principal.key_prefix else Said("rate.address", limit=limit, s=allowance.reset_s))
            body = TooManyRequests(said,
                                   limit=limit, retry_after_s=allowance.reset_s).body(scope["path"], lang)
            await problem_response(429, body, allowance.headers(), lang)(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in allowance.headers().items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_limits)

