"""The backup drill: back up, wipe, restore, and every count, key, grant, audit event and object checks out.

On the test's own stack within the real services: its own index prefix, its own four buckets, its own access
database (a SQLite file, or a new database on the stack's PostgreSQL) and its own snapshot repository (a
folder within the node's path.repo); never the service's data, which other tests run against. All of it is
removed afterwards.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from elasticsearch import Elasticsearch
from minio import Minio
from minio.deleteobjects import DeleteObject

from indexing.aliases import assets_alias, ensure_assets_index
from indexing.bulk import index_documents
from indexing.labels import ensure_decisions_index
from schemas.access import OPERATOR_SCOPES, GranteeKind, GrantScope, PrincipalKind, Purpose, Role, Tier
from schemas.organisations import GrantIn, InstitutionIn, KeyIn, RegionIn, StaffIn
from services.access import audit, grants, keys, orgs
from services.access.db import Database, upgrade
from services.access.policy import visibility_filter
from services.access.principals import Principal
from services.access.resolve import principal_for_key
from services.backup import BackupError, check_backup, forget_backup, make_backup, restore_backup
from services.backup.database import row_counts
from services.backup.manifest import clean_etag, read_listing
from services.backup.run import Clients
from services.backup.snapshot import service_aliases, service_indices
from services.settings import DatabaseSettings, Settings, process_environment
from tests.factories import make_asset

pytestmark = pytest.mark.integration

OPERATOR = Principal(kind=PrincipalKind.OPERATOR, id="backup-drill", name="backup drill", scopes=OPERATOR_SCOPES)
BIG = 6 * 1024 * 1024 + 17  # over the 5 MiB part size the drill uploads with: a multipart ETag


@dataclass
class Drill:
    settings: Settings
    clients: Clients
    pg_name: str | None
    admin_url: str

    def database(self) -> Database:
        return Database(self.settings.db)

    def environment(self) -> dict[str, str]:
        """The drill's settings as the `wenyuan` command reads them."""
        s = self.settings
        return {**process_environment(), "WENYUAN_ES__INDEX_PREFIX": s.es.index_prefix, "WENYUAN_DB__URL": s.db.url,
                "WENYUAN_BACKUP__REPOSITORY": s.backup.repository, "WENYUAN_BACKUP__LOCATION": str(s.backup.location),
                "WENYUAN_BACKUP__DIR": str(s.backup.dir), "COLUMNS": "200",
                **{f"WENYUAN_S3__BUCKET_{kind.upper()}": getattr(s.s3, f"bucket_{kind}")
                   for kind in ("staging", "assets", "quarantine", "reports")}}

    def wenyuan(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(Path(sys.executable).parent / "wenyuan"), *args], env=self.environment(),
                              capture_output=True, text=True, timeout=300, check=False)

    def wipe_database(self) -> None:
        if self.pg_name is None:
            for suffix in ("", "-wal", "-shm"):
                Path(self.settings.db.url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
            return
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {self.pg_name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {self.pg_name}")


def _empty_bucket(s3: Minio, bucket: str) -> None:
    if not s3.bucket_exists(bucket):
        return
    names = [DeleteObject(o.object_name or "") for o in s3.list_objects(bucket, recursive=True)]
    for error in s3.remove_objects(bucket, names):
        raise AssertionError(error)


@pytest.fixture(params=["sqlite", "postgresql"])
def drill(request: pytest.FixtureRequest, settings: Settings, es: Elasticsearch, s3: Minio, unique: str,
          tmp_path: Path) -> Iterator[Drill]:
    admin_url = settings.stack.postgres_url.replace("postgresql+psycopg", "postgresql")
    pg_name = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'access.db'}"
    else:
        pg_name = f"t_backup_{unique}"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {pg_name}")
        url = settings.stack.postgres_url.rsplit("/", 1)[0] + f"/{pg_name}"
    buckets = {f"bucket_{kind}": f"wenyuan-test-{unique}-{kind}" for kind in ("staging", "assets", "quarantine",
                                                                               "reports")}
    location = settings.backup.location / f"test-{unique}"
    scoped = settings.model_copy(update={
        "es": settings.es.model_copy(update={"index_prefix": f"test-backup-{unique}"}),
        "s3": settings.s3.model_copy(update=buckets),
        "db": DatabaseSettings(url=url),
        "backup": settings.backup.model_copy(update={"repository": f"test-backup-{unique}", "location": location,
                                                     "dir": tmp_path / "backups"}),
    })
    for bucket in scoped.s3.buckets:
        s3.make_bucket(bucket)
    upgrade(scoped.db)
    yield Drill(scoped, Clients(es, s3), pg_name, admin_url)
    es.indices.delete(index=f"{scoped.es.index_prefix}-*", allow_no_indices=True, expand_wildcards="all")
    repository = scoped.backup.repository
    if es.options(ignore_status=404).snapshot.get_repository(name=repository).body.get(repository):
        for snap in es.snapshot.get(repository=repository, snapshot="*").body["snapshots"]:
            es.snapshot.delete(repository=repository, snapshot=snap["snapshot"])
        es.snapshot.delete_repository(name=repository)
    shutil.rmtree(location.resolve(), ignore_errors=True)
    for bucket in scoped.s3.buckets:
        if s3.bucket_exists(bucket):
            _empty_bucket(s3, bucket)
            s3.remove_bucket(bucket)
    if pg_name:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")


@dataclass
class World:
    grantor: str
    grantee_key: str
    grant_id: str
    granted_asset: str
    audit_events: int


def _populate(drill: Drill) -> World:
    """Two institutions, staff and keys, a grant of one's batch to the other, audit events, five assets (one
    only the grant shows) in two indices, and objects in two buckets (one of them multipart)."""
    s = drill.settings
    u = uuid.uuid4().hex[:8]
    palace, lake = f"palace-{u}", f"lake-{u}"
    db = drill.database()
    try:
        with db.session() as session:
            orgs.create_region(session, OPERATOR, RegionIn(code="CN-BJ", name_zh="北京", name_en="Beijing"))
            for inst in (palace, lake):
                orgs.create_institution(session, OPERATOR, InstitutionIn(id=inst, name_zh=f"{inst}馆",
                                                                          name_en=inst, region="CN-BJ"))
            admin = orgs.create_staff(session, OPERATOR, palace, StaffIn(name="admin", role=Role.ADMIN))
            viewer = orgs.create_staff(session, OPERATOR, lake, StaffIn(name="viewer", role=Role.VIEWER))
            admin_key = keys.create_key(session, OPERATOR, KeyIn(staff=admin.id), 60).key
            grantee_key = keys.create_key(session, OPERATOR, KeyIn(staff=viewer.id), 60).key
        with db.session() as session:
            grant = grants.create_grant(session, principal_for_key(session, admin_key), GrantIn(
                grantee_kind=GranteeKind.INSTITUTION, grantee=lake, tier=Tier.PREVIEW, scope=GrantScope.BATCH,
                batch_id="b-granted", purpose=Purpose.RESEARCH))
            for n in range(3):
                audit.record(session, OPERATOR, "deliver", outcome="allowed", about=palace, asset_id=f"a{n}")
        with db.session() as session:
            events = len(audit.events(session, palace, limit=100)[0])
    finally:
        db.close()
    es = drill.clients.es
    alias = ensure_assets_index(es, s, {"text": None, "image": None})
    docs = [make_asset(object_id=f"BK-{n}", institution=palace, batch_id="b-public") for n in range(4)]
    docs.append(make_asset(object_id="BK-granted", institution=palace, batch_id="b-granted", access="granted"))
    index_documents(es, alias, ((str(d["asset_id"]), d) for d in docs))
    decisions = ensure_decisions_index(es, s.es)
    es.index(index=decisions, document={"asset_id": str(docs[0]["asset_id"]), "label": "porcelain",
                                        "kind": "category", "status": "accepted"})
    es.indices.refresh(index=f"{s.es.index_prefix}-*")
    s3 = drill.clients.s3
    for n in range(3):
        data = f"original {n} of {palace}".encode()
        s3.put_object(s.s3.bucket_assets, f"{palace}/originals/{n}.txt", io.BytesIO(data), len(data))
    s3.put_object(s.s3.bucket_staging, f"{palace}/big.bin", io.BytesIO(b"x" * BIG), BIG, part_size=5 * 1024 * 1024)
    return World(palace, grantee_key, grant.id, str(docs[-1]["asset_id"]), events)


def _etags(s3: Minio, bucket: str) -> dict[str, str]:
    return {o.object_name or "": clean_etag(o.etag or "") for o in s3.list_objects(bucket, recursive=True)}


def test_a_backup_restored_after_a_wipe_brings_back_every_count_key_grant_event_and_object(drill: Drill) -> None:
    world = _populate(drill)
    s, es, s3 = drill.settings, drill.clients.es, drill.clients.s3
    folder, manifest = make_backup(s, s.backup.dir / "one", copy_objects=True, clients=drill.clients)
    listed = {b.name: {e.key: clean_etag(e.etag) for e in read_listing(folder / b.listing)} for b in manifest.buckets}
    db = drill.database()
    rows_before = row_counts(db.engine)
    db.close()

    es.indices.delete(index=f"{s.es.index_prefix}-*", expand_wildcards="all")
    drill.wipe_database()
    for bucket in s.s3.buckets:
        _empty_bucket(s3, bucket)
    s3.remove_bucket(s.s3.bucket_quarantine)  # a bucket lost outright comes back too
    wiped = service_indices(es, s)
    report = restore_backup(s, folder, clients=drill.clients)
    db = drill.database()
    try:
        with db.session() as session:
            grantee = principal_for_key(session, world.grantee_key)
            events = audit.events(session, world.grantor, limit=100)[0]
        rows_after = row_counts(db.engine)
    finally:
        db.close()
    hits = es.search(index=assets_alias(s.es), query={"bool": {"filter": [visibility_filter(grantee)]}},
                     size=10)["hits"]["hits"]

    assert wiped == {}
    assert manifest.counts()["documents"] == 6 and manifest.counts()["objects"] == 4
    assert report.problems() == []
    assert report.documents == manifest.elasticsearch.indices if manifest.elasticsearch else False
    assert report.aliases == service_aliases(es, s) == {assets_alias(s.es): [f"{assets_alias(s.es)}-v1"]}
    assert rows_after == rows_before == report.rows and rows_before["api_keys"] == 2
    assert [g.id for g in grantee.grants] == [world.grant_id]
    assert world.granted_asset in {h["_id"] for h in hits}
    assert f"grant:{world.grant_id}" in next(h for h in hits if h["_id"] == world.granted_asset)["matched_queries"]
    assert len(events) == world.audit_events >= 3
    assert {b: _etags(s3, b) for b in s.s3.buckets} == listed
    assert any(etag.endswith("-2") for etag in listed[s.s3.bucket_staging].values())  # the multipart one
    assert sum(b.recopied for b in report.buckets) == 4


def test_a_restore_onto_a_stack_that_holds_data_changes_nothing_without_replace(drill: Drill) -> None:
    _populate(drill)
    s, es = drill.settings, drill.clients.es
    folder, manifest = make_backup(s, clients=drill.clients)
    alias = assets_alias(s.es)
    later = make_asset(object_id="BK-later", institution="later-museum")
    es.index(index=alias, id=str(later["asset_id"]), document=later, refresh=True)

    with pytest.raises(BackupError, match="nothing was restored") as refused:
        restore_backup(s, folder, clients=drill.clients)
    kept = es.count(index=alias)["count"]
    report = restore_backup(s, folder, replace=True, clients=drill.clients)

    assert "--replace" in str(refused.value) and "documents" in str(refused.value) and "rows" in str(refused.value)
    assert kept == 6  # the five of the backup and the later one: the refused restore wrote nothing
    assert report.problems() == []
    assert report.documents == (manifest.elasticsearch.indices if manifest.elasticsearch else None)
    assert es.count(index=alias)["count"] == 5  # back to the backup's


def test_a_check_names_each_object_lost_since_a_listing_only_backup(drill: Drill) -> None:
    world = _populate(drill)
    s = drill.settings
    folder, manifest = make_backup(s, clients=drill.clients)
    lost = f"{world.grantor}/originals/1.txt"
    drill.clients.s3.remove_object(s.s3.bucket_assets, lost)

    report = check_backup(s, folder, clients=drill.clients)
    forgotten = forget_backup(s, folder, clients=drill.clients)

    assert not any(b.copied for b in manifest.buckets)
    assert [b.missing for b in report.buckets if b.missing] == [[lost]]
    assert report.problems() == [f"bucket {s.s3.bucket_assets}: 1 of 3 objects missing or different (first: {lost})"]
    assert forgotten
    assert drill.clients.es.snapshot.get(repository=s.backup.repository, snapshot="*")["snapshots"] == []


@pytest.mark.parametrize("drill", ["sqlite"], indirect=True)
def test_the_command_backs_up_refuses_a_restore_over_data_then_replaces_and_prints_the_counts(drill: Drill) -> None:
    _populate(drill)
    folder = drill.settings.backup.dir / "cli"

    made = drill.wenyuan("admin", "backup", str(folder), "--objects")
    refused = drill.wenyuan("admin", "restore", str(folder))
    restored = drill.wenyuan("admin", "restore", str(folder), "--replace")

    assert made.returncode == 0, made.stdout + made.stderr
    assert "6 documents" in made.stdout and "4 objects" in made.stdout and "copied" in made.stdout
    assert (folder / "manifest.json").is_file() and (folder / "objects").is_dir()
    assert refused.returncode == 1 and "nothing was restored" in refused.stdout, refused.stdout + refused.stderr
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "4 matching, 0 copied back, 0 missing" in restored.stdout


@pytest.mark.parametrize("drill", ["sqlite"], indirect=True)
def test_a_backup_that_fails_half_way_leaves_no_manifest_and_no_snapshot(drill: Drill) -> None:
    _populate(drill)
    s = drill.settings
    drill.clients.s3.remove_bucket(s.s3.bucket_quarantine)  # empty: the backup fails on listing it

    with pytest.raises(BackupError, match="does not exist"):
        make_backup(s, s.backup.dir / "half", clients=drill.clients)

    assert not (s.backup.dir / "half" / "manifest.json").exists()
    assert drill.clients.es.snapshot.get(repository=s.backup.repository, snapshot="*")["snapshots"] == []
