"""What tests make in the service's own stores, found and removed by institution.

Many integration tests ingest through the real Airflow DAG into the service's own index, buckets and access
database. `tests/access.py` records each institution, app and region it makes (`REGISTRY`); a fixture removes
what a test module made when the module ends (`purge`). Test data is recognisable by name: every id a test
makes carries a run of hex from a uuid (`museum-t3f…`, `t-9a…`, `app-c4…`, regions `ZZ-5FA`), which no
sample or real institution does; `leftovers` lists what of it is still there, `purge(everything_test_made())`
sweeps it.

The audit log is not touched: the database keeps it append-only by design.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field

from elasticsearch import Elasticsearch, helpers
from minio import Minio
from minio.deleteobjects import DeleteObject
from sqlalchemy import delete, or_, select

from indexing.aliases import assets_alias
from indexing.labels import decisions_index
from services.access.db import Database
from services.access.models import ApiKey, App, Department, Grant, Institution, Operator, Region, Staff
from services.settings import Settings

TEST_ID = re.compile(r"[0-9a-f]{8,}")
TEST_REGION = re.compile(r"^Z[A-Z]-[0-9A-F]{3}$")  # ISO 3166 user-assigned codes, as tests make them
TEST_OPERATOR = re.compile(r"^test-")


def is_test_id(value: str) -> bool:
    return bool(TEST_ID.search(value))


@dataclass
class Made:
    institutions: set[str] = field(default_factory=set)
    apps: set[str] = field(default_factory=set)
    regions: set[str] = field(default_factory=set)
    operators: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.institutions or self.apps or self.regions or self.operators)

    def take(self) -> Made:
        """Everything recorded so far, forgetting it here."""
        taken = Made(set(self.institutions), set(self.apps), set(self.regions), set(self.operators))
        self.institutions.clear()
        self.apps.clear()
        self.regions.clear()
        self.operators.clear()
        return taken


REGISTRY = Made()  # made by tests and by function-, class- and module-scoped fixtures: purged when the module ends
SESSION_REGISTRY = Made()  # made by session-scoped fixtures (still in use by later modules): purged at the end
SCOPE: ContextVar[str] = ContextVar("fixture_scope", default="function")  # set by tests/conftest.py


def _es_institutions(es: Elasticsearch, settings: Settings) -> dict[str, int]:
    body = es.search(index=assets_alias(settings.es), size=0, ignore_unavailable=True,
                     aggs={"i": {"terms": {"field": "institution", "size": 10_000}}})
    return {b["key"]: b["doc_count"] for b in body.get("aggregations", {}).get("i", {}).get("buckets", [])}


def _batches(s3: Minio, settings: Settings) -> dict[str, str]:
    """batch id → institution, from the batch records in the reports bucket."""
    import json

    out: dict[str, str] = {}
    bucket = settings.s3.bucket_reports
    for obj in s3.list_objects(bucket, prefix="batches/"):
        batch_id = (obj.object_name or "").strip("/").split("/")[-1]
        try:
            response = s3.get_object(bucket, f"batches/{batch_id}/batch.json")
        except Exception:  # a batch whose record is gone: its work files are orphans
            out[batch_id] = ""
            continue
        try:
            out[batch_id] = str(json.loads(response.read()).get("institution", ""))
        finally:
            response.close()
            response.release_conn()
    return out


def everything_test_made(settings: Settings, es: Elasticsearch, s3: Minio, db: Database) -> Made:
    """Every institution, app, region and operator in the stores whose name says a test made it."""
    made = Made()
    made.institutions |= {i for i in _es_institutions(es, settings) if is_test_id(i)}
    made.institutions |= {i for i in _batches(s3, settings).values() if is_test_id(i)}
    for top in s3.list_objects(settings.s3.bucket_assets):
        name = (top.object_name or "").strip("/")
        if is_test_id(name):
            made.institutions.add(name)
    with db.session() as s:
        made.institutions |= {i for i in s.scalars(select(Institution.id)) if is_test_id(i)}
        made.apps |= {a for a in s.scalars(select(App.id)) if is_test_id(a)}
        made.regions |= {r for r in s.scalars(select(Region.code)) if TEST_REGION.match(r)}
        made.operators |= {o for o in s.scalars(select(Operator.id)) if TEST_OPERATOR.match(o)}
    return made


def _remove_prefix(s3: Minio, bucket: str, prefix: str) -> None:
    doomed = [DeleteObject(o.object_name or "") for o in s3.list_objects(bucket, prefix=prefix, recursive=True)]
    for error in s3.remove_objects(bucket, doomed):
        raise RuntimeError(f"could not remove {bucket}/{error.name}: {error.message}")


def _delete_matching(es: Elasticsearch, index: str, query: dict[str, object]) -> list[str]:
    """Delete every document matching `query`; returns their ids. (This server has no reindex module, so no
    `_delete_by_query`: ids are searched and deleted in bulk.)"""
    deleted: list[str] = []
    while True:
        es.indices.refresh(index=index, ignore_unavailable=True)
        hits = es.search(index=index, size=5000, source=False, ignore_unavailable=True, query=query)["hits"]["hits"]
        if not hits:
            return deleted
        streaming = helpers.streaming_bulk(es, ({"_op_type": "delete", "_index": h["_index"], "_id": h["_id"]}
                                                for h in hits), raise_on_error=False)
        for ok, item in streaming:
            if not ok and item.get("delete", {}).get("status") != 404:
                raise RuntimeError(f"could not delete from {index}: {item}")
        deleted += [h["_id"] for h in hits]


def purge(made: Made, settings: Settings, es: Elasticsearch, s3: Minio, db: Database) -> None:
    """Remove every document, object and row of these institutions, apps, regions and operators."""
    institutions = sorted(made.institutions)
    if institutions:
        alias = assets_alias(settings.es)
        asset_ids = _delete_matching(es, alias, {"terms": {"institution": institutions}})
        for chunk in range(0, len(asset_ids), 1000):
            _delete_matching(es, decisions_index(settings.es), {"terms": {"asset_id": asset_ids[chunk:chunk + 1000]}})
        for batch_id, owner in _batches(s3, settings).items():
            if owner in made.institutions or (not owner and is_test_id(batch_id)):
                _remove_prefix(s3, settings.s3.bucket_reports, f"batches/{batch_id}/")
                _remove_prefix(s3, settings.s3.bucket_staging, f"{batch_id}/")
                _remove_prefix(s3, settings.s3.bucket_quarantine, f"{batch_id}/")
        for inst in institutions:
            _remove_prefix(s3, settings.s3.bucket_assets, f"{inst}/")
    _purge_rows(made, db)


def _purge_rows(made: Made, db: Database) -> None:
    inst, apps, ops = list(made.institutions), list(made.apps), list(made.operators)
    with db.session() as s:
        staff = select(Staff.id).where(Staff.institution_id.in_(inst)).scalar_subquery()
        s.execute(delete(Grant).where(or_(Grant.grantor_id.in_(inst), Grant.grantee_id.in_(inst + apps)))
                  .execution_options(synchronize_session=False))
        s.execute(delete(ApiKey).where(or_(ApiKey.staff_id.in_(staff), ApiKey.app_id.in_(apps),
                                           ApiKey.operator_id.in_(ops)))
                  .execution_options(synchronize_session=False))
        s.execute(delete(Staff).where(Staff.institution_id.in_(inst)).execution_options(synchronize_session=False))
        s.execute(delete(Department).where(Department.institution_id.in_(inst))
                  .execution_options(synchronize_session=False))
        s.execute(delete(Institution).where(Institution.id.in_(inst)).execution_options(synchronize_session=False))
        s.execute(delete(App).where(App.id.in_(apps)).execution_options(synchronize_session=False))
        s.execute(delete(Operator).where(Operator.id.in_(ops)).execution_options(synchronize_session=False))
        in_use = select(Institution.region_code).scalar_subquery()
        regions = [r for r in made.regions if TEST_REGION.match(r)]
        s.execute(delete(Region).where(Region.code.in_(regions), Region.code.not_in(in_use))
                  .execution_options(synchronize_session=False))
        s.commit()


def leftovers(settings: Settings, es: Elasticsearch, s3: Minio, db: Database) -> list[str]:
    """One line per store that still holds test data: what and how much."""
    lines: list[str] = []
    docs = {i: n for i, n in _es_institutions(es, settings).items() if is_test_id(i)}
    lines += [f"index {assets_alias(settings.es)}: {n} documents of {i}" for i, n in sorted(docs.items())]
    batches = {b: i for b, i in _batches(s3, settings).items() if is_test_id(i) or (not i and is_test_id(b))}
    lines += [f"bucket {settings.s3.bucket_reports}: batch {b} of {i or '?'}" for b, i in sorted(batches.items())]
    for bucket in (settings.s3.bucket_staging, settings.s3.bucket_quarantine):
        lines += [f"bucket {bucket}: {o.object_name}" for o in s3.list_objects(bucket)
                  if (o.object_name or "").strip("/") in batches]
    lines += [f"bucket {settings.s3.bucket_assets}: {o.object_name}" for o in s3.list_objects(settings.s3.bucket_assets)
              if is_test_id((o.object_name or "").strip("/"))]
    lines += [f"bucket {b.name}" for b in s3.list_buckets() if b.name.startswith("wenyuan-test-")]
    made = Made()
    with db.session() as s:
        made.institutions = {i for i in s.scalars(select(Institution.id)) if is_test_id(i)}
        made.apps = {a for a in s.scalars(select(App.id)) if is_test_id(a)}
        made.regions = {r for r in s.scalars(select(Region.code)) if TEST_REGION.match(r)}
        keys = s.scalar(select(ApiKey.prefix).join(Staff, ApiKey.staff_id == Staff.id, isouter=True)
                        .where(or_(Staff.institution_id.in_(list(made.institutions)),
                                   ApiKey.app_id.in_(list(made.apps)))).limit(1))
    lines += [f"database: institution {i}" for i in sorted(made.institutions)]
    lines += [f"database: app {a}" for a in sorted(made.apps)]
    lines += [f"database: region {r}" for r in sorted(made.regions)]
    if keys:
        lines.append("database: API keys of test institutions or apps")
    return lines


def record(kind: str, values: Iterable[str]) -> None:
    registry = SESSION_REGISTRY if SCOPE.get() in ("session", "package") else REGISTRY
    getattr(registry, kind).update(values)


def purge_with_settings(made: Made, settings: Settings) -> None:
    """`purge` with clients of its own (for fixtures that have none at hand)."""
    from indexing.client import make_client as make_es_client
    from services.storage import make_client as make_s3_client

    es, db = make_es_client(settings.es), Database(settings.db)
    try:
        purge(made, settings, es, make_s3_client(settings.s3), db)
    finally:
        es.close()
        db.close()
