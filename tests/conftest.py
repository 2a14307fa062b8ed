"""Fixtures for every test. Integration tests need the stack that `make up` starts."""

from __future__ import annotations

import sys

import pytest

from services.settings import Settings, get_settings
from tests.helpers import ROOT

sys.path.insert(0, str(ROOT / "deploy" / "local"))  # the stack tool's package, `stacklib`


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()
