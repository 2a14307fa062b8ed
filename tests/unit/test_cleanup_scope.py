"""What a session-scoped fixture makes is kept until the session ends (tests/cleanup.py, tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests import cleanup


@pytest.fixture(scope="session")
def made_by_a_session_fixture() -> str:
    cleanup.record("institutions", ["session-made-by-the-scope-test"])
    return "session-made-by-the-scope-test"


def test_what_a_session_fixture_makes_is_not_purged_with_the_module(made_by_a_session_fixture: str) -> None:
    session, module = cleanup.SESSION_REGISTRY.institutions, cleanup.REGISTRY.institutions
    found = made_by_a_session_fixture in session, made_by_a_session_fixture in module
    session.discard(made_by_a_session_fixture)  # nothing to purge: it was only recorded
    module.discard(made_by_a_session_fixture)
    assert found == (True, False)
