"""The search page is honest (issue 17, item 1): nothing found says so with what to try; a failed search says why
in the reader's language, from the problem+json, and shows nothing of the search before; snippets are not the
title again."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.collection import Collection

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

RAW = re.compile(r"Internal Server Error|year_to \(|query\.|characters long|Traceback", re.I)


def test_nothing_found_says_so_with_suggestions_and_clearing_the_filters_finds_again(page: Page,
                                                                                     collection: Collection) -> None:
    page.goto(collection.url("/?q=bronze&year_from=1900&year_to=1950"))

    expect(page.locator("#none h3")).to_have_text("Nothing found for “bronze”")
    expect(page.locator("#none")).to_contain_text("Use fewer filters")
    expect(page.locator("#none")).to_contain_text("in Chinese")
    expect(page.locator("#none")).to_contain_text("spelling")
    expect(page.locator("#results .card")).to_have_count(0)

    expect(page.locator("#chips")).to_contain_text("Period:")  # the filters in use, as chips, too
    page.locator("#none").get_by_role("button", name="Clear all filters").click()

    expect(page).to_have_url(collection.url("/?q=bronze"))
    expect(page.locator("#status")).to_have_text(re.compile(r"^\d+ results"))
    expect(page.locator("#none")).to_be_hidden()


def test_the_count_is_the_apis_total_and_no_snippet_repeats_its_cards_title(page: Page,
                                                                            collection: Collection) -> None:
    with page.expect_response(re.compile(r"/v1/search\?")) as answer:
        page.goto(collection.url("/?q=bronze"))
    total = answer.value.json()["total"]

    expect(page.locator("#status")).to_have_text(re.compile(rf"^{total} results"))
    cards = page.locator("#results .card")
    expect(cards.first).to_be_visible()
    for i in range(cards.count()):
        title = cards.nth(i).locator("h3").inner_text().casefold()
        for snippet in cards.nth(i).locator(".snippet").all_inner_texts():
            assert title not in snippet.casefold() and snippet.casefold() not in title


def test_a_reversed_year_range_is_explained_in_chinese_and_the_stale_facets_go(page: Page,
                                                                               collection: Collection) -> None:
    page.goto(collection.url("/?q=bronze"))
    page.get_by_role("button", name="切换到中文界面").click()
    expect(page.locator("#facets fieldset").first).to_be_visible()

    page.get_by_label("起始年份").fill("500")
    page.get_by_label("结束年份").fill("-500")
    page.get_by_role("button", name="应用年代").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("年代范围颠倒了：起始年份（500年）晚于结束年份（公元前500年）")
    expect(page.locator("#facets fieldset")).to_have_count(0)
    expect(page.locator("#results .card")).to_have_count(0)
    assert not RAW.search(page.locator("main").inner_text())


def test_the_apis_own_422_for_a_reversed_range_is_shown_in_words_too(page: Page, collection: Collection) -> None:
    answers: list[int] = []
    page.on("response", lambda r: "/v1/search?" in r.url and answers.append(r.status))
    page.goto(collection.url("/"))
    # As a link made elsewhere would ask it: the API's refusal, not the page's check.
    page.evaluate("""async () => {
        const { api } = await import("/static/js/api.js");
        const { showSearchError } = await import("/static/js/search-problems.js");
        try { await api("/v1/search?q=bronze&year_from=500&year_to=-500"); }
        catch (e) { showSearchError(document.getElementById("error"), e, { yearFrom: "500", yearTo: "-500" }); }
    }""")

    expect(page.get_by_role("alert")).to_contain_text("The period runs backwards: “from” (500) is after “to” (500 BCE)")
    assert 422 in answers or 400 in answers
    assert not RAW.search(page.locator("main").inner_text())


def test_a_3000_character_query_is_refused_in_words_without_a_dump(page: Page, collection: Collection) -> None:
    page.goto(collection.url("/?q=" + "bronze " * 428 + "ding"))  # 3,000 characters

    expect(page.get_by_role("alert")).to_contain_text("Your words are too long (3,000 characters)")
    expect(page.locator("#facets fieldset")).to_have_count(0)
    assert not RAW.search(page.locator("main").inner_text())


def test_a_server_failure_is_a_friendly_message_never_internal_server_error(page: Page,
                                                                            collection: Collection) -> None:
    page.goto(collection.url("/?q=bronze"))
    expect(page.locator("#facets fieldset").first).to_be_visible()

    def broken(route: Route) -> None:  # the gateway's own 500 body, as errors.internal_error writes it
        route.fulfill(status=500, content_type="application/problem+json", body=json.dumps(
            {"type": "about:blank", "title": "Internal Server Error", "status": 500,
             "detail": "ConnectionError: Traceback …"}))

    page.route(re.compile(r"/v1/search\?"), broken)
    page.get_by_label("Words in Chinese or English").fill("jade")
    page.get_by_role("button", name="Search", exact=True).click()

    expect(page.get_by_role("alert")).to_contain_text("The search is not working just now")
    expect(page.locator("#status")).to_have_text("The search did not run.")
    expect(page.locator("#facets fieldset")).to_have_count(0)
    expect(page.locator("#results .card")).to_have_count(0)
    assert not RAW.search(page.locator("main").inner_text())
