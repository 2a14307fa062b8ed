"""Speed a person feels, measured in bytes (never time, which the machine's load decides): each page's first load
stays within its budget of bytes transferred, its scripts and styles come gzipped and cached immutably (a second
visit fetches none of them again), and pictures are lazy with their size given."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.collection import Collection
from tests.e2e.conftest import ARTIFACTS

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

KIB = 1024
# First visit, empty cache, bytes on the wire (headers included). Mirador's bundle (React with it) is most of the
# comparison page; OpenSeadragon and the tiles of the first view most of an asset's. Measured here: search 106 KiB,
# asset 248, console 50, viewer 747 (tests/artifacts/e2e/page-weight-*.json).
BUDGET = {"search": 200 * KIB, "asset": 400 * KIB, "console": 100 * KIB, "viewer": 1_000 * KIB}


@dataclass
class Traffic:
    """What the page fetched, from the DevTools protocol's network events."""

    responses: dict[str, dict[str, Any]] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    from_cache: set[str] = field(default_factory=set)

    def total(self) -> int:
        return sum(self.sizes.values())

    def of_type(self, *kinds: str) -> list[dict[str, Any]]:
        return [r for r in self.responses.values() if r["type"] in kinds]


def record(page: Page) -> Traffic:
    traffic = Traffic()
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.on("Network.responseReceived", lambda e: traffic.responses.__setitem__(e["requestId"], {
        "id": e["requestId"], "url": e["response"]["url"], "type": e["type"], "headers": e["response"]["headers"],
        "status": e["response"]["status"], "cached": e["response"].get("fromDiskCache", False)}))
    cdp.on("Network.requestServedFromCache", lambda e: traffic.from_cache.add(e["requestId"]))
    cdp.on("Network.loadingFinished", lambda e: traffic.sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])))
    return traffic


def paths(collection: Collection) -> dict[str, str]:
    jue = collection.ids["jue"]
    return {"search": "/?q=bronze", "asset": f"/assets/{jue}", "console": "/console",
            "viewer": f"/viewer?manifest={collection.url(f'/iiif/3/{jue}/manifest')}"}


def settle(page: Page, which: str) -> None:
    if which == "search":
        expect(page.locator("#results .card").first).to_be_visible()
    elif which == "asset":
        expect(page.locator("#viewer canvas").first).to_be_visible()
    elif which == "viewer":
        expect(page.locator(".mirador-window canvas").first).to_be_visible(timeout=30_000)
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("which", list(BUDGET))
def test_each_page_stays_within_its_byte_budget_with_scripts_compressed_and_cached(
        page: Page, collection: Collection, which: str) -> None:
    traffic = record(page)

    page.goto(collection.url(paths(collection)[which]))
    settle(page, which)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"page-weight-{which}.json").write_text(json.dumps(
        {"page": which, "bytes": traffic.total(), "budget": BUDGET[which], "requests": len(traffic.sizes)}))
    assert 0 < traffic.total() <= BUDGET[which], f"{which}: {traffic.total() / KIB:.0f} KiB"
    code = traffic.of_type("Script", "Stylesheet")
    assert code
    assert [r["url"] for r in code if r["headers"].get("content-encoding") != "gzip"] == []
    assert [r["url"] for r in code if "immutable" not in r["headers"].get("cache-control", "")] == []


def test_the_next_page_fetches_no_script_or_style_the_last_one_had(page: Page, collection: Collection) -> None:
    page.goto(collection.url(paths(collection)["search"]))
    settle(page, "search")
    seen = set(page.evaluate("() => performance.getEntriesByType('resource').map((e) => e.name)"))
    traffic = record(page)

    page.get_by_role("link", name=collection.title("jue")).click()
    settle(page, "asset")

    again = [r for r in traffic.of_type("Script", "Stylesheet") if r["url"] in seen]
    assert len(again) >= 5  # api.js, dom.js, i18n.js, messages.js, wenyuan.css…: shared by both pages
    assert [r["url"] for r in again if traffic.sizes.get(r["id"], 0) > 0 and r["id"] not in traffic.from_cache
            and not r["cached"]] == []


def test_the_asset_pages_pictures_are_lazy_and_its_own_images_sized(page: Page, collection: Collection) -> None:
    page.goto(collection.url(f"/assets/{collection.ids['jue']}"))
    settle(page, "asset")

    pictures = page.evaluate("""() => [...document.querySelectorAll("#asset img")].map((img) => ({
        src: img.currentSrc || img.dataset.src || "", loading: img.loading,
        width: img.getAttribute("width"), height: img.getAttribute("height") }))""")

    assert pictures
    assert [p for p in pictures if p["loading"] != "lazy" and "/iiif/" in p["src"]] == []
    assert [p for p in pictures if "/iiif/" not in p["src"] and not (p["width"] and p["height"])] == []


def test_result_cards_pictures_are_lazy_and_sized_before_they_arrive(page: Page, collection: Collection) -> None:
    page.goto(collection.url(paths(collection)["search"]))
    settle(page, "search")

    pictures = page.evaluate("""() => [...document.querySelectorAll("#results .card img")].map((img) => ({
        loading: img.loading, width: Number(img.getAttribute("width")), height: Number(img.getAttribute("height"))
    }))""")

    assert pictures
    assert all(p["loading"] == "lazy" for p in pictures)
    # the box each card keeps for its picture: at most 400 px on the longer side, never 0 (no jump as it loads)
    assert all(0 < p["width"] <= 400 and 0 < p["height"] <= 400 for p in pictures), pictures
