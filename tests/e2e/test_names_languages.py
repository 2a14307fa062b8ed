"""Names, not ids; both languages all the way (issue 17, items 2 and 3), in a real browser.

Cards, facets, chips and the header name the holder and its region as the access store names them, in the
interface's language; the server sends each page in the reader's language from the first byte (lang, title,
description, Open Graph tags, the page's own texts: no flash of English, even with scripts off); the choice
made in the interface is a cookie the server honours; refusals come in the interface's language; an object
the visitor may not see is a real 404 page in both languages, which a signed-in holder gets past."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from services.access.db import Database
from services.access.names import Name, load
from tests.access import Member
from tests.e2e.collection import Collection
from tests.e2e.conftest import ARTIFACTS, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

ZH_SWITCH = "切换到中文界面"
EN_SWITCH = "Switch the interface to English"


@pytest.fixture(scope="module")
def holder_names(db: Database, collection: Collection) -> tuple[Name, Name]:
    """(the holder's names, its region's names), as the access store has them."""
    with db.session() as s:
        names = load(s)
    found, region = names.institution(collection.institution), names.region("CN-BJ")
    assert found is not None and region is not None
    return found, region


def test_cards_facets_and_chips_name_the_holder_and_region_in_the_interface_language(
        page: Page, collection: Collection, holder_names: tuple[Name, Name]) -> None:
    holder, region = holder_names
    page.goto(collection.url("/?q=bronze"))
    card = page.locator("#results .card").first

    expect(card.locator(".meta").first).to_contain_text(holder.en)
    expect(page.locator("#facets")).to_contain_text(holder.en)
    expect(page.locator("#facets")).to_contain_text(region.en)
    expect(page.locator("#facets")).to_contain_text("CC0 1.0 Universal Public Domain Dedication")
    page.locator("#facets").get_by_label(re.compile(re.escape(region.en))).check()
    expect(page.locator("#chips")).to_contain_text(region.en)

    page.get_by_role("button", name=ZH_SWITCH).click()

    expect(card.locator(".meta").first).to_contain_text(holder.zh)
    expect(page.locator("#facets")).to_contain_text(holder.zh)
    expect(page.locator("#chips")).to_contain_text(region.zh)
    expect(page.locator("#facets")).to_contain_text("CC0 1.0 通用公有领域贡献")
    assert not re.search(rf"{re.escape(collection.institution)}(?![馆 ])", page.locator("#results").inner_text())


def test_the_header_names_the_signed_in_curators_institution(page: Page, collection: Collection,
                                                            holder_curator: Member,
                                                            holder_names: tuple[Name, Name]) -> None:
    sign_in(page, collection.base, holder_curator.key)
    page.goto(collection.url("/"))

    expect(page.locator("#who")).to_contain_text(f"({holder_names[0].en})")
    page.get_by_role("button", name=ZH_SWITCH).click()
    expect(page.locator("#who")).to_contain_text(f"（{holder_names[0].zh}）")


def test_a_chinese_reader_gets_the_page_in_chinese_from_the_server_even_without_scripts(
        browser: Browser, collection: Collection, request: pytest.FixtureRequest) -> None:
    raw = httpx.get(collection.url("/"), headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    context = browser.new_context(locale="zh-CN", java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(collection.url("/"))

        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page).to_have_title("检索 · 文渊 Wenyuan")
        expect(page.get_by_role("heading", level=1)).to_have_text("检索馆藏")
        expect(page.get_by_role("button", name="检索", exact=True)).to_be_visible()
        expect(page.locator("#q")).to_have_attribute("placeholder", re.compile("玉璧"))
        expect(page.locator('meta[name="description"]')).to_have_attribute("content", re.compile("检索中国博物馆"))
        expect(page.locator('meta[property="og:locale"]')).to_have_attribute("content", "zh_CN")
        expect(page.locator('meta[property="og:title"]')).to_have_attribute("content", "检索 · 文渊 Wenyuan")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    finally:
        context.close()
    assert raw.headers["content-language"] == "zh" and '<html lang="zh-CN">' in raw.text
    assert "Search the collections" not in raw.text.split("<main", 1)[1]


def test_the_language_chosen_in_the_interface_is_the_language_the_server_sends(page: Page,
                                                                              collection: Collection) -> None:
    page.goto(collection.url("/"))
    page.get_by_role("button", name=ZH_SWITCH).click()

    answer = page.goto(collection.url("/console"))

    assert answer is not None and '<html lang="zh-CN">' in answer.text()
    assert "<title>机构控制台 · 文渊 Wenyuan</title>" in answer.text()
    page.get_by_role("button", name=EN_SWITCH).click()
    answer = page.goto(collection.url("/"))
    assert answer is not None and '<html lang="en">' in answer.text()


def test_the_asset_page_is_titled_and_previewed_by_its_object(page: Page, collection: Collection) -> None:
    answer = page.goto(collection.url(f"/assets/{collection.ids['jue']}?lang=zh"))

    assert answer is not None and answer.status == 200
    head = answer.text().split("</head>", 1)[0]
    assert "<title>青铜爵 · 文渊 Wenyuan</title>" in head
    thumbnail = f"{collection.base}/v1/assets/{collection.ids['jue']}/media/0/thumbnail"
    assert f'<meta property="og:image" content="{thumbnail}">' in head
    expect(page.get_by_role("heading", level=1)).to_have_text("青铜爵")


def test_a_refusal_comes_in_the_interface_language_with_the_same_problem_type(
        page: Page, collection: Collection, holder_names: tuple[Name, Name]) -> None:
    page.goto(collection.url("/"))
    page.get_by_role("button", name=ZH_SWITCH).click()
    module = page.locator('script[type="module"]').get_attribute("src") or ""
    url = f"/v1/assets/{collection.ids['landscape']}/media/0/original"

    said = page.evaluate("""async ([module, url]) => {
        const { api, showError } = await import(module.replace(/[^/]+$/, "api.js"));
        const box = document.createElement("div");
        document.querySelector("main").append(box);
        try { await api(url); } catch (error) { showError(box, error); return [error.problem.type, box.innerText]; }
        return null;
    }""", [module, url])

    assert said is not None
    problem_type, text = said
    assert problem_type == "https://wenyuan.dev/problems/tier-not-allowed"
    assert "受版权保护（InC）只让您获得此藏品的缩略图级别" in text
    assert f"收藏机构（{holder_names[0].zh}）的员工" in text  # by its name
    assert "gives you" not in text


@pytest.fixture
def zh_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def test_an_unknown_asset_is_a_404_page_in_both_languages(page: Page, zh_page: Page, collection: Collection) -> None:
    en = page.goto(collection.url("/assets/no-such-object"))
    zh = zh_page.goto(collection.url("/assets/no-such-object"))

    assert en is not None and en.status == 404 and zh is not None and zh.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("No such object here")
    expect(page).to_have_title("Not found · 文渊 Wenyuan")
    expect(zh_page.get_by_role("heading", level=1)).to_have_text("这里没有这件藏品")
    expect(zh_page).to_have_title("未找到 · 文渊 Wenyuan")
    expect(zh_page.get_by_role("link", name="检索馆藏")).to_have_attribute("href", "/")


def test_an_object_only_its_holder_sees_is_404_to_the_public_and_opens_for_the_holder_signed_in(
        page: Page, collection: Collection, holder_curator: Member) -> None:
    vault = collection.url(f"/assets/{collection.ids['vault']}")
    public = httpx.get(vault)
    sign_in(page, collection.base, holder_curator.key)

    page.goto(vault)

    assert public.status_code == 404 and "Bronze wine beaker" not in public.text
    expect(page).to_have_url(re.compile(r"\?signed-in=1$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(collection.title("vault"))


def test_the_asset_page_names_the_holder_and_credits_it_in_the_interface_language(
        page: Page, collection: Collection, holder_names: tuple[Name, Name]) -> None:
    holder, region = holder_names
    ding = collection.records["ding"]
    page.goto(collection.url(f"/assets/{collection.ids['ding']}"))
    credit = page.locator("#attribution")

    expect(page.locator("#record")).to_contain_text(holder.en)
    expect(page.locator("#record")).to_contain_text(region.en)
    expect(credit).to_have_text(re.compile(rf"^Bronze cauldron \(ding\)\. .*{re.escape(holder.en)}, {ding.object_id}\. "
                                           r"Creative Commons Attribution 4\.0 International \(https://"))
    expect(page.locator("#access")).to_contain_text("licence CC-BY-4.0 (audience: public)")

    page.get_by_role("button", name=ZH_SWITCH).click()

    expect(page.locator("#record")).to_contain_text(holder.zh)
    expect(page.locator("#record")).to_contain_text(region.zh)
    expect(credit).to_have_text(re.compile(rf"^《青铜鼎》，.*{re.escape(holder.zh)}藏，{ding.object_id}。"
                                           r"知识共享 署名 4\.0 国际许可协议"))
    expect(page.locator("#licence")).to_contain_text("知识共享 署名 4.0 国际许可协议")
    expect(page.locator("#access")).to_contain_text("许可 CC-BY-4.0（受众：公众）")


def test_the_console_names_the_curators_institution_not_its_id(page: Page, collection: Collection,
                                                               holder_curator: Member,
                                                               holder_names: tuple[Name, Name]) -> None:
    sign_in(page, collection.base, holder_curator.key)

    expect(page.locator("#session-who")).to_contain_text(f"of {holder_names[0].en}")
    page.get_by_role("button", name=ZH_SWITCH).click()
    expect(page.locator("#session-who")).to_contain_text(f"，{holder_names[0].zh} 的")
