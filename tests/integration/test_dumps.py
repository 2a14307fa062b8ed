"""GET /v1/dumps/records.ndjson.gz through a live gateway on an index of its own: exactly what the caller may
see, with licence, attribution, tier and only the media links that tier allows, streamed over several pages."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from elasticsearch import Elasticsearch

from indexing.aliases import ensure_assets_index
from indexing.bulk import index_documents
from schemas.access import Role
from services.access.db import Database
from services.settings import Settings
from tests.access import make_institution, staff_key
from tests.factories import make_asset, stored_image
from tests.helpers import assert_problem

URL = "/v1/dumps/records.ndjson.gz"


@dataclass
class World:
    base: str
    ids: dict[str, str]  # name → asset id
    staff: dict[str, str]

    def dump(self, headers: dict[str, str] | None = None) -> tuple[httpx.Response, dict[str, dict[str, Any]]]:
        with httpx.stream("GET", self.base + URL, headers=headers or {}, timeout=60) as resp:
            body = resp.read()
        assert resp.status_code == 200, body[:500]
        lines = [json.loads(line) for line in gzip.decompress(body).decode().splitlines()]
        by_name = {asset_id: name for name, asset_id in self.ids.items()}
        out = {by_name[line["asset_id"]]: line for line in lines}
        assert len(out) == len(lines), "a record came twice"
        return resp, out


@pytest.fixture(scope="module")
def world(settings: Settings, es: Elasticsearch) -> Iterator[World]:
    from tests.integration.live import live_gateway

    suffix = uuid.uuid4().hex[:8]
    db = Database(settings.db)
    holder = make_institution(db, "CN-BJ", institution=f"dump-a-{suffix}")
    other = make_institution(db, "GB-LND", institution=f"dump-b-{suffix}")
    specs: dict[str, tuple[str, str, dict[str, Any]]] = {  # name → (institution, licence, fields)
        "open": (holder, "CC0", {}),
        "in copyright": (holder, "InC", {}),
        "no copyright, conditions": (holder, "NoC-NC", {}),
        "restricted": (holder, "restricted:institution", {}),
        "withdrawn": (holder, "CC0", {"deleted_at": "2025-01-08T08:00:00Z"}),
        "elsewhere": (other, "CC-BY-4.0", {}),
        "elsewhere restricted": (other, "restricted:institution", {}),
    }
    docs = {name: make_asset(object_id=f"D-{n}", institution=inst, licence=licence, title_en=f"Object {name}",
                             region="CN-BJ" if inst == holder else "GB-LND",
                             images=[stored_image(2 * n), stored_image(2 * n + 1)], has_image=True, **fields)
            for n, (name, (inst, licence, fields)) in enumerate(specs.items())}
    scoped = settings.model_copy(update={
        "es": settings.es.model_copy(update={"index_prefix": f"test-dumps-{suffix}"}),
        "dumps": settings.dumps.model_copy(update={"page_size": 2})})  # several pages for a few records
    alias = ensure_assets_index(es, scoped, {"text": None, "image": None})
    index_documents(es, alias, [(str(d["asset_id"]), d) for d in docs.values()])
    es.indices.refresh(index=alias)
    curator = staff_key(db, holder, Role.CURATOR)
    try:
        with live_gateway(scoped) as base:
            yield World(base, {k: str(d["asset_id"]) for k, d in docs.items()}, {"X-API-Key": curator.key})
    finally:
        es.indices.delete(index=f"{alias}-v*", allow_no_indices=True)
        db.close()


def _tiers(line: dict[str, Any]) -> list[tuple[int, str]]:
    return [(m["image"], m["tier"]) for m in line["media"]]


def test_an_anonymous_dump_holds_exactly_the_public_records_with_their_licence(world: World) -> None:
    resp, lines = world.dump()

    assert set(lines) == {"open", "in copyright", "no copyright, conditions", "elsewhere"}
    assert resp.headers["content-type"] == "application/gzip"
    assert resp.headers["content-disposition"] == 'attachment; filename="records.ndjson.gz"'
    assert "content-length" not in resp.headers
    assert lines["open"]["licence"]["uri"] == "https://creativecommons.org/publicdomain/zero/1.0/"
    assert lines["elsewhere"]["licence"]["code"] == "CC-BY-4.0"
    assert lines["open"]["attribution"].endswith("(https://creativecommons.org/publicdomain/zero/1.0/)")
    assert lines["open"]["record"]["object_id"] == "D-0" and "ai" not in lines["open"]["record"]
    assert "vector" not in lines["open"]["record"]["images"][0]


def test_each_line_links_only_the_media_its_tier_allows(world: World) -> None:
    _, lines = world.dump()

    assert lines["open"]["access"]["tier"] == "original"
    assert _tiers(lines["open"]) == [(0, "thumbnail"), (0, "preview"), (0, "original"),
                                     (1, "thumbnail"), (1, "preview"), (1, "original")]
    assert lines["in copyright"]["access"]["tier"] == "thumbnail"
    assert _tiers(lines["in copyright"]) == [(0, "thumbnail"), (1, "thumbnail")]
    assert _tiers(lines["no copyright, conditions"]) == [(0, "thumbnail"), (0, "preview"), (1, "thumbnail"),
                                                         (1, "preview")]
    href = lines["in copyright"]["media"][0]["href"]
    assert href == f"{world.base}/v1/assets/{world.ids['in copyright']}/media/0/thumbnail"


def test_staff_of_the_holder_also_receive_its_restricted_records_in_full(world: World) -> None:
    _, lines = world.dump(world.staff)

    assert set(lines) == {"open", "in copyright", "no copyright, conditions", "restricted", "elsewhere"}
    assert lines["restricted"]["access"]["tier"] == "original"
    assert lines["in copyright"]["access"]["tier"] == "original"  # the holder receives its originals
    assert len(lines["restricted"]["media"]) == 6


def test_a_bad_key_gets_a_problem_not_a_dump(world: World) -> None:
    resp = httpx.get(world.base + URL, headers={"X-API-Key": "wy_not-a-key"}, timeout=30)

    assert_problem(resp, 401, "https://wenyuan.dev/problems/invalid-key")
