"""The audit log's hash chain (services/access/audit.py, migration 0002) on SQLite and PostgreSQL, real servers:
events chain and verify; a changed, removed or recomputed event is named; concurrent writers never fork the
chain; events from before the migration are counted apart; `wenyuan audit verify` says so with its exit code.

Tampering goes behind the service's back, as an attacker with the database would: the append-only triggers are
dropped or disabled first (each test has a database of its own, dropped afterwards).
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from services.access import audit
from services.access.db import Database, upgrade
from services.access.models import AuditEvent
from services.cli import app as cli
from services.cli import audit as audit_cli
from services.settings import DatabaseSettings, Settings
from tests.integration import audit_writer
from tests.integration.test_access_store import OPERATOR, _org, database  # noqa: F401  (the fixture)


def _write(db: Database, n: int, prefix: str = "e") -> None:
    for i in range(n):
        with db.session() as s:
            audit.record(s, OPERATOR, "deliver", outcome="allowed", about="palace", asset_id=f"{prefix}{i}",
                         subject="image 0 preview", tier="preview", basis="CC-BY-4.0", licence="CC-BY-4.0",
                         purpose=None, n=i, ratio=0.5, names=["青花", "blue"])


def _ids(db: Database) -> list[int]:
    with db.session() as s:
        return list(s.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def _tamper(db: Database, statement: str, **params: object) -> None:
    """Run `statement` past the append-only triggers."""
    with db.session() as s:
        if db.settings.is_sqlite:
            s.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
            s.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
        else:
            s.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        s.execute(text(statement), params)


def _verify(db: Database) -> audit.ChainReport:
    with db.session() as s:
        return audit.verify(s)


def test_events_chain_each_to_the_one_before_and_the_chain_verifies(database: Database) -> None:  # noqa: F811
    _org(database)
    _write(database, 5)

    report = _verify(database)
    with database.session() as s:
        events = list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))

    assert report.intact and report.reason is None
    assert (report.chained, report.before) == (8, 0)  # region, institution, department, 5 deliveries
    assert events[0].prev_hash == audit.GENESIS
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert report.head_hash == events[-1].hash == audit.event_hash(events[-1])
    assert events[-1].detail == {"licence": "CC-BY-4.0", "purpose": None, "n": 4, "ratio": 0.5,
                                 "names": ["青花", "blue"]}


def test_an_event_changed_in_the_database_is_named(database: Database) -> None:  # noqa: F811
    _write(database, 6)
    target = _ids(database)[3]

    _tamper(database, "UPDATE audit_events SET tier = 'original' WHERE id = :id", id=target)
    report = _verify(database)

    assert not report.intact
    assert report.broken_at == target and report.chained == 3
    assert f"event {target} no longer matches its hash" in (report.reason or "")


def test_an_event_changed_with_its_hash_recomputed_breaks_the_next_link(database: Database) -> None:  # noqa: F811
    _write(database, 6)
    ids = _ids(database)
    with database.session() as s:
        forged = s.get(AuditEvent, ids[2])
        assert forged is not None
        s.expunge(forged)  # a copy to forge, never written back by the session
    forged.subject = "image 0 original"
    new_hash = audit.event_hash(forged)

    _tamper(database, "UPDATE audit_events SET subject = 'image 0 original', hash = :h WHERE id = :id",
            h=new_hash, id=ids[2])
    report = _verify(database)

    assert report.broken_at == ids[3]
    assert f"event {ids[3]} is not chained to the event before it: event {ids[2]} was changed" in (report.reason or "")


def test_a_removed_event_is_named_by_the_one_after_it(database: Database) -> None:  # noqa: F811
    _write(database, 6)
    ids = _ids(database)

    _tamper(database, "DELETE FROM audit_events WHERE id = :id", id=ids[2])
    report = _verify(database)

    assert report.broken_at == ids[3] and report.chained == 2


def test_events_removed_from_the_end_show_at_the_head(database: Database) -> None:  # noqa: F811
    _write(database, 4)
    ids = _ids(database)

    _tamper(database, "DELETE FROM audit_events WHERE id >= :id", id=ids[2])
    report = _verify(database)

    assert report.broken_at == 0 and report.chained == 2
    assert "head records 4 events" in (report.reason or "")


def test_an_event_written_around_the_chain_is_counted_and_named_outside_it(database: Database) -> None:  # noqa: F811
    _write(database, 2)
    with database.session() as s:  # an INSERT without a hash, as an older gateway's: the triggers allow inserts
        s.execute(text("INSERT INTO audit_events (at, action, outcome, actor_kind, detail) "
                       "VALUES (CURRENT_TIMESTAMP, 'grant.create', 'done', 'operator', '{}')"))
    outside = _ids(database)[-1]
    _write(database, 2)

    report = _verify(database)

    assert report.intact and report.chained == 4
    assert (report.unchained, report.first_unchained) == (1, outside)


def test_concurrent_writers_never_fork_the_chain(database: Database) -> None:  # noqa: F811
    writers, each = 8, 10
    start = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(w: int) -> None:
        try:
            start.wait()
            _write(database, each, prefix=f"w{w}-")
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = _verify(database)
    with database.session() as s:
        prev_hashes = Counter(s.scalars(select(AuditEvent.prev_hash)))

    assert failures == []
    assert report.intact, report.reason
    assert report.chained == writers * each
    assert max(prev_hashes.values()) == 1  # no two events follow the same one


def test_gateway_like_processes_writing_at_once_never_fork_the_chain(database: Database) -> None:  # noqa: F811
    """As several uvicorn workers do: processes of their own, each with its own engine and connections."""
    processes, each = 4, 15
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(processes)
    workers = [context.Process(target=audit_writer.write, args=(database.settings.url, each, f"p{i}", start))
               for i in range(processes)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)

    report = _verify(database)

    assert [w.exitcode for w in workers] == [0] * processes
    assert report.intact, report.reason
    assert report.chained == processes * each


def test_events_from_before_the_migration_are_counted_apart(tmp_path: Path) -> None:
    db_settings = DatabaseSettings(url=f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(db_settings, "0001")
    db = Database(db_settings)
    with db.session() as s:
        for action in ("region.create", "institution.create"):
            s.execute(text("INSERT INTO audit_events (at, action, outcome, actor_kind, detail) "
                           "VALUES ('2026-11-30 10:00:00.000000', :a, 'done', 'operator', '{}')"), {"a": action})

    upgrade(db_settings)
    _write(db, 3)
    report = _verify(db)
    db.close()

    assert report.intact and (report.before, report.chained) == (2, 3)


def test_wenyuan_audit_verify_says_intact_or_names_the_broken_event(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    db_settings = DatabaseSettings(url=f"sqlite:///{tmp_path / 'cli.db'}")
    upgrade(db_settings)
    db = Database(db_settings)
    _write(db, 3)
    monkeypatch.setattr(audit_cli, "get_settings", lambda: Settings(db=db_settings))

    intact = CliRunner().invoke(cli, ["audit", "verify"])
    _tamper(db, "UPDATE audit_events SET outcome = 'denied' WHERE id = :id", id=_ids(db)[1])
    broken = CliRunner().invoke(cli, ["audit", "verify"])
    as_json = CliRunner().invoke(cli, ["audit", "verify", "--json"])
    db.close()

    assert intact.exit_code == 0 and intact.output.startswith("3 events, chain intact; head "), intact.output
    assert "carry no hash" not in intact.output
    assert broken.exit_code == 1, broken.output
    assert f"chain broken at event {_ids_of(db_settings)[1]}: event" in broken.output
    assert as_json.exit_code == 1 and '"broken_at": 2' in as_json.output and '"intact": false' in as_json.output


def _ids_of(db_settings: DatabaseSettings) -> list[int]:
    db = Database(db_settings)
    try:
        return _ids(db)
    finally:
        db.close()


def test_wenyuan_audit_verify_warns_of_events_outside_the_chain_and_strict_fails_on_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db_settings = DatabaseSettings(url=f"sqlite:///{tmp_path / 'cli.db'}")
    upgrade(db_settings)
    db = Database(db_settings)
    _write(db, 2)
    with db.session() as s:
        s.execute(text("INSERT INTO audit_events (at, action, outcome, actor_kind, detail) "
                       "VALUES (CURRENT_TIMESTAMP, 'deliver', 'allowed', 'anonymous', '{}')"))
    db.close()
    monkeypatch.setattr(audit_cli, "get_settings", lambda: Settings(db=db_settings))

    lenient = CliRunner().invoke(cli, ["audit", "verify"])
    strict = CliRunner().invoke(cli, ["audit", "verify", "--strict"])

    assert lenient.exit_code == 0 and "2 events, chain intact" in lenient.output
    assert "1 events after the chain began carry no hash (the first: event 3)" in lenient.output
    assert strict.exit_code == 1 and "event 3" in strict.output
