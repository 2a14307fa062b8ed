"""The gateway refuses hostile requests cleanly (issue 19): tampered cursors and tokens are 400 problem+json
(OAI-PMH its own badResumptionToken), never a 500, against the real Elasticsearch, S3 and access database."""

from __future__ import annotations

import base64
import json
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from indexing.aliases import assets_alias, ensure_assets_index
from indexing.bulk import index_documents
from indexing.enrich import Enricher
from schemas.access import Role
from services.access.db import Database
from services.access.models import App, Grant
from services.gateway.app import create_app
from services.gateway.errors import BadRequest, InvalidRequest
from services.settings import Settings
from tests.access import Member, app_key, make_institution, staff_key
from tests.factories import make_asset
from tests.helpers import assert_problem

OAI = "{http://www.openarchives.org/OAI/2.0/}"


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def b64(data: object | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def admin(db: Database) -> Member:
    """An admin (audit log, batches) of a test institution."""
    return staff_key(db, make_institution(db, "CN-BJ"), Role.ADMIN)


HUGE_CHARS = 1_200_000  # over Elasticsearch's index.highlight.max_analyzed_offset (1,000,000 by default)


@pytest.fixture(scope="module")
def held(db: Database, es: Elasticsearch, settings: Settings, enricher: Enricher) -> Iterator[dict[str, str]]:
    """Open records of a test institution in the service index (removed with it when the module ends): three
    bronzes, and one whose English description is 1.2 M characters of words a search matches."""
    institution = make_institution(db, "CN-BJ")
    docs = [make_asset(object_id=f"B{n}", title_en=f"Bronze ritual vessel {n}", title_zh=f"青铜礼器{n}",
                       institution=institution) for n in range(3)]
    huge = make_asset(object_id="HUGE", title_en="A very long record", title_zh="很长的记录", institution=institution)
    huge["description_en"] = ("an oversized bronze description " * (HUGE_CHARS // 32 + 1))[:HUGE_CHARS]
    alias = ensure_assets_index(es, settings, enricher.encoders)
    index_documents(es, alias, [(str(d["asset_id"]), d) for d in [*docs, huge]])
    es.indices.refresh(index=assets_alias(settings.es))
    yield {"institution": institution, "huge": str(huge["asset_id"])}
    for doc in [*docs, huge]:
        es.delete(index=assets_alias(settings.es), id=str(doc["asset_id"]), refresh=True)


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_one_oversized_record_does_not_break_the_searches_that_match_it(client: TestClient, held: dict[str, str],
                                                                       mode: str) -> None:
    resp = client.get("/v1/search", params={"q": "bronze description", "mode": mode,
                                            "institution": held["institution"]})

    assert resp.status_code == 200, resp.text
    hits = {h["asset_id"]: h for h in resp.json()["hits"]}
    assert held["huge"] in hits
    assert "<em>" in " ".join(hits[held["huge"]]["highlight"].get("description_en", []))  # highlighted up to the bound


def _search_cursors(client: TestClient, institution: str) -> dict[str, str]:
    """Cursors as an attacker would make them: the shape of a real one, altered, or none at all."""
    real = client.get("/v1/search", params={"q": "bronze", "mode": "keyword", "size": 1,
                                            "institution": institution}).json()["next"]
    assert real
    payload, _, mac = real.partition(".")
    state = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    deep = b'{"v":1,"pit":null,"fp":"x","o":0,"t":false,"n":0,"a":' + b"[" * 1200 + b"]" * 1200 + b"}"
    return {
        "not base64": "!!!***",
        "base64 of no JSON": b64(b"\xff\xfe garbage"),
        "a JSON list": b64([1, 2, 3]),
        "pit=garbage with the real mac": b64(state | {"pit": "garbage"}) + "." + mac,
        "pit=garbage, unsigned": b64(state | {"pit": "garbage"}),
        "after of objects": b64(state | {"a": [{"x": 1}, "y"]}) + "." + mac,
        "after of a wrong type": b64(state | {"a": ["zz", "a"]}) + "." + mac,
        "deeply nested after": b64(deep) + "." + mac,
        "offset a string": b64(state | {"o": "x"}) + "." + mac,
        "offset negative": b64(state | {"o": -5}) + "." + mac,
        "the real one, truncated": real[:-3],
        "the real one, another mac": payload + "." + b64(b"0" * 16),
    }


def test_tampered_search_cursors_are_400_problems(client: TestClient, held: dict[str, str]) -> None:
    cursors = _search_cursors(client, held["institution"])
    params = {"q": "bronze", "mode": "keyword", "size": 1, "institution": held["institution"]}

    answers = {name: client.get("/v1/search", params=params | {"cursor": c}) for name, c in cursors.items()}

    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(cursors, 400)
    for resp in answers.values():
        assert assert_problem(resp, 400, BadRequest.type)["field"] == "cursor"


def test_the_cursor_a_page_gave_still_walks(client: TestClient, held: dict[str, str]) -> None:
    params = {"q": "bronze", "mode": "keyword", "size": 1, "institution": held["institution"]}
    first = client.get("/v1/search", params=params).json()

    second = client.get("/v1/search", params=params | {"cursor": first["next"]})

    assert second.status_code == 200, second.text
    assert second.json()["hits"][0]["asset_id"] != first["hits"][0]["asset_id"]


@pytest.mark.parametrize("before", ["99999999999999999999.x", "253402300800000000.x",
                                    "-1.x", "1.a/b", "x" * 100, "１２.x"])
def test_tampered_batch_cursors_are_400_problems(client: TestClient, admin: Member, before: str) -> None:
    resp = client.get("/v1/batches", params={"before": before}, headers=auth(admin.key))

    assert assert_problem(resp, 400, BadRequest.type)["field"] == "before"


@pytest.mark.parametrize("cursor", ["!!!", b64(b"99999999999999999999"), b64(b"-5"), b64(b"0"), b64(b"\xff\xfe"),
                                    b64(b"1e3"), b64(b" 12"), b64("１２".encode()), b64(b"2147483648")])
def test_forged_audit_cursors_are_400_problems(client: TestClient, admin: Member, cursor: str) -> None:
    resp = client.get("/v1/audit", params={"cursor": cursor}, headers=auth(admin.key))

    assert assert_problem(resp, 400, BadRequest.type)["field"] == "cursor"


def test_an_audit_cursor_the_log_gave_still_pages(client: TestClient, admin: Member) -> None:
    first = client.get("/v1/audit", params={"limit": 1}, headers=auth(admin.key))  # making the admin is an event
    assert first.status_code == 200, first.text

    nxt = first.json()["next"]
    resp = client.get("/v1/audit", params={"limit": 1, "cursor": nxt}, headers=auth(admin.key)) if nxt else first

    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize("token", ["garbage", "a.b", b64({"v": 1}) + ".x", "." * 50, b64(b"[" * 3000) + ".x",
                                   "x" * 5000])
def test_forged_resumption_tokens_are_bad_resumption_token(client: TestClient, token: str) -> None:
    resp = client.get("/oai", params={"verb": "ListIdentifiers", "resumptionToken": token})

    assert resp.status_code == 200, resp.text
    error = ET.fromstring(resp.content).find(f"{OAI}error")
    assert error is not None and error.get("code") == "badResumptionToken"


# -- a malformed grant must not break another tenant --------------------------------------------------------------

BAD_FILTERS = [{"category": 5}, {"year_from": "x"}, {"colour": ["red"]}, {"category": "bronze"},
               {"year_from": {"gte": 1}}, {"media_type": ["hologram"]}]


@pytest.fixture(scope="module")
def grantor(db: Database, held: dict[str, str]) -> Member:
    """An admin of the institution whose records `held` put in the index."""
    return staff_key(db, held["institution"], Role.ADMIN)


@pytest.mark.parametrize("filters", BAD_FILTERS)
def test_a_grant_with_filters_search_would_refuse_is_422_naming_the_field(
        client: TestClient, db: Database, grantor: Member, filters: dict[str, object]) -> None:
    grantee = make_institution(db, "CN-SH")
    body = {"grantee_kind": "institution", "grantee": grantee, "tier": "preview", "scope": "query",
            "query": {"q": "bronze", "filters": filters}, "purpose": "research"}

    resp = client.post("/v1/grants", json=body, headers=auth(grantor.key))

    problem = assert_problem(resp, 422, InvalidRequest.type)
    assert problem["errors"] and all(e["field"].startswith("body.query.filters.") for e in problem["errors"])
    assert next(iter(filters)) in problem["errors"][0]["field"]


def test_a_grant_with_good_filters_is_made(client: TestClient, db: Database, grantor: Member) -> None:
    body = {"grantee_kind": "institution", "grantee": make_institution(db, "CN-SH"), "tier": "preview",
            "scope": "query", "query": {"filters": {"category": ["bronze"], "year_from": -1000}}, "purpose": "research"}

    resp = client.post("/v1/grants", json=body, headers=auth(grantor.key))

    assert resp.status_code == 201, resp.text


def _store_bad_grant(db: Database, grantor: Member, grantee: str, scope: str, value: dict[str, object]) -> str:
    """A grant as one stored before grants were validated: written to the store directly."""
    row = Grant(id=uuid.uuid4().hex, grantor_id=grantor.institution, grantee_kind="institution", grantee_id=grantee,
                tier="preview", scope=scope, scope_value=value, purpose="research", created_by=grantor.staff_id)
    with db.session() as s:
        s.add(row)
    return row.id


@pytest.mark.parametrize(("scope", "value"), [("query", {"filters": {"category": 5}}),
                                              ("query", {"filters": {"year_from": "x"}}),
                                              ("query", {"q": ["x"]}), ("batch", {}), ("category", {"category": 7})])
def test_a_bad_stored_grant_is_skipped_and_the_grantee_still_answered(
        client: TestClient, db: Database, held: dict[str, str], grantor: Member, scope: str,
        value: dict[str, object], caplog: pytest.LogCaptureFixture) -> None:
    grantee = make_institution(db, "CN-SH")
    grant_id = _store_bad_grant(db, grantor, grantee, scope, value)
    reader = staff_key(db, grantee, Role.ADMIN)  # a key first seen now: its principal is read with the grant
    asset = held["huge"]

    answers = {"search": client.get("/v1/search", params={"q": "bronze", "institution": held["institution"]},
                                    headers=auth(reader.key)),
               "asset": client.get(f"/v1/assets/{asset}", headers=auth(reader.key)),
               "iiif": client.get(f"/iiif/3/{asset}/manifest", headers=auth(reader.key)),
               "oai": client.get("/oai", params={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"},
                                 headers=auth(reader.key)),
               "me": client.get("/v1/me", headers=auth(reader.key)),
               "grants": client.get("/v1/grants", headers=auth(reader.key))}
    revoked = client.delete(f"/v1/grants/{grant_id}", headers=auth(grantor.key))

    assert {k: r.status_code for k, r in answers.items()} == dict.fromkeys(answers, 200)
    assert grant_id not in {g["id"] for g in answers["me"].json()["grants"]}  # not in force
    assert grant_id in {g["id"] for g in answers["grants"].json()}  # but listed, so it can be seen and revoked
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert any(grant_id in r.getMessage() for r in caplog.records if r.levelname == "WARNING")


# -- what each caller sees ------------------------------------------------------------------------------------------

def test_partner_contacts_are_shown_to_operators_only(client: TestClient, db: Database, grantor: Member) -> None:
    _, app_id = app_key(db)
    with db.session() as s:
        s.get(App, app_id).contact = "partner@example.org"  # type: ignore[union-attr]

    anonymous = client.get("/v1/admin/apps").json()
    admin = client.get("/v1/admin/apps", headers=auth(grantor.key)).json()

    for seen in (anonymous, admin):
        assert app_id in {a["id"] for a in seen}
        assert all(a["contact"] is None for a in seen)
