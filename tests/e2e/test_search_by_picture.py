"""Search by picture (issue 17, item 8): the typed words go, the picture searched with is shown, and a region of
it, chosen on a canvas with the pointer or with the keyboard's number inputs, is what is uploaded (canvas.toBlob):
checked by the size of the image in the request."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.collection import Collection, resized_copy
from tests.e2e.conftest import ARTIFACTS

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


# Chromium gives Playwright no body of a multipart request with a file in it, so the page records, as each image
# search's form is built, the pixel size of the file put in it: what fetch() then sends.
RECORD_UPLOADS = """
window.__uploads = [];
const append = FormData.prototype.append;
FormData.prototype.append = function (name, value, ...rest) {
  if (name === "file" && value instanceof Blob) {
    const entry = { type: value.type, size: null };
    window.__uploads.push(entry);
    createImageBitmap(value).then((b) => { entry.size = [b.width, b.height]; });
  }
  return append.call(this, name, value, ...rest);
};
"""


def uploaded_sizes(page: Page, count: int) -> list[tuple[int, int]]:
    """The pixel sizes of the first `count` files the page uploaded to search with."""
    page.wait_for_function("n => window.__uploads.length >= n && window.__uploads.every(u => u.size)", arg=count)
    return [tuple(u["size"]) for u in page.evaluate("() => window.__uploads")]


def test_a_picture_clears_the_words_is_shown_and_is_sent_whole(page: Page, collection: Collection,
                                                                tmp_path: Path) -> None:
    photo = resized_copy(collection.files["bowl"], tmp_path / "my-photo.jpg")
    page.add_init_script(RECORD_UPLOADS)
    page.goto(collection.url("/?q=bronze"))
    expect(page.locator("#status")).to_contain_text("results")

    with page.expect_request(re.compile(r"/v1/search/image")):
        page.get_by_label(re.compile("^Search by image")).set_input_files(photo)

    assert uploaded_sizes(page, 1) == [(320, 240)]
    expect(page.get_by_label("Words in Chinese or English")).to_have_value("")
    expect(page).not_to_have_url(re.compile(r"q=bronze"))
    expect(page.get_by_role("img", name="Your picture: my-photo.jpg")).to_be_visible()
    expect(page.get_by_role("img", name="The picture, the region searched with outlined")).to_be_visible()
    expect(page.locator("#results .card h3").first).to_have_text(collection.title("bowl"))


def test_a_region_set_with_the_keyboard_is_what_is_uploaded(page: Page, collection: Collection,
                                                             tmp_path: Path) -> None:
    photo = resized_copy(collection.files["bowl"], tmp_path / "my-photo.jpg")
    page.add_init_script(RECORD_UPLOADS)
    page.goto(collection.url("/"))
    page.get_by_label(re.compile("^Search by image")).set_input_files(photo)
    expect(page.locator("#status")).to_contain_text("look like your picture")

    page.get_by_label("Left (%)").fill("25")
    page.get_by_label("Top (%)").fill("50")
    page.get_by_label("Width (%)").fill("50")
    page.get_by_label("Height (%)").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("50")
    with page.expect_request(re.compile(r"/v1/search/image")):
        page.keyboard.press("Enter")

    assert uploaded_sizes(page, 2)[1] == (160, 120)
    assert page.evaluate("() => window.__uploads[1].type") == "image/jpeg"
    expect(page.locator("#status")).to_contain_text("look like your picture")

    page.get_by_role("button", name="Whole picture").click()
    with page.expect_request(re.compile(r"/v1/search/image")):
        page.get_by_role("button", name="Search with this region").click()
    assert uploaded_sizes(page, 3)[2] == (320, 240)


def test_a_region_dragged_on_the_canvas_at_360_px_in_chinese(browser: Browser, collection: Collection,
                                                             tmp_path: Path) -> None:
    photo = resized_copy(collection.files["vase"], tmp_path / "photo.png", size=(400, 400))
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    context.add_init_script(RECORD_UPLOADS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(collection.url("/"))
        page.get_by_label(re.compile("^以图搜图")).set_input_files(photo)
        canvas = page.get_by_role("img", name="图片，检索所用区域已框出")
        expect(page.locator("#status")).to_contain_text("与您的图片相似")
        box = canvas.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 360

        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.99, box["y"] + box["height"] * 0.99, steps=4)
        page.mouse.up()
        expect(page.get_by_label("左边距（%）")).to_have_value("50")
        expect(page.get_by_label("宽度（%）")).to_have_value(re.compile(r"^(49|50)$"))
        with page.expect_request(re.compile(r"/v1/search/image")):
            page.get_by_role("button", name="用此区域检索").click()

        width, height = uploaded_sizes(page, 2)[1]
        assert 196 <= width <= 200 and 196 <= height <= 200
        expect(page.locator("#status")).to_contain_text("与您的图片相似")
        widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "360px-search-by-picture-region.png"), full_page=True)
        assert errors == []
    finally:
        context.close()
