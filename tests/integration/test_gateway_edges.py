"""Errors at the gateway's edges against the real Elasticsearch: a missing index is not a cursor problem."""

from __future__ import annotations

from fastapi.testclient import TestClient

from services.gateway.app import create_app
from services.gateway.errors import ServiceUnavailable
from services.settings import Settings
from tests.helpers import assert_problem


def test_a_search_without_the_assets_index_is_a_503_not_an_expired_cursor(settings: Settings, unique: str) -> None:
    missing = settings.model_copy(update={"es": settings.es.model_copy(update={"index_prefix": unique})})

    with TestClient(create_app(missing)) as client:
        keyword = client.get("/v1/search", params={"institution": "x"})
        hybrid = client.get("/v1/search", params={"q": "bronze vessel"})

    for resp in (keyword, hybrid):
        body = assert_problem(resp, 503, ServiceUnavailable.type)
        assert "expired" not in body["detail"]
