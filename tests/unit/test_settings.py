"""services/settings.py: one Settings class, WENYUAN_* variables, documented, safe in production."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from services.settings import Environment, Settings
from tests.helpers import ROOT


def test_nested_settings_come_from_wenyuan_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WENYUAN_ES__URL", "http://127.0.0.1:19200")
    monkeypatch.setenv("WENYUAN_S3__BUCKET_STAGING", "museum-staging")

    settings = Settings()

    assert settings.es.url == "http://127.0.0.1:19200"
    assert settings.es.port == 19200
    assert settings.s3.bucket_staging == "museum-staging"
    assert "museum-staging" in settings.s3.buckets


def test_production_refuses_the_local_placeholder_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WENYUAN_ENVIRONMENT", "production")
    monkeypatch.setenv("WENYUAN_AIRFLOW__PASSWORD", "a-real-password")

    with pytest.raises(ValidationError, match="WENYUAN_S3__SECRET_KEY"):
        Settings()


def test_production_accepts_real_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WENYUAN_ENVIRONMENT", "production")
    monkeypatch.setenv("WENYUAN_S3__SECRET_KEY", "s3cr3t-from-the-vault")
    monkeypatch.setenv("WENYUAN_AIRFLOW__PASSWORD", "a-real-password")
    monkeypatch.setenv("WENYUAN_DB__URL", "postgresql+psycopg://wenyuan:pw@db:5432/wenyuan")

    assert Settings().environment is Environment.PRODUCTION


def test_production_refuses_the_local_sqlite_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WENYUAN_ENVIRONMENT", "production")
    monkeypatch.setenv("WENYUAN_S3__SECRET_KEY", "s3cr3t-from-the-vault")
    monkeypatch.setenv("WENYUAN_AIRFLOW__PASSWORD", "a-real-password")

    with pytest.raises(ValidationError, match="WENYUAN_DB__URL"):
        Settings()


def _fields(model: type[BaseModel], prefix: str = "") -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out += _fields(annotation, f"{prefix}{name}__")
        else:
            out.append((f"WENYUAN_{prefix}{name}".upper(), field.description))
    return out


def test_every_setting_has_a_description() -> None:
    undocumented = [name for name, description in _fields(Settings) if not description]

    assert undocumented == []


def test_every_setting_is_listed_in_the_configuration_page() -> None:
    readme = (ROOT / "docs" / "CONFIGURATION.md").read_text(encoding="utf-8")

    missing = [name for name, _ in _fields(Settings) if name not in readme]

    assert missing == []


def _reads_environment(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "environb"}:
            lines.append(node.lineno)
        if isinstance(node, ast.ImportFrom) and node.module == "os" and any(
            a.name in {"environ", "getenv"} for a in node.names
        ):
            lines.append(node.lineno)
    return lines


def test_no_module_but_settings_reads_the_environment() -> None:
    sources = [p for d in ("services", "indexing", "schemas", "dags", "deploy/local/stacklib")
               for p in (ROOT / d).rglob("*.py")]

    offenders = {str(p.relative_to(ROOT)): lines for p in sources
                 if p.name != "settings.py" and (lines := _reads_environment(p))}

    assert sources
    assert offenders == {}
