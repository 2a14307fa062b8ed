"""The snapshot repository Settings.backup registers: fs locally (its directory, links followed), s3 in production."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.settings import BackupSettings, SnapshotRepository


def test_an_fs_repository_is_its_resolved_directory(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)

    settings = BackupSettings(location=tmp_path / "link")

    assert settings.repository_settings() == {"location": str((tmp_path / "real").resolve())}


def test_an_s3_repository_needs_its_bucket() -> None:
    with pytest.raises(ValueError, match="S3_BUCKET"):
        BackupSettings(repository_type=SnapshotRepository.S3).repository_settings()

    settings = BackupSettings(repository_type=SnapshotRepository.S3, s3_bucket="es-snapshots", s3_base_path="prod")

    assert settings.repository_settings() == {"bucket": "es-snapshots", "base_path": "prod"}
