"""GET /v1/batches: the caller's institution's batches, newest first, a page at a time; nobody else's."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from schemas.access import Role
from services.access.db import Database
from services.settings import Settings
from tests.access import Member, make_institution, staff_key
from tests.helpers import assert_problem
from tests.integration.live import live_gateway

PROBLEMS = "https://wenyuan.dev/problems/"


@pytest.fixture(scope="module")
def gateway(settings: Settings) -> Iterator[str]:
    with live_gateway(settings) as base:
        yield base


def auth(member: Member) -> dict[str, str]:
    return {"Authorization": f"Bearer {member.key}"}


def create(base: str, member: Member, name: str) -> str:
    resp = httpx.post(f"{base}/v1/batches", headers=auth(member),
                      json={"manifest": {"name": name, "size": 10}, "files": []})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["batch"]["batch_id"])


def test_staff_list_their_institutions_batches_newest_first_with_state_and_counts(
        gateway: str, curator: Member, db: Database) -> None:
    made = [create(gateway, curator, f"m{i}.csv") for i in range(3)]
    viewer = staff_key(db, curator.institution, Role.VIEWER)

    body = httpx.get(f"{gateway}/v1/batches", headers=auth(viewer)).json()

    assert [b["batch_id"] for b in body["batches"]] == made[::-1]
    assert body["next"] is None
    assert {b["state"] for b in body["batches"]} == {"created"}
    assert body["batches"][0]["counts"] == {"received": 0, "valid": 0, "rejected": 0, "stored": 0, "indexed": 0}
    assert body["batches"][0]["manifest_name"] == "m2.csv"


def test_pages_follow_the_cursor_back_to_the_oldest(gateway: str, curator: Member) -> None:
    made = [create(gateway, curator, f"p{i}.csv") for i in range(5)]

    seen, before, pages = [], None, 0
    while True:
        params = {"limit": 2} | ({"before": before} if before else {})
        page = httpx.get(f"{gateway}/v1/batches", headers=auth(curator), params=params).json()
        seen += [b["batch_id"] for b in page["batches"]]
        pages += 1
        if not (before := page["next"]):
            break

    assert seen == made[::-1]
    assert pages == 3


def test_another_institutions_staff_do_not_see_the_batches(gateway: str, curator: Member, db: Database) -> None:
    create(gateway, curator, "mine.csv")
    other = staff_key(db, make_institution(db, "CN-BJ"), Role.CURATOR)

    body = httpx.get(f"{gateway}/v1/batches", headers=auth(other)).json()

    assert body == {"batches": [], "next": None}


def test_callers_who_are_no_institutions_staff_and_bad_cursors_are_refused(gateway: str, curator: Member) -> None:
    anonymous = httpx.get(f"{gateway}/v1/batches")
    bad = httpx.get(f"{gateway}/v1/batches", headers=auth(curator), params={"before": "yesterday"})

    assert "institution's staff" in assert_problem(anonymous, 403, PROBLEMS + "forbidden")["detail"]
    assert assert_problem(bad, 400, PROBLEMS + "bad-request")["field"] == "before"
