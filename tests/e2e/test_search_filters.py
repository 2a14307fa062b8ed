"""Filters people know (issue 17, item 4): facets of several values that keep the other values and their counts,
chips of the filters in use with "clear all", "show more" on a long facet, the API's sorts, a three-way reuse
choice said in words, the dynasty in the address and restored on reload, and on a phone a filter sheet with
"show N results"."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.collection import Collection
from tests.e2e.conftest import ARTIFACTS

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

BRONZES = {"jue", "ding", "mirror"}
JADES = {"bi", "cong"}


def titles(page: Page) -> set[str]:
    return set(page.locator("#results .card h3").all_inner_texts())


def named(collection: Collection, names: set[str]) -> set[str]:
    return {collection.title(n) for n in names}


def test_two_categories_at_once_keep_the_other_values_and_chips_remove_them(page: Page,
                                                                            collection: Collection) -> None:
    page.goto(collection.url("/"))
    category = page.get_by_role("group", name="Category")
    category.get_by_label(re.compile(r"^bronzes and copper objects")).check()
    expect(page.locator("#status")).to_have_text(re.compile(r"^3 results"))

    jade = category.get_by_label(re.compile(r"^jade, stone"))
    expect(jade).to_be_visible()  # the other values stay, with their counts as if bronzes were not chosen
    expect(category).to_contain_text(re.compile(r"jade, stone objects and gems \(2\)"))
    jade.check()

    expect(page.locator("#status")).to_have_text(re.compile(r"^5 results"))
    assert titles(page) == named(collection, BRONZES | JADES)
    assert len(re.findall("category=", page.url)) == 2
    chips = page.locator("#chips button.chip")
    expect(chips).to_have_count(2)

    page.get_by_role("button", name=re.compile(r"^Remove the filter Category: bronzes")).click()
    expect(page.locator("#status")).to_have_text(re.compile(r"^2 results"))
    assert titles(page) == named(collection, JADES)

    page.get_by_role("button", name="Clear all filters").click()
    expect(page).to_have_url(collection.url("/"))
    expect(page.locator("#status")).to_have_text("11 objects with pictures in the collections")
    expect(page.locator("#chips")).to_be_hidden()


def test_a_long_facet_shows_five_values_then_more(page: Page, collection: Collection) -> None:
    page.goto(collection.url("/"))
    category = page.get_by_role("group", name="Category")
    expect(category.locator("label:visible")).to_have_count(5)

    category.get_by_role("button", name="Show 1 more (Category)").click()

    expect(category.locator("label:visible")).to_have_count(6)
    expect(category.get_by_role("button", name="Show fewer (Category)")).to_have_attribute("aria-expanded", "true")


@pytest.mark.parametrize(("choice", "expected"), [
    ("Free to reuse", {"jue", "mirror", "bi", "cong", "bowl", "dish", "box"}),  # CC0
    ("Reuse with conditions", {"ding", "vase", "scroll"}),  # CC BY, InC-EDU
    ("Ask the holder", {"landscape"}),  # InC
])
def test_the_three_way_reuse_choice_finds_its_licences(page: Page, collection: Collection, choice: str,
                                                       expected: set[str]) -> None:
    page.goto(collection.url("/"))
    page.get_by_role("group", name="Can I reuse it?").get_by_label(choice).check()

    expect(page.locator("#status")).to_have_text(re.compile(rf"^{len(expected)} results"))
    assert titles(page) == named(collection, expected)
    expect(page).to_have_url(re.compile(r"reuse=(free|conditions|ask)"))
    expect(page.locator("#chips")).to_contain_text(choice)


def test_sorting_by_date_oldest_first_puts_the_neolithic_first(page: Page, collection: Collection) -> None:
    page.goto(collection.url("/?q=jade"))
    page.get_by_label("Sort by").select_option(label="Date, oldest first")

    expect(page).to_have_url(re.compile(r"sort=date"))
    expect(page.locator("#results .card h3").first).to_have_text(collection.title("cong"))
    page.get_by_label("Sort by").select_option(label="Date, newest first")
    expect(page.locator("#results .card h3").first).to_have_text(collection.title("bi"))
    page.reload()
    expect(page.get_by_label("Sort by")).to_have_value("-date")


def test_the_dynasty_is_kept_in_the_address_and_restored_on_reload(page: Page, collection: Collection) -> None:
    page.goto(collection.url("/"))
    song = page.evaluate("""() => [...document.querySelectorAll("#period-preset option")]
        .find(o => o.textContent.startsWith("Song (")).value""")
    page.get_by_label("Dynasty or age").select_option(song)

    expect(page).to_have_url(re.compile(r"period=[\w-]+"))
    expect(page.locator("#results .card h3", has_text=collection.title("bowl"))).to_be_visible()
    assert "year_from" not in page.url
    chosen = page.get_by_label("Dynasty or age").input_value()

    page.reload()

    expect(page.get_by_label("Dynasty or age")).to_have_value(chosen)
    expect(page.locator("#chips")).to_contain_text("Period: Song")
    assert collection.title("bowl") in titles(page) and collection.title("jue") not in titles(page)


def test_on_a_phone_the_filters_are_a_sheet_that_shows_n_results(browser: Browser, collection: Collection) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(collection.url("/"))
        expect(page.locator("#status")).to_contain_text("11 objects")
        page.locator("#filters > summary").click()
        page.get_by_role("group", name="Category").get_by_label(re.compile(r"^jade, stone")).check()

        show = page.get_by_role("button", name="Show 2 results")
        expect(show).to_be_in_viewport()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "360px-search-filter-sheet.png"))
        show.click()

        expect(page.locator("#filters")).not_to_have_attribute("open", "")
        expect(page.locator("#results .card").first).to_be_in_viewport()
        widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1]
        page.screenshot(path=str(ARTIFACTS / "360px-search-filter-sheet-results.png"), full_page=True)
        assert errors == []
    finally:
        context.close()
