"""How the backup reaches PostgreSQL's own tools: the URL they take, and where they are found."""

from __future__ import annotations

from pathlib import Path

from services.backup.database import _libpq_url, pg_tool
from services.settings import BackupSettings, DatabaseSettings


def test_the_tools_get_a_libpq_url_with_the_password_and_without_the_driver() -> None:
    db = DatabaseSettings(url="postgresql+psycopg://wenyuan:p%40ss@db.example:5432/wenyuan")

    assert _libpq_url(db) == "postgresql://wenyuan:p%40ss@db.example:5432/wenyuan"


def test_a_configured_tool_directory_wins_over_the_path(tmp_path: Path) -> None:
    assert pg_tool(BackupSettings(pg_bin_dir=tmp_path), "pg_dump") == tmp_path / "pg_dump"

