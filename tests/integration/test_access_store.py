"""The access store on both of its databases: SQLite (local default) and PostgreSQL (production), real servers.

Each test gets a fresh database at the migrations' head: a temporary SQLite file, or a new database on
the PostgreSQL the local stack runs (`make up`), dropped afterwards.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from schemas.access import OPERATOR_SCOPES, GranteeKind, GrantScope, PrincipalKind, Purpose, Role, Scope, Tier
from schemas.organisations import AppIn, DepartmentIn, GrantIn, InstitutionIn, KeyIn, RegionIn, StaffIn
from services.access import audit, grants, keys, orgs
from services.access.db import Database, downgrade, head_revision, upgrade
from services.access.errors import InvalidKey, NotAllowed, UnknownEntity
from services.access.models import ApiKey, AuditEvent, Base, Grant, Staff, utcnow
from services.access.principals import Principal
from services.access.resolve import principal_for_key
from services.settings import DatabaseSettings, Settings

OPERATOR = Principal(kind=PrincipalKind.OPERATOR, id="ops", name="ops", scopes=OPERATOR_SCOPES)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path, settings: Settings) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'access.db'}"
        name = None
    else:
        name = f"t_{uuid.uuid4().hex[:12]}"
        admin_url = settings.stack.postgres_url.replace("postgresql+psycopg", "postgresql")
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        url = settings.stack.postgres_url.rsplit("/", 1)[0] + f"/{name}"
    db_settings = DatabaseSettings(url=url)
    upgrade(db_settings)
    db = Database(db_settings)
    yield db
    db.close()
    if name:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def _org(db: Database, institution: str = "palace", region: str = "CN-BJ") -> None:
    with db.session() as s:
        if s.get(orgs.Region, region) is None:
            orgs.create_region(s, OPERATOR, RegionIn(code=region, name_zh="区", name_en="Region"))
        orgs.create_institution(s, OPERATOR, InstitutionIn(id=institution, name_zh="馆", name_en="Museum",
                                                            region=region))
        orgs.create_department(s, OPERATOR, institution, DepartmentIn(id="ceramics", name_zh="陶瓷部",
                                                                      name_en="Ceramics"))


def _member(db: Database, institution: str = "palace", role: Role = Role.ADMIN,
            department: str | None = "ceramics") -> tuple[str, Principal]:
    with db.session() as s:
        member = orgs.create_staff(s, OPERATOR, institution, StaffIn(name=f"{role}", role=role, department=department))
        key = keys.create_key(s, OPERATOR, KeyIn(staff=member.id), 60).key
        return key, principal_for_key(s, key)


def test_the_migrations_make_exactly_the_models_schema_and_go_down_and_up_again(database: Database) -> None:
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)

    assert database.revision() == head_revision()
    assert diff == []
    downgrade(database.settings, "base")
    assert database.revision() is None
    upgrade(database.settings)
    assert database.revision() == head_revision()


def test_the_audit_log_refuses_updates_and_deletes_in_the_database_itself(database: Database) -> None:
    _org(database)
    with database.session() as s:
        count = len(list(s.scalars(select(AuditEvent))))

    for statement in ("UPDATE audit_events SET action = 'forged'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), database.session() as s:
            s.execute(text(statement))

    with database.session() as s:
        events = list(s.scalars(select(AuditEvent)))
    assert len(events) == count == 3  # region, institution, department
    assert [e.action for e in events] == ["region.create", "institution.create", "department.create"]


def test_a_key_is_shown_once_stored_as_its_hash_and_found_by_its_prefix(database: Database) -> None:
    _org(database)
    with database.session() as s:
        member = orgs.create_staff(s, OPERATOR, "palace", StaffIn(name="Li", role=Role.CURATOR))
        created = keys.create_key(s, OPERATOR, KeyIn(staff=member.id, label="uploads"), 60)

    with database.session() as s:
        row = s.get(ApiKey, created.prefix)
        listed = keys.list_keys(s, OPERATOR)
        principal = principal_for_key(s, created.key)

    assert created.key.startswith(created.prefix + ".")
    assert row is not None and created.key not in (row.digest, row.prefix)
    assert row.digest == hashlib.sha256(created.key.encode()).hexdigest()
    assert [k.prefix for k in listed] == [created.prefix] and "key" not in listed[0].model_dump()
    assert (principal.kind, principal.institution, principal.role) == (PrincipalKind.STAFF, "palace", Role.CURATOR)
    assert principal.scopes == {Scope.SEARCH, Scope.DELIVER, Scope.UPLOAD, Scope.CURATE}


def test_revoked_expired_unknown_and_malformed_keys_are_refused(database: Database) -> None:
    _org(database)
    key, _ = _member(database)
    with database.session() as s:
        member_id = s.scalars(select(Staff.id)).one()
        expiring = keys.create_key(s, OPERATOR, KeyIn(staff=member_id, expires_at=utcnow() + timedelta(seconds=1)), 60)
        keys.revoke_key(s, OPERATOR, key.split(".")[0])

    with database.session() as s:
        for bad in (key, key[:-1] + ("A" if key[-1] != "A" else "B"), "wy_00000000." + "x" * 43):
            with pytest.raises(InvalidKey, match="not valid"):
                principal_for_key(s, bad)
        with pytest.raises(InvalidKey, match="malformed"):
            principal_for_key(s, "Bearer nonsense")
        with pytest.raises(InvalidKey, match="not valid"):
            principal_for_key(s, expiring.key, now=utcnow() + timedelta(seconds=2))


def test_a_key_cannot_hold_more_than_its_owner_may_and_shrinks_with_a_demotion(database: Database) -> None:
    _org(database)
    with database.session() as s:
        member = orgs.create_staff(s, OPERATOR, "palace", StaffIn(name="Wang", role=Role.ADMIN))
        with pytest.raises(NotAllowed, match="cannot have the scopes"):
            keys.create_key(s, OPERATOR, KeyIn(staff=member.id, scopes=[Scope.OPERATE]), 60)
        key = keys.create_key(s, OPERATOR, KeyIn(staff=member.id), 60).key
    with database.session() as s:
        s.get(Staff, member.id).role = Role.VIEWER.value  # type: ignore[union-attr]

    with database.session() as s:
        assert principal_for_key(s, key).scopes == {Scope.SEARCH, Scope.DELIVER}


def test_admins_run_their_own_institution_only_and_operators_the_platform(database: Database) -> None:
    _org(database)
    _org(database, "other-museum", "GB-LND")
    _, admin = _member(database)
    _, viewer = _member(database, role=Role.VIEWER)

    with database.session() as s:
        orgs.create_staff(s, admin, "palace", StaffIn(name="new curator", role=Role.CURATOR))
        for attempt in (lambda: orgs.create_staff(s, admin, "other-museum", StaffIn(name="x", role=Role.ADMIN)),
                        lambda: orgs.create_staff(s, viewer, "palace", StaffIn(name="x", role=Role.ADMIN)),
                        lambda: orgs.create_region(s, admin, RegionIn(code="FR", name_zh="法国", name_en="France")),
                        lambda: orgs.create_app(s, admin, AppIn(id="atlas", name="Atlas")),
                        lambda: keys.create_key(s, admin, KeyIn(operator="ops"), 60)):
            with pytest.raises(NotAllowed):
                attempt()


def test_a_failed_change_leaves_no_audit_record_and_a_done_change_exactly_one(database: Database) -> None:
    _org(database)
    _, admin = _member(database)
    with database.session() as s:
        before = len(list(s.scalars(select(AuditEvent))))

    with pytest.raises(UnknownEntity), database.session() as s:
        orgs.create_staff(s, admin, "palace", StaffIn(name="x", role=Role.VIEWER, department="no-such-department"))
    with database.session() as s:
        orgs.create_staff(s, admin, "palace", StaffIn(name="y", role=Role.VIEWER))

    with database.session() as s:
        after = list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert len(after) == before + 1
    assert (after[-1].action, after[-1].actor_id, after[-1].about_institution) == ("staff.create", admin.id, "palace")


def test_grants_reach_institutions_regions_and_apps_until_revoked_or_expired(database: Database) -> None:
    _org(database)
    _org(database, "lake-museum", "CN-BJ")
    _, admin = _member(database)
    with database.session() as s:
        orgs.create_app(s, OPERATOR, AppIn(id="atlas", name="Atlas"))
        made = [grants.create_grant(s, admin, GrantIn(grantee_kind=kind, grantee=who, tier=Tier.PREVIEW,
                                                      scope=GrantScope.CATEGORY, category="porcelain",
                                                      purpose=Purpose.EDUCATION, valid_until=until))
                for kind, who, until in ((GranteeKind.INSTITUTION, "lake-museum", None),
                                         (GranteeKind.REGION, "CN-BJ", utcnow() + timedelta(days=1)),
                                         (GranteeKind.APP, "atlas", None))]
        with pytest.raises(NotAllowed, match="its own assets"):
            grants.create_grant(s, admin, GrantIn(grantee_kind=GranteeKind.INSTITUTION, grantee="palace",
                                                  tier=Tier.ORIGINAL, scope=GrantScope.BATCH, batch_id="b",
                                                  purpose=Purpose.RESEARCH))

    with database.session() as s:
        lake = grants.active_for(s, institution_id="lake-museum", region="CN-BJ", app_id=None, now=utcnow())
        atlas = grants.active_for(s, institution_id=None, region=None, app_id="atlas", now=utcnow())
        tomorrow = grants.active_for(s, institution_id="lake-museum", region="CN-BJ", app_id=None,
                                     now=utcnow() + timedelta(days=2))
        grants.revoke_grant(s, admin, made[0].id)
    with database.session() as s:
        revoked = grants.active_for(s, institution_id="lake-museum", region="CN-BJ", app_id=None, now=utcnow())
        rows = list(s.scalars(select(Grant).order_by(Grant.created_at)))

    assert {g.id for g in lake} == {made[0].id, made[1].id}
    assert [g.id for g in atlas] == [made[2].id]
    assert [g.id for g in tomorrow] == [made[0].id]  # the region's grant has ended
    assert [g.id for g in revoked] == [made[1].id]
    assert rows[0].revoked_by == admin.id


def test_only_the_grantors_admins_revoke_a_grant(database: Database) -> None:
    _org(database)
    _org(database, "lake-museum", "CN-BJ")
    _, admin = _member(database)
    _, other_admin = _member(database, "lake-museum", department=None)
    with database.session() as s:
        made = grants.create_grant(s, admin, GrantIn(grantee_kind=GranteeKind.INSTITUTION, grantee="lake-museum",
                                                     tier=Tier.ORIGINAL, scope=GrantScope.BATCH, batch_id="b-1",
                                                     purpose=Purpose.RESEARCH))

    with pytest.raises(NotAllowed), database.session() as s:
        grants.revoke_grant(s, other_admin, made.id)


def test_the_audit_log_shows_an_institution_its_own_events_newest_first_in_pages(database: Database) -> None:
    _org(database)
    _org(database, "other-museum", "GB-LND")
    _, admin = _member(database)
    with database.session() as s:
        for n in range(5):
            audit.record(s, admin, "deliver", outcome="allowed", about="palace", asset_id=f"a{n}", tier="preview")
        audit.record(s, admin, "deliver", outcome="allowed", about="other-museum", asset_id="theirs")

    with database.session() as s:
        first, cursor = audit.events(s, "palace", action="deliver", limit=3)
        second, end = audit.events(s, "palace", action="deliver", limit=3, cursor=cursor)

    assert [e.asset_id for e in first] == ["a4", "a3", "a2"]
    assert [e.asset_id for e in second] == ["a1", "a0"] and end is None
