"""deploy/local's installer: pinned versions, and missing tools named with their fix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stacklib import install
from stacklib.procs import StackError


def _fake_jdk(root: Path, version: str) -> Path:
    home = root / f"jdk-{version}"
    (home / "bin").mkdir(parents=True)
    java = home / "bin" / "java"
    java.write_text(f'#!/bin/sh\necho \'openjdk version "{version}" 2025-01-01\' >&2\n')
    java.chmod(0o755)
    return home


def test_versions_pin_elasticsearch_9_with_a_sha512() -> None:
    v = install.versions()

    assert v["ELASTICSEARCH_VERSION"].startswith("9.")
    assert re.fullmatch(r"[0-9a-f]{128}", v["ELASTICSEARCH_ZIP_SHA512"])
    assert v["AIRFLOW_VERSION"].startswith("3.")
    assert re.fullmatch(r"v\d+\.\d+\.\d+", v["VERSITYGW_VERSION"])


def test_java_home_prefers_a_jdk_of_21_or_newer(tmp_path: Path) -> None:
    _fake_jdk(tmp_path, "17.0.15")
    newer = _fake_jdk(tmp_path, "25.0.3")

    assert install.java_home(None, {}, search=tmp_path) == newer


def test_only_an_old_jdk_gives_a_message_naming_the_fix(tmp_path: Path) -> None:
    old = _fake_jdk(tmp_path, "17.0.15")

    with pytest.raises(StackError) as excinfo:
        install.java_home(None, {"JAVA_HOME": str(old)}, search=tmp_path / "none")

    assert "Java 21 or newer" in str(excinfo.value)
    assert "Java 17" in str(excinfo.value)
    assert "WENYUAN_STACK__JAVA_HOME" in str(excinfo.value)


def test_missing_go_gives_a_message_naming_the_fix(tmp_path: Path) -> None:
    with pytest.raises(StackError, match=r"Go .* is needed .*\n.*Fix: install Go"):
        install.go_command(path=str(tmp_path), fallback=str(tmp_path))


def test_lock_file_pins_every_package_with_hashes() -> None:
    lock = (Path(__file__).resolve().parents[2] / "requirements.lock").read_text()
    requirements = [line for line in lock.splitlines() if line and not line.startswith((" ", "#"))]

    assert len(requirements) > 100
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[^ ]+ \\", r) for r in requirements), requirements[:3]
    assert lock.count("--hash=sha256:") >= len(requirements)
