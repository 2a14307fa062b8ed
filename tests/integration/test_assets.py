"""An asset through the gateway: its record and attribution, neighbours, near-duplicates, search by image."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from elasticsearch import Elasticsearch
from PIL import Image

from indexing.aliases import assets_alias, ensure_assets_index
from indexing.bulk import index_documents
from indexing.enrich import Enricher
from schemas.asset import AssetRecord
from services.settings import Settings
from tests.factories import image_record, make_asset, make_image
from tests.helpers import assert_problem

PROBLEMS = "https://wenyuan.dev/problems/"


@pytest.fixture(scope="module")
def held(tmp_path_factory: pytest.TempPathFactory, es: Elasticsearch, settings: Settings,
         enricher: Enricher) -> Iterator[dict[str, Any]]:
    """One vase photographed by two museums (a resized copy), and an unrelated picture, in the service index."""
    folder = tmp_path_factory.mktemp("held")
    original = make_image(folder / "vase.jpg", seed=71, size=(800, 600))
    Image.open(original).resize((400, 300)).save(copy := folder / "vase-copy.jpg", quality=80)
    other = make_image(folder / "other.jpg", seed=72)
    assert enricher.image is not None
    vectors = enricher.image.encode([Image.open(p) for p in (original, copy, other)])
    suffix = uuid.uuid4().hex[:8]
    specs = [(f"held-a-{suffix}", "V-1", "青花瓷瓶", original, vectors[0]),
             (f"held-b-{suffix}", "X-9", "Blue and white vase", copy, vectors[1]),
             (f"held-c-{suffix}", "Z-3", "Landscape", other, vectors[2])]
    assets = []
    for institution, object_id, title, path, vector in specs:
        doc = make_asset(object_id=object_id, title_zh=title, institution=institution, creator="佚名",
                         images=[image_record(path, [float(x) for x in vector])], has_image=True)
        asset = Enricher(settings, None, None, text=enricher.text, image=enricher.image,
                         use_ocr=False).enrich([AssetRecord.model_validate(doc)])[0]
        assets.append(asset)
    alias = ensure_assets_index(es, settings, enricher.encoders)
    index_documents(es, alias, [(a.asset_id, a.model_dump(mode="json")) for a in assets])
    es.indices.refresh(index=assets_alias(settings.es))
    yield {"assets": assets, "files": [original, copy, other]}
    for asset in assets:
        es.delete(index=assets_alias(settings.es), id=asset.asset_id, refresh=True)


def test_an_asset_shows_its_record_ai_labels_licence_attribution_and_who_else_holds_it(
    held: dict[str, Any], settings: Settings
) -> None:
    a, b, _ = held["assets"]

    resp = httpx.get(f"{settings.gateway.public_url}/v1/assets/{a.asset_id}", timeout=30)

    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["record"]["object_id"] == "V-1" and "text_vector" not in body["record"]
    assert "vector" not in body["record"]["images"][0]
    assert body["ai"]["labels"] and all("confidence" in label for label in body["ai"]["labels"])
    assert body["ai"]["models"]["text"].startswith("use-multilingual-v3@")
    assert body["licence"]["uri"] == "https://creativecommons.org/publicdomain/zero/1.0/"
    assert body["attribution"] == (f"青花瓷瓶 (Blue and white vase). 佚名. 清乾隆. {a.institution}, V-1. CC0 1.0 "
                                   "Universal Public Domain Dedication "
                                   "(https://creativecommons.org/publicdomain/zero/1.0/)")
    held_by = {d["asset_id"]: d for d in body["also_held_by"]}
    assert b.asset_id in held_by and held_by[b.asset_id]["phash_distance"] <= 10
    assert held_by[b.asset_id]["institution"] == b.institution
    assert all(d["institution"] != a.institution for d in held_by.values())
    assert held["assets"][2].asset_id not in held_by  # another picture is not a duplicate


def test_similar_lists_text_and_image_neighbours_without_the_asset_itself(
    held: dict[str, Any], settings: Settings
) -> None:
    a, b, _ = held["assets"]

    body = httpx.get(f"{settings.gateway.public_url}/v1/assets/{a.asset_id}/similar", timeout=30).json()

    assert body["image"][0]["asset_id"] == b.asset_id
    assert a.asset_id not in {n["asset_id"] for n in body["image"] + body["text"]}
    assert body["text"]


def test_search_by_an_uploaded_picture_or_by_an_assets_image_finds_the_same_object(
    held: dict[str, Any], settings: Settings
) -> None:
    a, b, _ = held["assets"]
    url = f"{settings.gateway.public_url}/v1/search/image"
    photo = io.BytesIO()
    Image.open(held["files"][0]).resize((300, 225)).save(photo, "WEBP")

    by_upload = httpx.post(url, files={"file": ("vase.webp", photo.getvalue(), "image/webp")},
                           params={"institution": [a.institution, b.institution]}, timeout=30)
    by_asset = httpx.post(url, data={"asset_id": b.asset_id}, timeout=30)

    assert by_upload.status_code == 200, by_upload.text
    assert {h["asset_id"] for h in by_upload.json()["hits"][:2]} == {a.asset_id, b.asset_id}
    assert by_asset.json()["hits"][0]["asset_id"] == a.asset_id


def test_image_search_refuses_non_images_oversized_uploads_and_unknown_assets(settings: Settings) -> None:
    url = f"{settings.gateway.public_url}/v1/search/image"

    text = httpx.post(url, files={"file": ("notes.txt", b"not a picture", "text/plain")})
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    big = httpx.post(url, files={"file": ("big.jpg", b"\xff" * (settings.search.max_image_upload_bytes + 1))},
                     timeout=60)

    assert "JPEG, PNG or WebP" in assert_problem(text, 415, PROBLEMS + "unsupported-media-type")["detail"]
    assert_problem(httpx.post(url, files={"file": ("a.gif", gif.getvalue(), "image/gif")}), 415,
                   PROBLEMS + "unsupported-media-type")
    assert_problem(big, 413, PROBLEMS + "payload-too-large")
    assert_problem(httpx.post(url, data={"asset_id": "nope"}), 404, PROBLEMS + "asset-not-found")
    assert_problem(httpx.post(url), 422, PROBLEMS + "invalid-request")


def test_an_unknown_asset_is_a_404_problem(settings: Settings) -> None:
    assert_problem(httpx.get(f"{settings.gateway.public_url}/v1/assets/0000"), 404, PROBLEMS + "asset-not-found")
    assert_problem(httpx.get(f"{settings.gateway.public_url}/v1/assets/0000/similar"), 404,
                   PROBLEMS + "asset-not-found")
