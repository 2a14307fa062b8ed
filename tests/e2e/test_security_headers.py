"""The pages work under their Content-Security-Policy (services/gateway/security.py, routers/web.py): the search page,
an asset's page (OpenSeadragon over IIIF tiles), the console and /docs (Swagger UI with its inline start-up script
allowed by hash) render and run with no violation — each `securitypolicyviolation` event in the page is collected,
and the `page` fixture fails a test on any CSP message in the console too. Each page is sent with nosniff, no
framing and a referrer policy."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Response, expect

from tests.e2e.collection import Collection

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

COLLECT_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(
    `${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`));
"""


def _open(page: Page, url: str) -> Response:
    page.add_init_script(COLLECT_VIOLATIONS)
    response = page.goto(url)
    assert response is not None and response.ok, url
    return response


def _assert_hardened(response: Response) -> None:
    headers = response.headers
    policy = headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy, policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] in ("same-origin", "strict-origin-when-cross-origin", "no-referrer")


def _violations(page: Page) -> list[str]:
    page.wait_for_timeout(300)  # violation events are dispatched asynchronously
    found: list[str] = page.evaluate("window.__violations")
    return found


def test_the_search_page_searches_under_its_policy(page: Page, collection: Collection) -> None:
    response = _open(page, collection.url("/?q=bronze"))

    expect(page.locator("#status")).to_contain_text("results")

    _assert_hardened(response)
    assert _violations(page) == []


def test_an_asset_page_zooms_its_image_under_its_policy(page: Page, collection: Collection) -> None:
    response = _open(page, collection.url(f"/assets/{collection.ids['jue']}"))

    expect(page.get_by_role("heading", level=1)).to_have_text(collection.title("jue"))
    expect(page.locator("#viewer canvas").first).to_be_visible()

    _assert_hardened(response)
    assert _violations(page) == []


def test_the_console_shows_its_sign_in_under_its_policy(page: Page, collection: Collection) -> None:
    response = _open(page, collection.url("/console"))

    expect(page.locator("#api-key")).to_be_visible()

    _assert_hardened(response)
    assert _violations(page) == []


def test_swagger_ui_renders_the_api_from_this_origin_under_its_policy(page: Page, collection: Collection) -> None:
    response = _open(page, collection.url("/docs"))

    expect(page.locator(".opblock").first).to_be_visible()
    page.locator(".opblock-summary").first.click()  # expands one operation: the UI runs, not only loads
    expect(page.locator(".opblock-body").first).to_be_visible()

    _assert_hardened(response)
    assert "script-src 'self' 'sha256-" in response.headers["content-security-policy"]
    assert _violations(page) == []
