"""The console's review of a batch's AI labels and its progress by stage, in a real browser: each object under
review with its thumbnail and title, the keyboard shortcuts the page lists, accepting every suggested label of the
batch after being told how many, the review buttons named as they read, and a running batch's stages with counts,
elapsed time and ETA."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from minio import Minio
from playwright.sync_api import Page, expect

from services.ingest.batches import BatchProgress, BatchRecord, BatchState, record_key, save_batch
from services.settings import Settings
from services.uploader import Uploader
from tests.e2e.axe import axe_violations
from tests.e2e.conftest import sign_in
from tests.e2e.test_console import Console, console  # noqa: F401  (the console's gateway and curator)
from tests.factories import make_good_batch
from tests.integration.uploading import ingest

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]


@dataclass
class Reviewed:
    batch_id: str
    items: list[dict[str, Any]]


@pytest.fixture(scope="module")
def reviewed(console: Console, tmp_path_factory: pytest.TempPathFactory) -> Reviewed:  # noqa: F811
    """Three objects ingested through the real DAG, their labels all suggested."""
    uploader = Uploader(console.base, console.curator.key)
    try:
        folder = make_good_batch(tmp_path_factory.mktemp("review"), 3, prefix="REV", seed=94)
        batch, items = ingest(uploader, folder, console.curator.institution)
    finally:
        uploader.close()
    assert batch["state"] == "succeeded", batch
    return Reviewed(batch["batch_id"], items)


def labels_of(console: Console, asset_id: str) -> list[dict[str, Any]]:  # noqa: F811
    body = httpx.get(f"{console.base}/v1/assets/{asset_id}", headers={"Authorization": f"Bearer {console.curator.key}"})
    return list(body.json()["ai"]["labels"])


def open_report(page: Page, console: Console, reviewed: Reviewed) -> None:  # noqa: F811
    sign_in(page, console.base, console.curator.key)
    page.get_by_role("button", name=f"Report of batch {reviewed.batch_id}").click()
    expect(page.locator("#report tbody tr[data-status=indexed]")).to_have_count(3)


def test_each_review_shows_the_objects_thumbnail_and_title(page: Page, console: Console,  # noqa: F811
                                                           reviewed: Reviewed) -> None:
    open_report(page, console, reviewed)
    item = reviewed.items[0]

    page.get_by_role("button", name=f"Review AI labels of {item['object_id']}").click()

    cell = page.locator(f"#report td[data-review='{item['asset_id']}']")
    thumb = cell.locator(".review-object img")
    expect(thumb).to_be_visible()
    # a signed-in page fetches it with the key
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    assert int(thumb.get_attribute("width") or 0) <= 96 and int(thumb.get_attribute("height") or 0) <= 96
    title = cell.locator(".review-object a")
    expect(title).to_have_attribute("href", f"/assets/{item['asset_id']}")
    expect(thumb).to_have_attribute("alt", title.inner_text())
    assert title.inner_text() and title.inner_text() != item["object_id"]
    expect(cell.locator("ul.labels li").first).to_be_focused()  # ready for the shortcuts
    assert "null" not in cell.inner_text().split()


def test_the_review_buttons_are_named_as_they_read(page: Page, console: Console,  # noqa: F811
                                                    reviewed: Reviewed) -> None:
    open_report(page, console, reviewed)

    buttons = page.locator("#report tbody button")

    expect(buttons).to_have_count(3)
    for button in buttons.all():
        shown = button.evaluate("b => [...b.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE)"
                                ".map((n) => n.textContent).join('')").strip()
        assert button.locator(".visually-hidden").is_hidden() or button.locator(".visually-hidden").evaluate(
            "s => s.getBoundingClientRect().width <= 1")
        assert shown == "Review AI labels"
        expect(button).to_have_accessible_name(re.compile(rf"^{shown} of REV-000\d$"))


def test_the_shortcuts_the_page_lists_decide_labels_from_the_keyboard(page: Page, console: Console,  # noqa: F811
                                                                      reviewed: Reviewed) -> None:
    open_report(page, console, reviewed)
    item = reviewed.items[1]
    keys = page.locator("#shortcuts")
    keys.locator("summary").click()
    expect(keys).to_contain_text("Reject the label")
    page.get_by_role("button", name=f"Review AI labels of {item['object_id']}").click()
    first = page.locator(f"#report td[data-review='{item['asset_id']}'] ul.labels li").first
    expect(first).to_be_focused()
    label = first.get_attribute("data-label")

    page.keyboard.press("r")

    expect(page.locator(f"li[data-label='{label}']")).to_contain_text("rejected by a curator")
    expect(page.locator(f"li[data-label='{label}']")).to_be_focused()
    page.keyboard.press("a")
    expect(page.locator(f"li[data-label='{label}']")).to_contain_text("accepted by a curator")
    assert next(x for x in labels_of(console, item["asset_id"]) if x["id"] == label)["status"] == "accepted"
    page.keyboard.press("j")
    expect(page.locator(f"#report td[data-review='{item['asset_id']}'] ul.labels li").nth(1)).to_be_focused()


def test_accept_all_says_how_many_then_accepts_every_suggested_label_of_the_batch(
        page: Page, console: Console, reviewed: Reviewed) -> None:  # noqa: F811
    left = [[x for x in labels_of(console, i["asset_id"]) if x["status"] == "suggested"] for i in reviewed.items]
    suggested, objects = sum(map(len, left)), sum(1 for x in left if x)
    assert suggested
    open_report(page, console, reviewed)

    page.get_by_role("button", name="Accept all suggested labels of this batch").click()
    question = page.locator("#accept-all-question")
    expect(question).to_have_text(f"Accept {suggested} suggested labels of {objects} objects?")
    page.get_by_role("button", name="Accept them").click()

    expect(page.locator("#review-status")).to_have_text(f"Accepted {suggested} labels of {objects} objects.",
                                                        timeout=30_000)
    assert [x for i in reviewed.items for x in labels_of(console, i["asset_id"]) if x["status"] == "suggested"] == []


@pytest.fixture
def running(console: Console, s3: Minio, settings: Settings) -> Iterator[BatchRecord]:  # noqa: F811
    """A batch record of the console's institution as the DAG leaves it mid-run (no run to ask Airflow about)."""
    started = datetime.now(UTC) - timedelta(seconds=75)
    batch = BatchRecord(batch_id=f"{datetime.now(UTC):%Y%m%d}-{uuid.uuid4().hex[:12]}",
                        institution=console.curator.institution, state=BatchState.RUNNING, manifest_name="m.csv",
                        progress=BatchProgress(validated=40, stored=30, enriched=22, indexed=10, started_at=started,
                                               elapsed_s=75.0, eta_s=150.0))
    save_batch(s3, settings.s3, batch)
    yield batch
    s3.remove_object(settings.s3.bucket_reports, record_key(batch.batch_id))


def test_a_running_batch_shows_its_stages_with_counts_elapsed_and_eta(page: Page, console: Console,  # noqa: F811
                                                                      running: BatchRecord) -> None:
    sign_in(page, console.base, console.curator.key)

    stages = page.locator(f"#batches tr[data-batch='{running.batch_id}'] .stages")

    expect(stages.locator("dt")).to_have_text(["Stored", "Enriched", "Indexed"])
    expect(stages.locator("[data-stage]")).to_have_text(["30 of 40", "22 of 40", "10 of 40"])
    expect(stages.get_by_role("progressbar", name="Enriched: 22 of 40")).to_have_attribute("value", "22")
    expect(stages.locator("p")).to_have_text("Running for 75 s · about 2 min 30 s left")
    page.get_by_role("button", name="切换到中文界面").click()
    expect(stages.first).to_be_attached()
    expect(page.locator(f"#batches tr[data-batch='{running.batch_id}'] .stages p")).to_have_text(
        "已运行 75 秒 · 约剩 2 分 30 秒")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_axe_finds_nothing_in_any_state_of_the_console(page: Page, console: Console, reviewed: Reviewed,  # noqa: F811
                                                       settings: Settings, lang: str, tmp_path: Path) -> None:
    page.goto(console.base + "/console")
    if lang == "zh":
        page.get_by_role("button", name="切换到中文界面").click()
    states = {"signed out": axe_violations(page, settings)}
    sign_in(page, console.base, console.curator.key)
    states["signed in"] = axe_violations(page, settings)
    page.locator(f"#batches tr[data-batch='{reviewed.batch_id}'] button").click()
    expect(page.locator("#report tbody tr[data-status=indexed]")).to_have_count(3)
    page.locator("#report tbody button").first.click()
    expect(page.locator("#report ul.labels li").first).to_be_focused()
    page.locator("#shortcuts summary").click()
    states["report, review and shortcuts open"] = axe_violations(page, settings)
    page.locator("#accept-all").click()
    # asked to confirm, or told that nothing is left to accept (when another test accepted them all)
    expect(page.locator("#accept-all-confirm:not([hidden]), #review-status:not(:empty)").first).to_be_visible()
    states["accept all asked"] = axe_violations(page, settings)

    assert {state: found for state, found in states.items() if found} == {}
