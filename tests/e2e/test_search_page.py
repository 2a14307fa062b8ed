"""The search page in a real browser: words, a facet, a picture, more results by the cursor, a curator's view."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.access import Member
from tests.e2e.collection import Collection, resized_copy
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

PUBLIC_BRONZES = {"jue", "ding", "mirror"}  # the restricted bronze ("vault") is for the holder's staff only


def card_titles(page: Page) -> list[str]:
    return page.locator("#results .card h3").all_inner_texts()


def test_a_search_then_a_category_facet_narrows_the_results_to_that_category(page: Page,
                                                                              collection: Collection) -> None:
    page.goto(collection.url("/"))
    page.get_by_label("Words in Chinese or English").fill("bronze")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("#status")).to_contain_text("results")
    before = card_titles(page)

    page.get_by_role("group", name="Category").get_by_label(re.compile(r"^bronzes and copper objects")).check()

    expect(page).to_have_url(re.compile(r"category=bronze"))
    expect(page.locator("#status")).to_have_text(re.compile(r"^3 results"))
    assert sorted(card_titles(page)) == sorted(collection.title(n) for n in PUBLIC_BRONZES)
    assert len(before) > 3


def test_a_chosen_picture_finds_the_object_it_shows_first(page: Page, collection: Collection, tmp_path: Path) -> None:
    photo = resized_copy(collection.files["bowl"], tmp_path / "my-photo.jpg")
    page.goto(collection.url("/"))

    page.get_by_label(re.compile("^Search by image")).set_input_files(photo)

    expect(page.locator("#status")).to_contain_text("look like your picture")
    expect(page.locator("#results .card h3").first).to_have_text(collection.title("bowl"))
    expect(page.get_by_role("img", name="Your picture: my-photo.jpg")).to_be_visible()


def test_the_end_of_the_results_coming_into_view_walks_the_cursor_until_all_are_shown(page: Page,
                                                                                     collection: Collection) -> None:
    visible = len(collection.ids) - 1  # all but the restricted object
    pages: list[str] = []
    page.on("request", lambda r: "/v1/search?" in r.url and pages.append(r.url))

    page.goto(collection.url("/?size=4"))
    page.locator("#sentinel").scroll_into_view_if_needed()

    expect(page.locator("#results .card")).to_have_count(visible)
    assert len(set(card_titles(page))) == visible
    assert ["cursor=" in url for url in pages] == [False, True, True]  # 4 + 4 + 3, each page from the last's `next`
    expect(page.get_by_role("button", name="More results")).to_be_hidden()
    expect(page.locator("#status")).to_have_text(f"{visible} objects with pictures in the collections")


def test_a_signed_in_curator_also_finds_the_institutions_restricted_object(page: Page, collection: Collection,
                                                                          holder_curator: Member) -> None:
    search = "/?q=" + "study collection beaker"
    page.goto(collection.url(search))
    expect(page.locator("#status")).not_to_have_text("Searching…")
    assert collection.title("vault") not in card_titles(page)

    sign_in(page, collection.base, holder_curator.key)
    page.goto(collection.url(search))

    expect(page.locator("#results .card h3", has_text=collection.title("vault"))).to_be_visible()
    expect(page.locator("#who")).to_contain_text(holder_curator.institution)
