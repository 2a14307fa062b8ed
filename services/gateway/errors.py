"""The gateway's one error shape: RFC 9457 problem+json.

    Problem                         (any failure the API reports; type, title, status)
    ├── BadRequest                  400
    │   └── BadImageRequest         400 (a IIIF Image API request its syntax or its limits refuse)
    ├── Unauthorized                401 (a key that is malformed, unknown, revoked or expired)
    ├── Forbidden                   403 (the caller is known but may not do this)
    │   ├── TierNotAllowed          403 (the licence and grants allow a lower tier: says which would allow it)
    │   └── MissingScope            403 (the key lacks the scope the route needs)
    ├── NotFound                    404 (also for what exists but the caller may not see)
    │   ├── BatchNotFound · AssetNotFound · LabelNotFound · EntityNotFound · ImageNotFound
    ├── Conflict                    409 (the resource is in a state that forbids the request, or exists)
    ├── PayloadTooLarge             413 · UnsupportedMediaType 415
    ├── InvalidRequest              422 (as request validation errors: field and reason in `errors`)
    ├── TooManyRequests             429 (with Retry-After)
    └── ServiceUnavailable          503 (a dependency — Elasticsearch, S3, Airflow — is down)

FastAPI's HTTPException and request-validation errors are rendered by the same handler,
so a client sees exactly one shape whatever failed. `type` is a stable URI per failure.

Titles and details are said in the language the request's `Accept-Language` prefers, Chinese or English
(services/messages.py: English when it names neither); the `type` is the same in both. A detail made as a
`Message` (and the `Message`s among a problem's extensions: `basis`, `would_allow`) is said again in that
language; a plain-string detail stays as it was written. Every problem answer carries `Content-Language`.

Errors are translated once, here, at the edge, not in each router: the domain's `AssetNotFound`
(services/assets.py, indexing/labels.py) becomes the `AssetNotFound` problem; a connection failure
or timeout of Elasticsearch (elastic_transport), S3 (minio over urllib3) or Airflow (httpx), and a
missing Elasticsearch index, become a 503 `ServiceUnavailable`; anything else unhandled becomes a
500 with the request id (`internal_error`, rendered by services/gateway/middleware.py, which logs the
traceback).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, ClassVar

import elastic_transport
import httpx
import urllib3
from elasticsearch import NotFoundError as EsNotFoundError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.messages import (
    SEPARATOR,
    TEXTS,
    Lang,
    Message,
    Named,
    Resolver,
    negotiate,
    render,
    text,
    title,
    validation_reason,
)

PROBLEM_BASE = "https://wenyuan.dev/problems/"
MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    type: ClassVar[str] = "about:blank"
    title: ClassVar[str] = "Error"
    status: ClassVar[int] = 500

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions

    def body(self, instance: str | None = None, lang: Lang = "en", resolve: Resolver | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {"type": self.type, "title": title(self.type, self.title, lang), "status": self.status,
                               "detail": render(self.detail, lang, resolve)}
        if instance:
            doc["instance"] = instance
        extensions: dict[str, Any] = render(self.extensions, lang, resolve)
        return doc | extensions


class NotFound(Problem):
    type = PROBLEM_BASE + "not-found"
    title = "Not found"
    status = 404


class BatchNotFound(NotFound):
    type = PROBLEM_BASE + "batch-not-found"
    title = "Batch not found"


class AssetNotFound(NotFound):
    type = PROBLEM_BASE + "asset-not-found"
    title = "Asset not found"


class ImageNotFound(NotFound):
    type = PROBLEM_BASE + "image-not-found"
    title = "Image not found"


class LabelNotFound(NotFound):
    type = PROBLEM_BASE + "label-not-found"
    title = "Label not in the taxonomy"


class EntityNotFound(NotFound):
    type = PROBLEM_BASE + "entity-not-found"
    title = "No such organisation, key or grant"


class Unauthorized(Problem):
    type = PROBLEM_BASE + "invalid-key"
    title = "Invalid API key"
    status = 401


class Forbidden(Problem):
    type = PROBLEM_BASE + "forbidden"
    title = "Not allowed"
    status = 403


class MissingScope(Forbidden):
    type = PROBLEM_BASE + "missing-scope"
    title = "The API key lacks a scope this needs"


class TierNotAllowed(Forbidden):
    type = PROBLEM_BASE + "tier-not-allowed"
    title = "The licence and your grants do not allow this tier"


class TooManyRequests(Problem):
    type = PROBLEM_BASE + "rate-limited"
    title = "Too many requests"
    status = 429


class Conflict(Problem):
    type = PROBLEM_BASE + "conflict"
    title = "Conflict with the current state"
    status = 409


class InvalidRequest(Problem):
    type = PROBLEM_BASE + "invalid-request"
    title = "Invalid request"
    status = 422


class BadRequest(Problem):
    type = PROBLEM_BASE + "bad-request"
    title = "Bad request"
    status = 400


class BadImageRequest(BadRequest):
    type = PROBLEM_BASE + "bad-image-request"
    title = "Not a IIIF Image API request this image can answer"


class PayloadTooLarge(Problem):
    type = PROBLEM_BASE + "payload-too-large"
    title = "Payload too large"
    status = 413


class UnsupportedMediaType(Problem):
    type = PROBLEM_BASE + "unsupported-media-type"
    title = "Unsupported media type"
    status = 415


class ServiceUnavailable(Problem):
    type = PROBLEM_BASE + "service-unavailable"
    title = "A service Wenyuan depends on is unavailable"
    status = 503


def request_lang(request: Request) -> Lang:
    """The language the request prefers, of those the API speaks (`Accept-Language`; English by default)."""
    return negotiate(request.headers.get("accept-language"))


def problem_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None,
                     lang: Lang = "en") -> JSONResponse:
    said = {"Content-Language": lang, "Vary": "Accept-Language"} | (headers or {})
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=said)


def _names(request: Request) -> Resolver:
    """Says the ids of institutions, departments and regions in a problem (`Named`) by their names, read from the
    access store when a problem first holds one (cached: services/access/names.py); ids where it cannot be read."""
    from services.access.names import names, resolver

    found: list[Resolver] = []

    def resolve(named: Named, lang: Lang) -> str | None:
        if not found:
            db = getattr(request.app.state, "db", None)
            try:
                found.append(resolver(names(db)) if db is not None else (lambda _n, _l: None))
            except SQLAlchemyError:  # the store being down must not turn a refusal into a 500: ids then
                found.append(lambda _n, _l: None)
        return found[0](named, lang)
    return resolve


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    lang = request_lang(request)
    return problem_response(exc.status, exc.body(request.url.path, lang, _names(request)), lang=lang)


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    lang = request_lang(request)
    phrase = HTTPStatus(exc.status_code).phrase
    said = text(f"http.{exc.status_code}", lang) if f"http.{exc.status_code}" in TEXTS else phrase
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else said
    body = {"type": "about:blank", "title": said, "status": exc.status_code,
            "detail": render(detail, lang), "instance": request.url.path}
    return problem_response(exc.status_code, body, headers=getattr(exc, "headers", None), lang=lang)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    lang = request_lang(request)
    errors = [{"field": ".".join(str(p) for p in e["loc"]), "reason": validation_reason(e, lang)}
              for e in exc.errors()]
    detail = (SEPARATOR[lang]).join(text("invalid.field", lang, field=e["field"], reason=e["reason"]) for e in errors)
    body = {"type": InvalidRequest.type, "title": title(InvalidRequest.type, InvalidRequest.title, lang),
            "status": 422, "detail": detail, "instance": request.url.path, "errors": errors}
    return problem_response(422, body, lang=lang)


async def _on_access_error(request: Request, exc: Exception) -> JSONResponse:
    """The access store's refusals (services/access/errors.py), as problems."""
    from services.access import errors as access

    assert isinstance(exc, access.AccessError)
    kinds: dict[type[Exception], type[Problem]] = {
        access.UnknownEntity: EntityNotFound, access.AlreadyExists: Conflict, access.NotAllowed: Forbidden,
        access.InvalidGrant: InvalidRequest, access.InvalidKey: Unauthorized, access.RateLimited: TooManyRequests,
        access.TierRefused: TierNotAllowed}
    kind = kinds.get(type(exc), Problem)
    return await _on_problem(request, kind(exc.detail, **exc.extensions))


class InternalError(Problem):
    type = PROBLEM_BASE + "internal-error"
    title = "Internal error"
    status = 500


def internal_error(path: str, request_id: str | None, lang: Lang = "en") -> JSONResponse:
    """The answer to an exception nothing else handled: no detail of the exception leaks to the caller."""
    detail = Message("internal.failed-id", id=request_id) if request_id else Message("internal.failed")
    problem = InternalError(detail, request_id=request_id)
    return problem_response(500, problem.body(path, lang), headers={"X-Request-ID": request_id} if request_id else None,
                            lang=lang)


# Connection failures and timeouts of the three services the gateway depends on, whatever route met them.
UNAVAILABLE: dict[type[Exception], Message] = {
    elastic_transport.ConnectionError: Message("unavailable.elasticsearch"),
    elastic_transport.ConnectionTimeout: Message("unavailable.elasticsearch-timeout"),
    urllib3.exceptions.HTTPError: Message("unavailable.s3"),
    httpx.TransportError: Message("unavailable.airflow"),
}


def _unavailable(exc: Exception) -> ServiceUnavailable:
    service = next(v for k, v in UNAVAILABLE.items() if isinstance(exc, k))
    return ServiceUnavailable(Message("unavailable.with", service=service, error=type(exc).__name__),
                              service=service.split()[0].lower())


async def _on_unavailable(request: Request, exc: Exception) -> JSONResponse:
    return await _on_problem(request, _unavailable(exc))


async def _on_es_not_found(request: Request, exc: Exception) -> JSONResponse:
    """A missing index is a stack that is not set up (503); any other NotFoundError a route did not expect
    is a bug (500)."""
    assert isinstance(exc, EsNotFoundError)
    if exc.error != "index_not_found_exception":
        raise exc
    problem = ServiceUnavailable(Message("unavailable.no-index"), service="elasticsearch")
    return await _on_problem(request, problem)


async def _on_asset_not_found(request: Request, exc: Exception) -> JSONResponse:
    return await _on_problem(request, AssetNotFound(Message("asset.none", asset=repr(exc.args[0])) if exc.args
                                                     else Message("asset.unknown")))


async def _on_airflow_error(request: Request, exc: Exception) -> JSONResponse:
    """Airflow unreachable (services/workflows.py wraps httpx's errors) or refusing: the DAG cannot start."""
    return await _on_problem(request, ServiceUnavailable(f"Airflow failed: {exc}", service="airflow"))


def install_handlers(app: FastAPI) -> None:
    from indexing import labels
    from services import assets
    from services.access.errors import AccessError
    from services.workflows import AirflowError

    for kind in UNAVAILABLE:
        app.add_exception_handler(kind, _on_unavailable)
    app.add_exception_handler(EsNotFoundError, _on_es_not_found)
    app.add_exception_handler(assets.AssetNotFound, _on_asset_not_found)
    app.add_exception_handler(labels.AssetNotFound, _on_asset_not_found)
    app.add_exception_handler(AirflowError, _on_airflow_error)
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(AccessError, _on_access_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
