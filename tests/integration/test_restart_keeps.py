"""`make down && make up` keeps every record, object, key and grant (issue 19, item 8).

The whole local stack is stopped and started again (deploy/local/stack.py down, up), so every other test
that runs meanwhile fails: run this one alone. Before: a batch ingested through the real DAG by an
institution of the test's own, some of it visible only through a grant to a second institution, and a
listing-only backup of the whole stack (services/backup) as the record of every count. After: the same
documents, rows and objects (`check-backup` finds nothing lost), the keys authenticate at the restarted
gateway, the grant still opens its assets to the grantee and only to it, the batch answers as before.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest
from elasticsearch import Elasticsearch

from indexing.aliases import assets_alias
from schemas.access import GranteeKind, GrantScope, Role, Tier
from services.access.db import Database
from services.backup import check_backup, forget_backup, make_backup
from services.settings import Settings
from services.uploader import Uploader
from tests.access import grant, make_institution, staff_key
from tests.factories import HEADER, good_rows, make_image, write_manifest
from tests.helpers import ROOT
from tests.integration.uploading import ingest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _granted_batch(folder: Path, n: int, prefix: str) -> Path:
    """n public rows and n only a grant shows (access `granted`)."""
    rows = [[*row, "public"] for row in good_rows(n, prefix=prefix)]
    rows += [[*row, "granted"] for row in good_rows(n, prefix=prefix, start=n)]
    for i, row in enumerate(rows):
        make_image(folder / row[4].split("|")[0], seed=7_000 + i)
    write_manifest(folder, rows, [*HEADER, "access"])
    return folder


def _make(target: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """`make down` / `make up` as an operator types it, and its seconds. No timeout short of the suite's: a `make
    up` cut off half-way would leave the stack half started for everyone."""
    started = time.monotonic()
    done = subprocess.run(["make", target], cwd=ROOT, capture_output=True, text=True, timeout=1500, check=False)
    return done, time.monotonic() - started


def _get(settings: Settings, path: str, key: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.get(settings.gateway.public_url + path, headers=headers, timeout=30)


@pytest.mark.timeout(1800)  # a batch through the DAG, then the whole stack stopped and started (Airflow ~2 min)
def test_down_and_up_keeps_every_record_object_key_and_grant(settings: Settings, es: Elasticsearch, db: Database,
                                                             tmp_path: Path) -> None:
    u = uuid.uuid4().hex[:10]
    owner = make_institution(db, "CN-BJ", institution=f"museum-t{u}")
    curator = staff_key(db, owner, Role.CURATOR)
    admin = staff_key(db, owner, Role.ADMIN)
    grantee = staff_key(db, make_institution(db, "CN-BJ", institution=f"lake-t{u}"), Role.VIEWER)
    stranger = staff_key(db, make_institution(db, "CN-BJ", institution=f"far-t{u}"), Role.VIEWER)
    uploader = Uploader(settings.gateway.public_url, curator.key)
    try:
        batch, items = ingest(uploader, _granted_batch(tmp_path / "batch", 3, f"RS{u[:4]}"), owner)
    finally:
        uploader.close()
    grant_id = grant(db, admin, GranteeKind.INSTITUTION, grantee.institution, Tier.PREVIEW, GrantScope.BATCH,
                     {"batch_id": batch["batch_id"]})
    es.indices.refresh(index=assets_alias(settings.es))
    hidden = sorted(h["_id"] for h in es.search(index=assets_alias(settings.es), size=10, query={"bool": {"filter": [
        {"term": {"institution": owner}}, {"term": {"access": "granted"}}]}})["hits"]["hits"])
    folder, manifest = make_backup(settings, tmp_path / "before")
    seen_before = [_get(settings, f"/v1/assets/{a}", grantee.key).status_code for a in hidden]
    audit_before = {e["id"] for e in _get(settings, "/v1/audit?limit=500", admin.key).json()["events"]}

    down, down_s = _make("down")
    up, up_s = _make("up")
    print(f"make down {down_s:.0f} s, make up {up_s:.0f} s; the backup listed {manifest.counts()}")
    try:
        report = check_backup(settings, folder)
        me = _get(settings, "/v1/me", curator.key)
        batch_after = _get(settings, f"/v1/batches/{batch['batch_id']}", curator.key)
        seen = [_get(settings, f"/v1/assets/{a}", grantee.key).status_code for a in hidden]
        unseen = [_get(settings, f"/v1/assets/{a}", stranger.key).status_code for a in hidden]
        anonymous = [_get(settings, f"/v1/assets/{a}").status_code for a in hidden]
        grants = _get(settings, "/v1/grants", admin.key)
        held = _get(settings, "/v1/me", grantee.key)
        audit_after = {e["id"] for e in _get(settings, "/v1/audit?limit=500", admin.key).json()["events"]}
    finally:
        forget_backup(settings, folder)
        shutil.rmtree(folder, ignore_errors=True)

    assert down.returncode == 0, down.stdout + down.stderr
    assert up.returncode == 0, up.stdout + up.stderr
    assert batch["state"] == "succeeded" and batch["counts"]["stored"] == len(items) == 6
    assert len(hidden) == 3 and seen_before == [200, 200, 200]
    assert report.problems() == []
    assert report.counts()["objects checked"] == manifest.counts()["objects"] > 0
    assert me.status_code == 200 and me.json()["institution"] == owner, me.text
    assert batch_after.status_code == 200 and batch_after.json()["counts"] == batch["counts"]
    assert seen == [200, 200, 200]
    assert unseen == anonymous == [404, 404, 404]
    assert grants.status_code == 200 and grant_id in {g["id"] for g in grants.json()}, grants.text
    assert [g["id"] for g in held.json()["grants"]] == [grant_id]
    assert len(audit_before) >= 4 and audit_before <= audit_after  # key, grant and the deliveries before
