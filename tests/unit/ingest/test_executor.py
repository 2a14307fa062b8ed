"""The warm LocalExecutor's workers warm again when a warmed source file changed (services/ingest/executor.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from services.ingest import executor


def test_a_worker_warms_again_only_when_a_warmed_file_changed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    source = tmp_path / "module.py"
    source.write_text("x = 1\n")
    warmed: list[bool] = []
    monkeypatch.setattr(executor, "_warm_and_freeze", lambda: warmed.append(True))
    monkeypatch.setattr(sys, "modules", dict(sys.modules))  # the purge must not touch this test process
    monkeypatch.setattr(executor, "_warmed", {str(source): source.stat().st_mtime})

    assert executor.rewarm_if_stale() is False
    assert warmed == []

    source.write_text("x = 2\n")
    executor._warmed[str(source)] -= 10  # as if it had been warmed from an older version

    assert executor.rewarm_if_stale() is True
    assert warmed == [True]
    assert not any(name.split(".", 1)[0] == "indexing" for name in sys.modules)


def test_a_worker_that_never_warmed_has_nothing_to_compare(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(executor, "_warmed", {})
    assert executor.rewarm_if_stale() is False


def test_the_project_files_it_watches_are_the_imported_modules_of_the_checkout() -> None:
    files = executor._project_files()
    assert str(Path(executor.__file__).resolve()) in {str(Path(f).resolve()) for f in files}
    assert all(Path(f).resolve().is_relative_to(executor._ROOT) for f in files)
