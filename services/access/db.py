"""The database of services/access: one engine per process, sessions as transactions, migrations.

SQLite under `.run/` by default (WAL, a busy timeout, foreign keys on), PostgreSQL in production
(`WENYUAN_DB__URL=postgresql+psycopg://…`). The schema is Alembic's: `upgrade()` brings any
database to the head revision (`wenyuan db upgrade`; the local stack runs it before the gateway).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from services.settings import DatabaseSettings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(db: DatabaseSettings) -> Engine:
    if db.is_sqlite:
        path = db.url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(db.url, echo=db.echo, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(db.url, echo=db.echo, pool_pre_ping=True)


class Database:
    """An engine and its session factory; `session()` is one transaction (commit, or roll back on error)."""

    def __init__(self, db: DatabaseSettings) -> None:
        self.settings = db
        self.engine = make_engine(db)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def close(self) -> None:
        self.engine.dispose()


def _alembic_config(db: DatabaseSettings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = db.url  # not through the ini: a password may hold '%'
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config(DatabaseSettings())).get_current_head()
    assert head is not None
    return head


def upgrade(db: DatabaseSettings, revision: str = "head") -> None:
    make_engine(db).dispose()  # creates the SQLite folder
    command.upgrade(_alembic_config(db), revision)


def downgrade(db: DatabaseSettings, revision: str) -> None:
    command.downgrade(_alembic_config(db), revision)
