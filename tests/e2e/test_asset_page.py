"""An asset's page in a real browser: opened from the results, zoomed over IIIF tiles, downloads allowed and
refused, a curator's decision on an AI label."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, Response, expect

from tests.access import Member
from tests.e2e.collection import MARKUP, Collection
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

TILE = re.compile(r"/iiif/3/[^/]+/(\d+),(\d+),(\d+),(\d+)/(\d+),(\d+)/0/default\.jpg$")


def full_resolution_tile(response: Response) -> bool:
    """A tile of the image at its own resolution (region as wide as the output), served."""
    match = TILE.search(response.url)
    return bool(match) and match[3] == match[5] and response.status == 200


def test_an_asset_opened_from_the_results_zooms_in_over_iiif_tiles(page: Page, collection: Collection) -> None:
    page.goto(collection.url("/?q=jue"))
    page.get_by_role("link", name=collection.title("jue")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(collection.title("jue"))
    expect(page.locator("#viewer canvas").first).to_be_visible()

    with page.expect_response(full_resolution_tile, timeout=30_000):
        for _ in range(4):
            page.get_by_role("button", name="Zoom in").click()

    expect(page.locator("#viewer-note")).to_contain_text("2,048 × 1,536")


def test_a_download_the_licence_does_not_allow_shows_the_reason_and_who_would_allow_it(
        page: Page, collection: Collection) -> None:
    page.goto(collection.url(f"/assets/{collection.ids['landscape']}"))
    page.locator("#download-menu summary").click()

    page.get_by_role("button", name=re.compile(r"^original: not in your access")).click()

    alert = page.locator("#download-error").get_by_role("alert")
    expect(alert).to_contain_text("Not allowed")
    expect(alert).to_contain_text("In Copyright (InC) gives you the thumbnail tier")
    expect(alert).to_contain_text(f"Would allow it: staff of the holding institution ({collection.institution} museum)")


def test_an_allowed_download_saves_the_original_file(page: Page, collection: Collection) -> None:
    page.goto(collection.url(f"/assets/{collection.ids['bowl']}"))
    page.locator("#download-menu summary").click()

    with page.expect_download() as download:
        page.get_by_role("button", name="Download original").click()

    assert download.value.suggested_filename == "E2E-06-original.jpg"
    assert download.value.path().read_bytes() == collection.files["bowl"].read_bytes()


def test_a_curator_accepts_an_ai_label_and_it_becomes_the_curators_data(page: Page, collection: Collection,
                                                                       holder_curator: Member) -> None:
    asset_id = collection.ids["box"]
    label = collection.records["box"].ai.labels[0]  # type: ignore[union-attr]
    sign_in(page, collection.base, holder_curator.key)
    page.goto(collection.url(f"/assets/{asset_id}"))
    item = page.locator(f"#ai-labels li[data-label='{label.id}']")
    expect(item).to_contain_text("suggested")

    item.get_by_role("button", name=re.compile(r"^Accept the label")).click()

    expect(item).to_contain_text("accepted by a curator")
    expect(page.locator("#ai-labels [role=status]")).to_contain_text("accepted")
    body = httpx.get(collection.url(f"/v1/assets/{asset_id}"),
                     headers={"Authorization": f"Bearer {holder_curator.key}"}).json()
    assert label.id in body["record"]["category_ids"] + body["record"]["material_ids"]
    assert next(a for a in body["ai"]["labels"] if a["id"] == label.id)["status"] == "accepted"


def test_a_visitor_sees_ai_labels_as_suggestions_without_decision_buttons(page: Page, collection: Collection) -> None:
    page.goto(collection.url(f"/assets/{collection.ids['dish']}"))

    panel = page.get_by_role("region", name=re.compile("^Suggested by AI"))
    expect(panel.locator("li").first).to_contain_text("confidence")
    expect(panel.locator("meter").first).to_have_attribute("max", "1")
    expect(panel.get_by_role("button")).to_have_count(0)


def test_markup_in_a_record_is_shown_as_text_and_never_run(page: Page, collection: Collection) -> None:
    page.goto(collection.url("/?q=lacquer"))
    card = page.locator("#results .card", has_text="Carved red lacquer box")
    expect(card.locator("mark").first).to_have_text("lacquer")  # the highlight, the only element made of it
    assert card.locator("img[src=x], script, b").count() == 0

    page.goto(collection.url(f"/assets/{collection.ids['box']}"))

    expect(page.locator("#record")).to_contain_text(MARKUP)
    expect(page.locator("#record")).to_contain_text("<i>workshop</i> & sons")
    assert page.locator("#record img, #record script, #record b, #results b").count() == 0
    assert page.evaluate("() => window.__xss") is None
