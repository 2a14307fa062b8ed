"""Browser tests: Debian's chromium, headless, driven by Playwright (Python), against gateways of the tests' own.

The browser is the machine's /usr/bin/chromium (deploy/local installs it); Playwright never downloads one.
Each test gets a fresh browser context (its own sessionStorage and localStorage) and leaves a screenshot of
its last state in tests/artifacts/e2e/<test>.png. A page error (an uncaught exception) or a Content Security
Policy violation fails the test that caused it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from minio import Minio
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from indexing.enrich import Enricher
from schemas.access import Role
from services.access.db import Database
from services.settings import Settings
from services.storage import ensure_buckets
from tests.access import Member, make_institution, staff_key
from tests.e2e.collection import Collection, build, remove
from tests.helpers import ROOT
from tests.integration.conftest import db, enricher, es, s3, stack_is_ready  # noqa: F401  (the stack's fixtures)
from tests.integration.live import live_gateway

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling Google's hosts, which this closed network
# refuses; a fresh profile per launch (Playwright's default) keeps runs apart.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "tests" / "artifacts" / "e2e"


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (deploy/local/stacklib/install.py)",
                    pytrace=False)
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
    yield browser
    browser.close()


class Problems:
    """What went wrong inside the page: uncaught errors and refused content (CSP)."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.errors.append(f"CSP: {message.text}")

    def page_error(self, error: Exception) -> None:
        self.errors.append(f"page error: {error}")


def _shot_name(request: pytest.FixtureRequest) -> str:
    return re.sub(r"[^\w.-]+", "_", request.node.name)[:150]


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page of a fresh context, 1280×900, English unless a test switches."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", accept_downloads=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    problems = Problems()
    page.on("console", problems.console)
    page.on("pageerror", problems.page_error)
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=str(ARTIFACTS / f"{_shot_name(request)}.png"), full_page=True)
    finally:
        context.close()
    assert problems.errors == []


@pytest.fixture(scope="session")
def browser_cors(s3: Minio, settings: Settings) -> None:  # noqa: F811
    """The bucket CORS the stack sets when S3 starts, applied here too (idempotent) for a server started before."""
    ensure_buckets(s3, settings.s3, browser_origin=settings.gateway.public_url)


@pytest.fixture(scope="session")
def holder(db: Database) -> str:  # noqa: F811
    """The institution that holds the collection (in CN-BJ)."""
    return make_institution(db, "CN-BJ", institution=f"e2e-{uuid.uuid4().hex[:10]}")


@pytest.fixture(scope="session")
def holder_curator(db: Database, holder: str) -> Member:  # noqa: F811
    return staff_key(db, holder, Role.CURATOR)


@pytest.fixture(scope="session")
def collection(es: Elasticsearch, s3: Minio, settings: Settings, enricher: Enricher, holder: str,  # noqa: F811
               browser_cors: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collection]:
    work = tmp_path_factory.mktemp("collection")
    scoped, ids, files, records = build(es, s3, settings, enricher, holder, work)
    try:
        with live_gateway(scoped) as base:
            yield Collection(base, scoped, holder, ids, files, records)
    finally:
        remove(es, s3, settings, scoped, holder)


def sign_in(page: Page, base: str, key: str) -> None:
    """Sign in through the console's form, as a person does; the key then lives in this tab's sessionStorage."""
    page.goto(base + "/console")
    page.locator("#api-key").fill(key)
    page.locator("#signin-form button[type=submit]").click()
    page.locator("#session-panel").wait_for()
