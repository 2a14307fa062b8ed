"""The Layout section of the README names only paths that exist."""

from __future__ import annotations

import re

from tests.helpers import ROOT


def _layout() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Layout\n", 1)[1]
    return section.split("```", 2)[1]


def test_every_path_the_layout_names_exists() -> None:
    missing = []
    top = ""
    for line in _layout().splitlines():
        if re.match(r"^[\w.-]+/", line):
            top = line.split("/", 1)[0]
            if not (ROOT / top).is_dir():
                missing.append(top)
        for name in re.findall(r"(?<![\w`])([\w-]+(?:/|\.py|\.env))(?=[\s,):]|$)", line):
            if name.startswith(top + "/") or name == top + "/":
                continue
            if not any((ROOT / top).glob(f"**/{name.rstrip('/')}")):
                missing.append(f"{top}/{name}")

    assert top
    assert missing == []
