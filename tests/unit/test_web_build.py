"""The web UI's front-end build (deploy/local/stacklib/install.py: web_ui): pinned, checked, done once per lock."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from stacklib import install
from stacklib.procs import StackError

LOCK = json.loads((install.WEB / "package-lock.json").read_text())


def _web_copy(tmp_path: Path) -> Path:
    web = tmp_path / "web"
    web.mkdir()
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(install.WEB / name, web / name)
    return web


def test_the_lock_pins_every_package_with_an_sha512_integrity() -> None:
    manifest = json.loads((install.WEB / "package.json").read_text())
    packages = {path: entry for path, entry in LOCK["packages"].items() if path}

    assert LOCK["lockfileVersion"] == 3
    assert packages and all(re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", e["integrity"]) for e in packages.values())
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", v) for v in manifest["dependencies"].values())  # exact versions


def test_the_build_holds_openseadragon_at_the_locked_version() -> None:
    build = install.WEB / "static" / "build"
    version = LOCK["packages"]["node_modules/openseadragon"]["version"]

    assert f"openseadragon {version}" in (build / "openseadragon" / "openseadragon.min.js").read_text()[:200]
    assert (build / "openseadragon" / "images" / "zoomin_rest.png").is_file()
    assert (build / ".lock.sha256").read_text().strip() == install._web_fingerprint(install.WEB)


def test_a_build_made_from_the_same_lock_is_not_made_again(tmp_path: Path) -> None:
    web = _web_copy(tmp_path)
    (web / "static" / "build").mkdir(parents=True)
    (web / "static" / "build" / ".lock.sha256").write_text(install._web_fingerprint(web) + "\n")

    build = install.web_ui(tmp_path / "cache", web=web, path=str(tmp_path / "no-npm-here"))  # npm would be needed

    assert build == web / "static" / "build"


def test_a_changed_lock_needs_npm_and_without_it_the_message_names_the_fix(tmp_path: Path) -> None:
    web = _web_copy(tmp_path)
    (web / "static" / "build").mkdir(parents=True)
    (web / "static" / "build" / ".lock.sha256").write_text("a fingerprint of another lock\n")

    with pytest.raises(StackError, match=r"npm .* is needed to build the web UI.*\n.*Fix: install Node.js"):
        install.web_ui(tmp_path / "cache", web=web, path=str(tmp_path / "no-npm-here"))
