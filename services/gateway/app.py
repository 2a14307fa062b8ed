"""The gateway's FastAPI application: clients made once in the lifespan, one router per concern.

Run with `uvicorn services.gateway.app:create_app --factory` (deploy/local does).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware

from indexing.client import make_client as make_es_client
from services import __version__
from services.access.db import Database
from services.access.ratelimit import RateLimiter
from services.access.resolve import PrincipalCache
from services.gateway.errors import install_handlers
from services.gateway.metrics import instrument as instrument_metrics
from services.gateway.middleware import AccessMiddleware, RequestContext
from services.gateway.openapi import AllowHeader
from services.gateway.openapi import install as install_openapi
from services.gateway.routers import (
    access,
    admin,
    assets,
    batches,
    dumps,
    health,
    iiif_image,
    iiif_presentation,
    oai,
    search,
    web,
)
from services.gateway.security import Hardening
from services.logs import configure as configure_logs
from services.redis_store import close_clients as close_redis_clients
from services.redis_store import redis_client
from services.settings import Settings, get_settings
from services.storage import make_client as make_s3_client
from services.storage import presigning_client
from services.workflows import AirflowClient

log = logging.getLogger(__name__)

# gzip for JSON, XML, HTML, CSS, JS and other text of at least GZIP_MIN_BYTES when the client accepts it;
# never for bodies compressed already (images, the .ndjson.gz dumps: application/gzip) or already encoded.
GZIP_MIN_BYTES = 500
GZIP_LEVEL = 5  # most of level 9's saving on JSON at a fraction of its CPU
GZIP_EXCLUDED = (*DEFAULT_EXCLUDED_CONTENT_TYPES, "image/jp2", "image/tiff", "application/octet-stream")


def warm_models(settings: Settings) -> None:
    """Load the query encoders and the text analysis once (in the background when the gateway starts; tests
    serving an app call it first)."""
    from indexing.bridge import default_bridge
    from indexing.encoders.registry import load_encoders, text_encoder
    from indexing.terms import default_analyzer

    try:
        load_encoders(settings.models)
        text_encoder(settings.models).encode(["warm-up"])  # the runtime's first inference costs seconds too
        default_analyzer().load()
        default_bridge().load()
    except Exception:  # search answers with the error then; the gateway itself stays up
        log.exception("could not load the search encoders")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logs(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.es = make_es_client(settings.es)
        app.state.s3 = make_s3_client(settings.s3)
        app.state.s3_probe = make_s3_client(settings.s3, timeout_s=settings.gateway.readiness_timeout_s)
        app.state.airflow = AirflowClient(settings.airflow)
        app.state.presigner = presigning_client(settings.s3)
        app.state.db = Database(settings.db)
        app.state.principals = PrincipalCache(app.state.db, settings)
        app.state.limiter = RateLimiter(redis_client(settings), namespace=settings.es.index_prefix)  # local: no Redis
        warm = asyncio.create_task(asyncio.to_thread(warm_models, settings))  # the first search need not wait for them
        try:
            yield
        finally:
            warm.cancel()
            app.state.es.close()
            app.state.airflow.close()
            app.state.db.close()
            await close_redis_clients()

    app = FastAPI(
        title="Wenyuan 文渊",
        version=__version__,
        summary="Cultural-resources sharing: bulk ingestion, cross-lingual search, licensed access.",
        lifespan=lifespan,
        docs_url=None,  # /docs is the web router's: Swagger UI from this origin (static/build), not a CDN
        redoc_url=None,  # ReDoc would load from a CDN; /docs documents the same OpenAPI
    )
    install_handlers(app)
    install_openapi(app)  # every problem answer documented (services/gateway/openapi.py)
    app.add_middleware(AllowHeader)
    app.add_middleware(AccessMiddleware)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES, compresslevel=GZIP_LEVEL,
                       exclude_content_types=GZIP_EXCLUDED)
    app.add_middleware(Hardening, settings=settings)  # headers, CORS, size limits: services/gateway/security.py
    instrument_metrics(app, settings)  # counts and times every answer the middlewares below give too; /metrics
    app.add_middleware(RequestContext)  # added last: outermost, so its id is on every line and every answer
    app.include_router(health.router)
    app.include_router(batches.router)
    app.include_router(assets.router)
    app.include_router(search.router)
    app.include_router(access.router)
    app.include_router(admin.router)
    app.include_router(iiif_presentation.router)
    app.include_router(iiif_image.router)
    app.include_router(oai.router)
    app.include_router(dumps.router)
    app.include_router(web.router)
    return app
