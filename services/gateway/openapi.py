"""The OpenAPI document as the gateway really answers, and the `Allow` header of its 405s.

FastAPI documents each route's success and a 422 `HTTPValidationError` as `application/json`; the gateway
answers every error as problem+json (services/gateway/errors.py), and some before any route runs (a bad key
401, a rate limit 429, a body or head too large 413/431: services/gateway/middleware.py, security.py). So the
document is completed here, once, when it is first asked for:

- every operation lists the problem+json answers it can give, each with the one `Problem` schema (the RFC 9457
  members, extensions such as `field`, `row`, `reason`, `basis` allowed); FastAPI's 422 is replaced by it;
- an HTML page's 404 is HTML (the page says "not found" in the reader's language), its other errors problem+json;
- the API keys are declared as security schemes (a bearer token or `X-API-Key`), optional on every operation:
  a caller without a key is the public.

`AllowHeader` fixes what Starlette's router says on a 405: it names the methods of the first route whose path
matched, though several routes may share a path (GET and POST of /v1/grants are two functions); the header
then lists every method of every route of that path.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.datastructures import MutableHeaders
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.errors import MEDIA_TYPE

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details; extensions name the row, field or reason where there is one.",
    "properties": {
        "type": {"type": "string", "description": "A stable URI of the kind of problem (never translated)."},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
    "required": ["type", "title", "status"],
    "additionalProperties": True,
}
# What any operation may answer before or around its own work, and what only some do.
EVERY = {
    401: "The API key is unknown, revoked or expired.",
    413: "The request body is larger than the gateway accepts.",
    429: "Over the caller's rate limit (see Retry-After).",
    431: "The request's headers are larger than the gateway accepts.",
    500: "An error of the gateway's own (the answer carries the request id).",
    503: "A service the gateway depends on (Elasticsearch, S3, the access store, Airflow) is unavailable.",
}
SOME = {
    400: "A malformed request: a cursor or token this service did not issue, a malformed body.",
    403: "The caller's role, licence or grants do not allow it (the answer says what would).",
    404: "No such resource, or none the caller may see.",
    409: "It conflicts with what exists (a name or key already taken, a batch in another state).",
    422: "A parameter or body field is invalid (the answer names it).",
}
WRITES = {"post", "put", "patch", "delete"}
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "An API key: `Authorization: Bearer wy_…`."},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "The same key, as a header."},
}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {MEDIA_TYPE: {"schema": PROBLEM_REF}}}


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` (FastAPI's) with every problem answer documented and the keys declared; changed in place."""
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    components["securitySchemes"] = SECURITY_SCHEMES
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses: dict[str, Any] = operation["responses"]
            html = "text/html" in responses.get("200", {}).get("content", {})
            wanted = EVERY | {s: d for s, d in SOME.items() if s != 409 or method in WRITES}
            for status, description in wanted.items():
                documented = responses.get(str(status))
                if documented is None or not documented.get("content") or status == 422:
                    responses[str(status)] = _problem(description if documented is None or status == 422
                                                      else documented.get("description", description))
                elif MEDIA_TYPE not in documented["content"]:
                    documented["content"][MEDIA_TYPE] = {"schema": PROBLEM_REF}
            if html:
                responses["404"]["content"]["text/html"] = {"schema": {"type": "string"}}
            operation.setdefault("security", [{}, {"bearer": []}, {"apiKey": []}])
    return schema


def install(app: FastAPI) -> None:
    """Serve the completed document at /openapi.json (and to /docs); made once, on the first request."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(get_openapi(
                title=app.title, version=app.version, summary=app.summary, description=app.description,
                routes=app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


class AllowHeader:
    """On a 405, `Allow` lists the methods of every route of the request's path, not only the first's."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                methods = allowed_methods(scope)
                if methods:
                    MutableHeaders(scope=message)["Allow"] = ", ".join(methods)
            await send(message)

        await self.app(scope, receive, send_with_allow)


def allowed_methods(scope: Scope) -> list[str]:
    """Every method some route of the app answers on this path (OPTIONS is no route of this API)."""
    app = scope.get("app")
    methods: set[str] = set()
    for route in getattr(getattr(app, "router", None), "routes", []):
        match, _ = route.matches({**scope, "method": "GET"})  # a path match whatever the method
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
    return sorted(methods, key=lambda m: order.index(m) if m in order else len(order))
