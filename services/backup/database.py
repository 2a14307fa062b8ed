"""The access database in a backup: organisations, keys, grants and the audit log.

PostgreSQL through its own tools, `pg_dump --format=custom` and `pg_restore --clean` (a consistent snapshot
while the service runs; the binaries of the server's major version or newer, Settings.backup.pg_bin_dir or
Debian's /usr/lib/postgresql/<n>/bin). SQLite through its online backup API (`sqlite3.Connection.backup`),
which copies a consistent image while the gateway keeps writing, and writes it back page by page.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import Engine, func, inspect, select, table
from sqlalchemy.engine import make_url

from services.access.db import Database
from services.backup.manifest import BackupError, DatabasePart
from services.settings import BackupSettings, DatabaseSettings

DUMP = {"postgresql": "database.dump", "sqlite": "database.sqlite"}


def row_counts(engine: Engine) -> dict[str, int]:
    """Every table of the database → its row count."""
    with engine.connect() as conn:
        return {name: int(conn.execute(select(func.count()).select_from(table(name))).scalar_one())
                for name in sorted(inspect(conn).get_table_names())}


def _sqlite_path(db: DatabaseSettings) -> Path:
    path = db.url.removeprefix("sqlite:///")
    if not path or path == ":memory:":
        raise BackupError(f"{db.url}: an in-memory database has nothing to back up")
    return Path(path)


def _libpq_url(db: DatabaseSettings) -> str:
    """The SQLAlchemy URL as libpq's tools take it (no `+psycopg` driver part; the password kept)."""
    return make_url(db.url).set(drivername="postgresql").render_as_string(hide_password=False)


def pg_tool(backup: BackupSettings, program: str) -> Path:
    if backup.pg_bin_dir is not None:
        return backup.pg_bin_dir / program
    found = shutil.which(program)
    if found:
        return Path(found)
    debian = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{program}"), key=lambda p: int(p.parts[-3]))
    if not debian:
        raise BackupError(f"{program} not found: install PostgreSQL's client tools or set WENYUAN_BACKUP__PG_BIN_DIR")
    return debian[-1]


def _run(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return done.stdout


def dump(db: DatabaseSettings, backup: BackupSettings, folder: Path) -> DatabasePart:
    database = Database(db)
    try:
        revision = database.revision()
        tables = row_counts(database.engine)
        with database.engine.connect() as conn:
            server = conn.dialect.server_version_info
    finally:
        database.close()
    dialect = "sqlite" if db.is_sqlite else "postgresql"
    out = folder / DUMP[dialect]
    if db.is_sqlite:
        src = sqlite3.connect(_sqlite_path(db))
        dst = sqlite3.connect(out)
        try:
            with dst:
                src.backup(dst)
        finally:
            src.close()
            dst.close()
    else:
        _run([str(pg_tool(backup, "pg_dump")), "--format=custom", "--no-owner", "--no-privileges",
              f"--file={out}", f"--dbname={_libpq_url(db)}"])
    return DatabasePart(dialect=dialect, file=out.name, revision=revision, tables=tables,
                        server_version=".".join(str(v) for v in server) if server else None)


def refusal(db: DatabaseSettings, folder: Path, part: DatabasePart) -> tuple[str | None, str | None]:
    """(why the dump cannot be restored at all, why not without `replace`: the database holds rows)."""
    dialect = "sqlite" if db.is_sqlite else "postgresql"
    if dialect != part.dialect:
        return f"the backup holds a {part.dialect} database; WENYUAN_DB__URL is {dialect}", None
    if not (folder / part.file).is_file():
        return f"{folder / part.file} is missing from the backup", None
    if db.is_sqlite:
        _sqlite_path(db).parent.mkdir(parents=True, exist_ok=True)
    database = Database(db)
    try:
        rows = sum(row_counts(database.engine).values())
    finally:
        database.close()
    return None, (f"the access database holds {rows} rows" if rows else None)


def restore(db: DatabaseSettings, backup: BackupSettings, folder: Path, part: DatabasePart) -> dict[str, int]:
    """Write the dump back over the configured database (the caller checked `refusal`); returns its row counts
    after."""
    source = folder / part.file
    if db.is_sqlite:
        src = sqlite3.connect(source)
        dst = sqlite3.connect(_sqlite_path(db), timeout=30)
        try:
            src.backup(dst)  # the whole database, page by page, under the writer's lock
        finally:
            src.close()
            dst.close()
    else:
        _run([str(pg_tool(backup, "pg_restore")), "--clean", "--if-exists", "--no-owner", "--no-privileges",
              "--single-transaction", "--exit-on-error", f"--dbname={_libpq_url(db)}", str(source)])
    database = Database(db)
    try:
        return row_counts(database.engine)
    finally:
        database.close()
