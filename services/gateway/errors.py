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
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

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

    def body(self, instance: str | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status,
                               "detail": self.detail}
        if instance:
            doc["instance"] = instance
        return doc | self.extensions


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


def problem_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(exc.status, exc.body(request.url.path))


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    phrase = HTTPStatus(exc.status_code).phrase
    body = {"type": "about:blank", "title": phrase, "status": exc.status_code,
            "detail": exc.detail if isinstance(exc.detail, str) else phrase, "instance": request.url.path}
    return problem_response(exc.status_code, body, headers=getattr(exc, "headers", None))


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": ".".join(str(p) for p in e["loc"]), "reason": e["msg"]} for e in exc.errors()]
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
    body = {"type": InvalidRequest.type, "title": InvalidRequest.title, "status": 422,
            "detail": detail, "instance": request.url.path, "errors": errors}
    return problem_response(422, body)


async def _on_access_error(request: Request, exc: Exception) -> JSONResponse:
    """The access store's refusals (services/access/errors.py), as problems."""
    from services.access import errors as access

    assert isinstance(exc, access.AccessError)
    kinds: dict[type[Exception], type[Problem]] = {
        access.UnknownEntity: EntityNotFound, access.AlreadyExists: Conflict, access.NotAllowed: Forbidden,
        access.InvalidKey: Unauthorized, access.RateLimited: TooManyRequests, access.TierRefused: TierNotAllowed}
    kind = kinds.get(type(exc), Problem)
    return problem_response(kind.status, kind(exc.detail, **exc.extensions).body(request.url.path))


def install_handlers(app: FastAPI) -> None:
    from services.access.errors import AccessError

    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(AccessError, _on_access_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
