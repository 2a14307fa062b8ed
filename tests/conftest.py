"""Fixtures for every test. Integration tests need the stack that `make up` starts."""

from __future__ import annotations

import sys
from collections.abc import Generator, Iterator

import pytest

from services.settings import Settings, get_settings
from tests import cleanup
from tests.helpers import ROOT

sys.path.insert(0, str(ROOT / "deploy" / "local"))  # the stack tool's package, `stacklib`


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


class _FixtureScope:
    """Tells tests.cleanup the scope of the fixture being set up, so what a session fixture makes outlives
    the module that first asked for it. A plugin, not a hook of this conftest: pytest sets a session fixture
    up through the session node's hooks, which a conftest below the rootdir does not reach."""

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef: pytest.FixtureDef[object]) -> Generator[None, object, object]:
        token = cleanup.SCOPE.set(fixturedef.scope)
        try:
            return (yield)
        finally:
            cleanup.SCOPE.reset(token)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(_FixtureScope(), "wenyuan-fixture-scope")


@pytest.fixture(scope="session", autouse=True)
def _remove_what_the_session_made(settings: Settings) -> Iterator[None]:
    yield
    made = cleanup.SESSION_REGISTRY.take()
    made.institutions |= cleanup.REGISTRY.institutions
    made.apps |= cleanup.REGISTRY.apps
    made.regions |= cleanup.REGISTRY.regions
    cleanup.REGISTRY.take()
    if made:
        cleanup.purge_with_settings(made, settings)


@pytest.fixture(scope="module", autouse=True)
def _remove_what_the_module_made(settings: Settings) -> Iterator[None]:
    """When a module ends, remove every institution, app and region tests/access.py made for it, with their
    documents, objects and rows (tests.cleanup). Unit tests make none, so they never reach a service."""
    yield
    made = cleanup.REGISTRY.take()
    if made:
        cleanup.purge_with_settings(made, settings)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The check that the suite leaves nothing behind runs after everything else."""
    last = [item for item in items if item.path.name == "test_leaves_nothing.py"]
    items[:] = [item for item in items if item not in last] + last
