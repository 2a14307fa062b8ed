"""IIIF Presentation 3.0 through the gateway: manifests and collections as far as the caller may see, schema-valid."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from indexing.aliases import ensure_assets_index
from indexing.bulk import index_documents
from schemas.access import GranteeKind, GrantScope, Role, Tier
from services.access.db import Database
from services.gateway.app import create_app
from services.settings import Settings
from tests.access import app_key, grant, make_institution, staff_key
from tests.factories import make_asset, stored_image
from tests.helpers import assert_problem
from tests.iiif_schema import assert_valid_presentation


def image_of(n: int) -> dict[str, object]:
    return stored_image(n, id=str(uuid.uuid4()), label="正面", width=1200, height=900)


PROBLEMS = "https://wenyuan.dev/problems/"
MEDIA_TYPE = 'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json"'


@dataclass
class World:
    client: TestClient
    settings: Settings
    batch: str
    holder: str
    ids: dict[str, str]  # name → asset id
    staff: dict[str, str]  # Authorization headers of a staff member of the holder
    app: dict[str, str]  # of a partner app with a preview grant on the batch

    def get(self, path: str, headers: dict[str, str] | None = None, **params: str) -> Any:
        return self.client.get(path, headers=headers or {}, params=params)


@pytest.fixture(scope="module")
def world(settings: Settings, es: Elasticsearch) -> Iterator[World]:
    suffix = uuid.uuid4().hex[:8]
    db = Database(settings.db)
    holder = make_institution(db, "CN-BJ", institution=f"iiif-a-{suffix}")
    other = make_institution(db, "CN-BJ", institution=f"iiif-b-{suffix}")
    batch = f"b-iiif-{suffix}"
    specs = {  # name → (institution, batch, licence, overrides)
        "open": (holder, batch, "CC0", {"images": [image_of(1)], "has_image": True}),
        "in copyright": (holder, batch, "InC", {"images": [image_of(2)], "has_image": True}),
        "no image": (holder, batch, "CC-BY-4.0", {"title_zh": None}),
        "restricted": (holder, batch, "restricted:institution", {"images": [image_of(3)], "has_image": True}),
        "withdrawn": (holder, batch, "CC0", {"deleted_at": "2026-01-01T00:00:00Z"}),
        "elsewhere": (other, f"b-other-{suffix}", "CC0", {}),
    }
    docs = {name: make_asset(object_id=f"IIIF-{n}", institution=inst, batch_id=b, licence=licence, **extra)
            for n, (name, (inst, b, licence, extra)) in enumerate(specs.items())}
    scoped = settings.model_copy(update={
        "es": settings.es.model_copy(update={"index_prefix": f"test-iiif-{suffix}"}),
        # Originals of 1200 × 900 are beyond this Image API area limit: `max` is 848 × 636 of them.
        "iiif": settings.iiif.model_copy(update={"collection_page_size": 2, "max_area": 540_000})})
    alias = ensure_assets_index(es, scoped, {"text": None, "image": None})
    index_documents(es, alias, [(str(d["asset_id"]), d) for d in docs.values()])
    es.indices.refresh(index=alias)
    admin = staff_key(db, holder, Role.ADMIN)
    key, app_id = app_key(db)
    grant(db, admin, GranteeKind.APP, app_id, Tier.PREVIEW, GrantScope.BATCH, {"batch_id": batch})
    try:
        with TestClient(create_app(scoped)) as client:
            yield World(client, scoped, batch, holder, {n: str(d["asset_id"]) for n, d in docs.items()},
                        {"Authorization": f"Bearer {staff_key(db, holder, Role.VIEWER).key}"},
                        {"Authorization": f"Bearer {key}"})
    finally:
        es.indices.delete(index=f"{alias}-v*", allow_no_indices=True)
        db.close()


def _manifest(world: World, name: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    resp = world.get(f"/iiif/3/{world.ids[name]}/manifest", headers)
    assert resp.status_code == 200, resp.text
    doc: dict[str, Any] = resp.json()
    assert_valid_presentation(doc)
    return doc


def _painted(doc: dict[str, Any]) -> list[str]:
    return [a["body"]["id"] for c in doc["items"] for page in c["items"] for a in page["items"]]


def _walk(world: World, path: str, headers: dict[str, str] | None = None) -> tuple[list[str], list[dict[str, Any]]]:
    """Every manifest id of a collection, following its parts to the end; and the parts."""
    parts: list[dict[str, Any]] = []
    url: str | None = path
    while url is not None:
        resp = world.client.get(url.removeprefix(world.settings.gateway.public_url), headers=headers or {})
        assert resp.status_code == 200, resp.text
        part = resp.json()
        assert_valid_presentation(part)
        parts.append(part)
        url = next((i["id"] for i in part["items"] if i["type"] == "Collection"), None)
    return [i["id"] for p in parts for i in p["items"] if i["type"] == "Manifest"], parts


def _manifest_ids(world: World, *names: str) -> set[str]:
    return {f"{world.settings.gateway.public_url}/iiif/3/{world.ids[n]}/manifest" for n in names}


def test_a_public_assets_manifest_is_json_ld_open_to_any_origin_and_paints_the_original(world: World) -> None:
    resp = world.get(f"/iiif/3/{world.ids['open']}/manifest")

    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == MEDIA_TYPE
    assert resp.headers["access-control-allow-origin"] == "*"
    doc = resp.json()
    assert_valid_presentation(doc)
    assert doc["id"] == f"{world.settings.gateway.public_url}/iiif/3/{world.ids['open']}/manifest"
    assert doc["label"] == {"zh": ["青花瓷瓶"], "en": ["Blue and white vase"]}
    assert doc["rights"] == "http://creativecommons.org/publicdomain/zero/1.0/"
    assert world.holder in doc["requiredStatement"]["value"]["none"][0]
    assert [u.rsplit("/", 4)[1:] for u in _painted(doc)] == [["full", "max", "0", "default.jpg"]]
    body = doc["items"][0]["items"][0]["items"][0]["body"]
    assert (body["width"], body["height"]) == (848, 636)
    assert (doc["items"][0]["width"], doc["items"][0]["height"]) == (1200, 900)


def test_a_browser_viewer_may_send_its_key_from_any_origin(world: World) -> None:
    resp = world.client.options(f"/iiif/3/{world.ids['open']}/manifest",
                                headers={"Origin": "https://viewer.example", "Access-Control-Request-Method": "GET",
                                         "Access-Control-Request-Headers": "authorization"})

    assert resp.status_code == 204
    assert resp.headers["access-control-allow-origin"] == "*"
    assert "Authorization" in resp.headers["access-control-allow-headers"]


def test_the_public_receives_only_a_thumbnail_of_an_in_copyright_asset(world: World) -> None:
    doc = _manifest(world, "in copyright")

    assert _painted(doc) == []
    assert doc["items"][0]["thumbnail"][0]["id"].endswith("/full/400,300/0/default.jpg")
    assert doc["rights"] == "http://rightsstatements.org/vocab/InC/1.0/"


def test_an_invisible_asset_is_a_404_with_the_same_body_as_a_missing_one(world: World) -> None:
    invisible = world.get(f"/iiif/3/{world.ids['restricted']}/manifest")
    withdrawn = world.get(f"/iiif/3/{world.ids['withdrawn']}/manifest")
    missing = world.get(f"/iiif/3/{uuid.uuid4().hex}/manifest")

    bodies = [assert_problem(r, 404, PROBLEMS + "asset-not-found") for r in (invisible, withdrawn, missing)]
    assert len({tuple(sorted(b)) for b in bodies}) == 1
    assert {b["title"] for b in bodies} == {"Asset not found"}


def test_staff_of_the_holder_see_its_restricted_assets_manifest_without_rights_but_with_theimage_of(
    world: World
) -> None:
    doc = _manifest(world, "restricted", world.staff)

    assert "rights" not in doc
    assert "no public licence" in next(e for e in doc["metadata"] if e["label"]["en"] == ["Licence"])["value"]["en"][0]
    assert [u.rsplit("/", 4)[2] for u in _painted(doc)] == ["max"]


def test_a_grant_paints_the_restricted_asset_at_the_granted_preview_size(world: World) -> None:
    doc = _manifest(world, "restricted", world.app)

    assert [u.rsplit("/", 4)[2] for u in _painted(doc)] == ["1200,900"]


def test_a_record_without_images_has_an_empty_canvas(world: World) -> None:
    doc = _manifest(world, "no image")

    assert doc["label"] == {"en": ["Blue and white vase"]}
    assert [c["items"] for c in doc["items"]] == [[]]


def test_the_batch_collection_lists_exactly_the_visible_assets_in_parts(world: World) -> None:
    ids, parts = _walk(world, f"/iiif/3/collections/batch/{world.batch}")

    assert sorted(ids) == sorted(_manifest_ids(world, "open", "in copyright", "no image"))
    assert [len(p["items"]) for p in parts] == [3, 1]  # two manifests and the next part, then the last one
    first = parts[0]["id"]
    assert first == f"{world.settings.gateway.public_url}/iiif/3/collections/batch/{world.batch}"
    assert "partOf" not in parts[0] and parts[1]["partOf"][0]["id"] == first
    assert parts[0]["label"] == {"zh": [f"批次 {world.batch}"], "en": [f"Batch {world.batch}"]}


@pytest.mark.parametrize("who", ["staff", "app"])
def test_staff_and_grantees_also_find_the_restricted_asset_in_the_batch(world: World, who: str) -> None:
    ids, _ = _walk(world, f"/iiif/3/collections/batch/{world.batch}", getattr(world, who))

    assert sorted(ids) == sorted(_manifest_ids(world, "open", "in copyright", "no image", "restricted"))


def test_the_institution_collection_lists_its_visible_assets_only_under_its_name(world: World) -> None:
    ids, parts = _walk(world, f"/iiif/3/collections/institution/{world.holder}")

    assert sorted(ids) == sorted(_manifest_ids(world, "open", "in copyright", "no image"))
    assert parts[0]["label"] == {"zh": [f"{world.holder}馆"], "en": [f"{world.holder} museum"]}


def test_a_collection_with_nothing_visible_is_a_404_and_a_malformed_part_a_422(world: World) -> None:
    assert_problem(world.get(f"/iiif/3/collections/batch/no-such-batch-{uuid.uuid4().hex[:6]}"), 404,
                   PROBLEMS + "not-found")
    assert_problem(world.get(f"/iiif/3/collections/institution/{world.holder}", after="not-an-asset-id"), 422,
                   PROBLEMS + "invalid-request")
