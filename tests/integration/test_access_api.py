"""Keys, limits, grants, delivery and the audit log through the running gateway, as clients meet them."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from elasticsearch import Elasticsearch
from minio import Minio

from indexing.aliases import assets_alias, ensure_assets_index
from indexing.bulk import index_documents
from indexing.enrich import Enricher
from schemas.access import GranteeKind, GrantScope, Role, Tier
from services.access.db import Database
from services.settings import Settings
from tests.access import Member, app_key, grant, make_institution, staff_key
from tests.factories import image_record, make_asset, make_image
from tests.helpers import assert_problem

PROBLEMS = "https://wenyuan.dev/problems/"


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def museum(settings: Settings) -> Member:
    db = Database(settings.db)
    try:
        return staff_key(db, make_institution(db, "CN-GD", ("ceramics",)), Role.ADMIN, "ceramics")
    finally:
        db.close()


@pytest.fixture(scope="module")
def held(tmp_path_factory: pytest.TempPathFactory, es: Elasticsearch, s3: Minio, settings: Settings,
         enricher: Enricher, museum: Member) -> Iterator[dict[str, Any]]:
    """Three assets of the museum in the service index, with their files really in S3: an open one, an
    in-copyright one and a granted-only one (batch b-granted)."""
    folder = tmp_path_factory.mktemp("access-api")
    bucket = settings.s3.bucket_assets
    out: dict[str, Any] = {}
    docs = []
    for n, (object_id, licence, access, batch) in enumerate((("OPEN", "CC0", None, "b-open"),
                                                             ("INC", "InC", None, "b-open"),
                                                             ("GRANTED", "restricted:granted", None, "b-granted"))):
        path = make_image(folder / f"{object_id}.jpg", seed=300 + n)
        record = image_record(path, None)
        prefix = f"{museum.institution}/test/{object_id}"
        for key_name, suffix in (("key", "original.jpg"), ("thumbnail_key", "thumbnail.jpg"),
                                 ("preview_key", "preview.jpg")):
            record[key_name] = f"{prefix}/{suffix}"
            s3.fput_object(bucket, record[key_name], str(path), content_type="image/jpeg")
        doc = make_asset(object_id=object_id, title_zh=f"测试{object_id}", institution=museum.institution,
                         licence=licence, batch_id=batch, images=[record], has_image=True, region="CN-GD",
                         **({"access": access} if access else {}))
        docs.append(doc)
        out[object_id] = doc
    alias = ensure_assets_index(es, settings, enricher.encoders)
    index_documents(es, alias, [(str(d["asset_id"]), d) for d in docs])
    es.indices.refresh(index=assets_alias(settings.es))
    yield out
    for doc in docs:
        es.delete(index=assets_alias(settings.es), id=str(doc["asset_id"]), refresh=True)


def test_a_bad_key_is_401_and_a_revoked_key_stops_on_the_next_request(settings: Settings, db: Database,
                                                                       museum: Member) -> None:
    base = settings.gateway.public_url
    member = staff_key(db, museum.institution, Role.VIEWER)

    before = httpx.get(f"{base}/v1/me", headers=auth(member.key))
    revoked = httpx.delete(f"{base}/v1/admin/keys/{member.key.split('.')[0]}", headers=auth(museum.key))
    after = httpx.get(f"{base}/v1/me", headers=auth(member.key))
    malformed = httpx.get(f"{base}/v1/me", headers={"X-API-Key": "not-a-key"})

    assert before.json()["institution"] == museum.institution and before.json()["role"] == "viewer"
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert_problem(after, 401, PROBLEMS + "invalid-key")
    assert after.headers["www-authenticate"].startswith("Bearer")
    assert "malformed" in assert_problem(malformed, 401, PROBLEMS + "invalid-key")["detail"]


def test_every_answer_carries_its_rate_limit_and_the_limit_answers_429_with_retry_after(
    settings: Settings, db: Database, museum: Member
) -> None:
    member = staff_key(db, museum.institution, Role.VIEWER, rate=3)
    base = settings.gateway.public_url
    if (left := 60 - time.time() % 60) < 15:  # the limiter's windows are clock minutes: all four in one window
        time.sleep(left + 0.5)

    answers = [httpx.get(f"{base}/v1/me", headers=auth(member.key)) for _ in range(4)]
    tile = httpx.get(f"{base}/iiif/3/{uuid.uuid4()}/info.json", headers=auth(member.key))  # a budget of its own

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert all(a.headers["x-ratelimit-limit"] == "3" for a in answers)
    assert 1 <= int(answers[3].headers["retry-after"]) <= 60
    assert int(answers[0].headers["x-ratelimit-reset"]) <= 60
    assert_problem(answers[3], 429, PROBLEMS + "rate-limited")
    assert tile.status_code == 404
    assert tile.headers["x-ratelimit-limit"] == str(settings.access.image_rate_per_min)


def test_delivery_redirects_to_a_short_lived_url_or_refuses_with_what_would_allow_it(
    settings: Settings, held: dict[str, Any], museum: Member
) -> None:
    base = settings.gateway.public_url
    inc = held["INC"]["asset_id"]

    thumbnail = httpx.get(f"{base}/v1/assets/{inc}/media/0/thumbnail")
    refused = httpx.get(f"{base}/v1/assets/{inc}/media/0/original")
    holder = httpx.get(f"{base}/v1/assets/{inc}/media/0/original", headers=auth(museum.key))
    fetched = httpx.get(thumbnail.headers["location"])

    assert thumbnail.status_code == 302
    assert parse_qs(urlsplit(thumbnail.headers["location"]).query)["X-Amz-Expires"] == [str(settings.s3.presign_ttl_s)]
    assert fetched.status_code == 200 and fetched.content[:2] == b"\xff\xd8"
    assert thumbnail.headers["link"] == '<http://rightsstatements.org/vocab/InC/1.0/>; rel="license"'
    assert thumbnail.headers["attribution"].startswith("UTF-8''")
    body = assert_problem(refused, 403, PROBLEMS + "tier-not-allowed")
    assert (body["allowed_tier"], body["requested_tier"], body["licence"]) == ("thumbnail", "original", "InC")
    assert body["licence_uri"] == "http://rightsstatements.org/vocab/InC/1.0/"
    assert f"staff of the holding institution ({museum.institution} museum)" in body["detail"]  # by its name
    assert holder.status_code == 302


def test_a_grant_works_on_the_grantees_next_request_and_stops_when_revoked(
    settings: Settings, db: Database, held: dict[str, Any], museum: Member
) -> None:
    base = settings.gateway.public_url
    key, app_id = app_key(db)
    granted = held["GRANTED"]["asset_id"]

    hidden = httpx.get(f"{base}/v1/assets/{granted}", headers=auth(key))
    grant_id = grant(db, museum, GranteeKind.APP, app_id, Tier.PREVIEW, GrantScope.BATCH, {"batch_id": "b-granted"})
    seen = httpx.get(f"{base}/v1/assets/{granted}", headers=auth(key))
    preview = httpx.get(f"{base}/v1/assets/{granted}/media/0/preview", headers=auth(key))
    original = httpx.get(f"{base}/v1/assets/{granted}/media/0/original", headers=auth(key))
    listed = httpx.get(f"{base}/v1/grants", headers=auth(key)).json()
    httpx.delete(f"{base}/v1/grants/{grant_id}", headers=auth(museum.key)).raise_for_status()
    gone = httpx.get(f"{base}/v1/assets/{granted}", headers=auth(key))

    missing = httpx.get(f"{base}/v1/assets/{uuid.uuid4().hex}", headers=auth(key))
    assert_problem(hidden, 404, PROBLEMS + "asset-not-found")
    assert seen.status_code == 200
    assert seen.json()["access"] == {"tier": "preview", "basis": f"grant {grant_id}"}
    assert [m["tier"] for m in seen.json()["media"]] == ["thumbnail", "preview"]
    assert preview.status_code == 302
    assert assert_problem(original, 403, PROBLEMS + "tier-not-allowed")["allowed_tier"] == "preview"
    assert [g["id"] for g in listed] == [grant_id]
    assert_problem(gone, 404, PROBLEMS + "asset-not-found")
    # Not visible and not there answer alike, but for the id itself.
    assert {k: v for k, v in gone.json().items() if k not in {"detail", "instance"}} == \
        {k: v for k, v in missing.json().items() if k not in {"detail", "instance"}}


def test_the_audit_log_records_deliveries_and_changes_and_shows_each_institution_its_own(
    settings: Settings, db: Database, held: dict[str, Any], museum: Member
) -> None:
    base = settings.gateway.public_url
    inc = held["INC"]["asset_id"]
    other_admin = staff_key(db, make_institution(db, "CN-GD"), Role.ADMIN)
    httpx.get(f"{base}/v1/assets/{inc}/media/0/preview")
    httpx.get(f"{base}/v1/assets/{inc}/media/0/thumbnail")
    time.sleep(0.05)

    mine = httpx.get(f"{base}/v1/audit", params={"asset_id": inc}, headers=auth(museum.key)).json()["events"]
    theirs = httpx.get(f"{base}/v1/audit", params={"asset_id": inc}, headers=auth(other_admin.key)).json()["events"]
    viewer = staff_key(db, museum.institution, Role.VIEWER)
    refused = httpx.get(f"{base}/v1/audit", headers=auth(viewer.key))

    assert [(e["action"], e["outcome"], e["subject"], e["actor_kind"]) for e in mine[:2]] == [
        ("deliver", "allowed", "image 0 thumbnail", "anonymous"), ("deliver", "denied", "image 0 preview", "anonymous")]
    assert mine[0]["basis"] == "licence InC (audience: public)" and mine[0]["tier"] == "thumbnail"
    assert theirs == []
    assert_problem(refused, 403, PROBLEMS + "forbidden")


def test_admin_changes_through_the_api_follow_the_same_rules_as_the_store(
    settings: Settings, db: Database, museum: Member
) -> None:
    base = settings.gateway.public_url
    made = httpx.post(f"{base}/v1/admin/institutions/{museum.institution}/staff", headers=auth(museum.key),
                      json={"name": "New curator", "role": "curator", "department": "ceramics"})
    key = httpx.post(f"{base}/v1/admin/keys", headers=auth(museum.key), json={"staff": made.json()["id"]})
    elsewhere = httpx.post(f"{base}/v1/admin/institutions/{make_institution(db, 'CN-GD')}/staff",
                           headers=auth(museum.key), json={"name": "x", "role": "admin"})
    region = httpx.post(f"{base}/v1/admin/regions", headers=auth(museum.key),
                        json={"code": "FR", "name_zh": "法国", "name_en": "France"})
    anonymous = httpx.post(f"{base}/v1/admin/institutions/{museum.institution}/departments",
                           json={"id": "bronzes", "name_zh": "青铜器部", "name_en": "Bronzes"})

    assert made.status_code == 201 and key.status_code == 201
    assert httpx.get(f"{base}/v1/me", headers=auth(key.json()["key"])).json()["department"] == "ceramics"
    assert_problem(elsewhere, 403, PROBLEMS + "forbidden")
    assert_problem(region, 403, PROBLEMS + "forbidden")
    assert_problem(anonymous, 403, PROBLEMS + "forbidden")
