"""Every route of the gateway is documented in the README or docs/ (datasette's test_docs.py, in miniature)."""

from __future__ import annotations

import re

from services.gateway.app import create_app
from tests.helpers import ROOT


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_every_route_is_named_in_the_readme() -> None:
    pages = [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]
    readme = _shape("\n".join(p.read_text(encoding="utf-8") for p in pages))
    paths = {_shape(p) for p in create_app().openapi()["paths"]}

    missing = sorted(p for p in paths if p not in readme)

    assert paths
    assert missing == []
