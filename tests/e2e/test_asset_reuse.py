"""What a person reusing an object needs, in a real browser: licence, credit line and one download menu right under
the viewer at every width; the IIIF manifest linked by the drag-and-drop convention and opened in this site's own
Mirador; a share link; the viewer full screen with its controls; AI labels' models folded away."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.collection import Collection
from tests.e2e.conftest import ARTIFACTS

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def boxes(page: Page, *selectors: str) -> list[dict[str, float]]:
    return [page.locator(s).bounding_box() or {} for s in selectors]


@pytest.mark.parametrize("width", [360, 768, 1280])
def test_licence_credit_line_and_download_menu_come_right_under_the_viewer(
        browser: Browser, collection: Collection, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="en-GB")
    page = context.new_page()
    try:
        page.goto(collection.url(f"/assets/{collection.ids['jue']}"))
        expect(page.locator("#viewer canvas").first).to_be_visible()
        expect(page.locator("#attribution")).not_to_be_empty()

        viewer, reuse, record = boxes(page, "#viewer", "#reuse", "#record")

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"asset-reuse-under-viewer-{width}px.png"), full_page=True)
        below = reuse["y"] - (viewer["y"] + viewer["height"])
        assert 0 <= below < 160  # the viewer's note (and a strip of images) at most between them
        assert reuse["x"] == pytest.approx(viewer["x"], abs=20) and reuse["y"] < record["y"]
        assert page.get_by_role("group").filter(has=page.locator("summary", has_text="Download")).count() == 1
    finally:
        context.close()


def test_the_download_menu_gives_each_tier_with_its_format_and_size(page: Page, collection: Collection) -> None:
    page.goto(collection.url(f"/assets/{collection.ids['jue']}"))
    menu = page.locator("#download-menu")
    expect(menu.locator("summary")).to_have_text(re.compile(r"^Download \(3 available\)$"))

    menu.locator("summary").click()

    buttons = menu.get_by_role("button")
    expect(buttons).to_have_text(["Download thumbnail JPEG · 400 × 300 px", "Download preview JPEG · 1,600 × 1,200 px",
                                  re.compile(r"^Download original JPEG · 2,048 × 1,536 px · [\d.]+ KiB$")])
    with page.expect_download() as download:
        buttons.nth(1).click()
    assert download.value.suggested_filename == "E2E-00-preview.jpg"
    page.keyboard.press("Escape")
    expect(menu).not_to_have_attribute("open", "")
    expect(menu.locator("summary")).to_be_focused()


def test_a_tier_beyond_the_licence_is_in_the_menu_with_its_reason(page: Page, collection: Collection) -> None:
    page.goto(collection.url(f"/assets/{collection.ids['landscape']}"))
    menu = page.locator("#download-menu")
    expect(menu.locator("summary")).to_have_text(re.compile(r"\(1 available\)$"))

    menu.locator("summary").click()
    menu.get_by_role("button", name=re.compile(r"^preview: not in your access")).click()

    expect(menu.get_by_role("button", name=re.compile("^Download thumbnail"))).to_contain_text("400 × 300 px")
    expect(page.locator("#download-error").get_by_role("alert")).to_contain_text("gives you the thumbnail tier")


def test_the_iiif_logo_links_the_manifest_as_the_drag_and_drop_convention_has_it(
        page: Page, collection: Collection) -> None:
    asset_id = collection.ids["jue"]
    page.goto(collection.url(f"/assets/{asset_id}"))
    manifest = collection.url(f"/iiif/3/{asset_id}/manifest")

    link = page.get_by_role("link", name="IIIF manifest")

    expect(link).to_have_attribute("href", f"{manifest}?manifest={quote(manifest, safe='')}")
    expect(link.locator("img")).to_have_attribute("src", re.compile(r"/static/v/\w+/img/iiif-logo\.svg$"))
    assert link.locator("img").evaluate("img => img.naturalWidth") > 0
    body = httpx.get(link.get_attribute("href") or "").json()
    assert body["id"] == manifest and body["type"] == "Manifest"


def test_compare_in_mirador_opens_the_manifest_in_this_sites_mirador(page: Page, collection: Collection) -> None:
    asset_id = collection.ids["jue"]
    page.goto(collection.url(f"/assets/{asset_id}"))
    scripts: list[str] = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)

    page.get_by_role("link", name="Compare in Mirador").click()

    expect(page).to_have_url(re.compile(r"/viewer\?manifest="))
    window = page.locator(".mirador-window").first
    expect(window).to_contain_text(collection.title("jue"), timeout=30_000)
    expect(window.locator("canvas").first).to_be_visible()
    assert any(re.search(r"/static/v/\w+/build/mirador/mirador\.min\.js$", u) for u in scripts)
    assert all(u.startswith(collection.base) for u in scripts)


def test_two_manifests_open_side_by_side(page: Page, collection: Collection) -> None:
    a, b = (collection.url(f"/iiif/3/{collection.ids[n]}/manifest") for n in ("jue", "ding"))

    page.goto(collection.url(f"/viewer?manifest={quote(a, safe='')}&manifest={quote(b, safe='')}"))

    windows = page.locator(".mirador-window")
    expect(windows).to_have_count(2, timeout=30_000)
    expect(windows.nth(0)).to_contain_text(collection.title("jue"))
    expect(windows.nth(1)).to_contain_text(collection.title("ding"))
    first, second = (windows.nth(i).bounding_box() or {} for i in (0, 1))
    assert first["x"] + first["width"] <= second["x"] + 1  # beside each other


def test_the_share_button_copies_the_pages_address(page: Page, collection: Collection) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=collection.base)
    asset_id = collection.ids["bowl"]
    page.goto(collection.url(f"/assets/{asset_id}?from=search"))

    page.get_by_role("button", name="Copy link to this page").click()

    expect(page.locator("#copy-status")).to_have_text("Link copied.")
    assert page.evaluate("() => navigator.clipboard.readText()") == collection.url(f"/assets/{asset_id}")


def test_the_viewer_goes_full_screen_with_its_labelled_controls(page: Page, collection: Collection) -> None:
    page.goto(collection.url(f"/assets/{collection.ids['jue']}"))
    expect(page.locator("#viewer canvas").first).to_be_visible()
    tools = page.get_by_role("toolbar", name="Image controls")

    tools.get_by_role("button", name="Full screen").click()

    page.wait_for_function("() => document.fullscreenElement?.id === 'viewer-frame'")
    expect(tools.get_by_role("button")).to_have_text(["Zoom in", "Zoom out", "Whole image", "Leave full screen"])
    viewer = page.locator("#viewer").bounding_box() or {}
    assert viewer["height"] > 600  # the image takes the screen
    tools.get_by_role("button", name="Zoom in").click()
    tools.get_by_role("button", name="Leave full screen").click()
    page.wait_for_function("() => document.fullscreenElement === null")
    expect(tools.get_by_role("button", name="Full screen")).to_be_visible()


def test_ai_labels_fold_their_model_away(page: Page, collection: Collection) -> None:
    page.goto(collection.url(f"/assets/{collection.ids['dish']}"))
    label = page.locator("#ai-labels li").first
    model = label.locator("details.model")
    expect(label).to_contain_text("confidence")
    expect(model).not_to_have_attribute("open", "")
    expect(model.locator("summary")).to_have_text("Model")

    model.locator("summary").click()

    expect(model).to_contain_text("@")  # name@version of the model that said so
