"""The museum console in a real browser: sign-in, a batch folder dropped and sent straight to S3 with per-file
progress, followed through the real Airflow DAG to its end, its report with the rejected row."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest
from elasticsearch import Elasticsearch
from minio import Minio
from PIL import Image
from playwright.sync_api import Page, expect

from indexing.aliases import assets_alias
from schemas.access import Role
from services.access.db import Database
from services.ingest.batches import staged_file_key
from services.settings import Settings
from services.uploader import Uploader
from tests.access import Member, make_institution, staff_key
from tests.e2e.collection import unlimited
from tests.e2e.conftest import sign_in
from tests.factories import good_rows, make_good_batch, make_image, write_manifest
from tests.integration.live import live_gateway
from tests.integration.uploading import ingest

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]

PART = 5 * 1024 * 1024  # S3's smallest part: a file from here on goes in parts


@dataclass
class Console:
    base: str
    settings: Settings
    curator: Member


@pytest.fixture(scope="module")
def console(settings: Settings, db: Database, es: Elasticsearch, s3: Minio, browser_cors: None) -> Iterator[Console]:
    """A gateway on the stack's own index and buckets (the DAG ingests there), for a new institution in CN-BJ,
    with multipart uploads from 5 MiB on so that the browser sends one file in parts."""
    institution = make_institution(db, "CN-BJ", institution=f"e2e-console-{uuid.uuid4().hex[:8]}")
    ingest = settings.ingest.model_copy(update={"multipart_threshold_bytes": PART, "part_size_bytes": PART})
    scoped = settings.model_copy(update={"ingest": ingest, "access": unlimited(settings)})
    try:
        with live_gateway(scoped) as base:
            yield Console(base, scoped, staff_key(db, institution, Role.CURATOR))
    finally:
        alias = assets_alias(settings.es)  # no _delete_by_query here: the integ-test server has no reindex module
        found = es.search(index=alias, query={"term": {"institution": institution}}, size=100, source=False)
        for hit in found["hits"]["hits"]:
            es.delete(index=hit["_index"], id=hit["_id"], refresh=True)
        for obj in s3.list_objects(settings.s3.bucket_assets, prefix=f"{institution}/", recursive=True):
            s3.remove_object(settings.s3.bucket_assets, obj.object_name or "")


def batch_folder(folder: Path) -> Path:
    """Three good rows (one image large enough to go in parts) and one row whose licence is unknown."""
    rows = good_rows(3, prefix="WEB")
    for i, row in enumerate(rows[:2]):
        make_image(folder / row[4].split("|")[0], seed=9100 + i)
    noise = np.random.default_rng(9).integers(0, 256, (1300, 1700, 3), dtype=np.uint8)
    Image.fromarray(noise, "RGB").save(folder / rows[2][4].split("|")[0].replace(".jpg", ".png"))
    rows[2][4] = rows[2][4].replace(".jpg", ".png")
    bad = ["WEB-BAD", "无许可", "No licence", "not-a-licence", "images/WEB-BAD.jpg|正面", "清", "瓷器"]
    make_image(folder / "images/WEB-BAD.jpg", seed=9199)
    write_manifest(folder, [*rows, bad])
    return folder


def drop_folder(page: Page, target: str, folder: Path) -> None:
    """Drop `folder` on `target` as a person drags it from their desktop: the files, with their paths in it."""
    page.evaluate("""() => {
        const input = Object.assign(document.createElement("input"), {type: "file", id: "e2e-folder", hidden: true});
        input.webkitdirectory = true;
        document.body.append(input);
    }""")
    page.set_input_files("#e2e-folder", folder)
    files = page.evaluate_handle("""() => {
        const data = new DataTransfer();
        for (const file of document.getElementById("e2e-folder").files) data.items.add(file);
        return data;
    }""")
    page.dispatch_event(target, "dragover", {"dataTransfer": files})
    page.dispatch_event(target, "drop", {"dataTransfer": files})


def test_a_dropped_batch_folder_is_sent_with_per_file_progress_and_followed_until_it_succeeds(
        page: Page, console: Console, s3: Minio, settings: Settings, tmp_path: Path) -> None:
    folder = batch_folder(tmp_path / "batch")
    big = folder / "images" / "WEB-0002.png"
    assert big.stat().st_size > PART
    sign_in(page, console.base, console.curator.key)

    drop_folder(page, "#folder-drop", folder)
    expect(page.locator("#selection-summary")).to_contain_text("Manifest manifest.csv and 4 files")
    page.get_by_role("button", name="Upload and submit").click()

    files = page.locator("#files tbody tr")
    expect(files).to_have_count(5)
    for row in files.all():
        expect(row).to_have_attribute("data-state", "sent", timeout=60_000)
        bar = row.get_by_role("progressbar")
        expect(bar).to_have_accessible_name(f"Upload of {row.get_attribute('data-path')}")
        assert bar.evaluate("p => p.value === p.max")
    status = page.locator("#upload-status")
    # while it runs: counts per stage of the 3 valid rows (WEB-BAD's licence is refused by validation)
    expect(status).to_contain_text("Validated 3: stored", timeout=300_000)
    expect(status).to_have_attribute("data-state", "succeeded", timeout=300_000)
    batch_id = status.inner_text().split(":")[0].removeprefix("Batch ").strip()
    staged = s3.stat_object(settings.s3.bucket_staging, staged_file_key(batch_id, "images/WEB-0002.png"))
    assert staged.size == big.stat().st_size and str(staged.etag).endswith("-2")  # sent in two parts
    rejected = page.locator("#report tbody tr[data-status=rejected]")
    expect(rejected).to_have_count(1)
    expect(rejected).to_contain_text("WEB-BAD")
    expect(rejected).to_contain_text("licence")
    expect(page.locator("#report tbody tr[data-status=indexed]")).to_have_count(3)
    listed = page.locator(f"#batches tr[data-batch='{batch_id}']")
    expect(listed).to_contain_text("succeeded")


def test_a_key_the_gateway_refuses_is_shown_as_a_readable_message(page: Page, console: Console) -> None:
    page.goto(console.base + "/console")

    page.get_by_label("Institution key").fill("wy_00000000.not-a-real-secret")
    page.get_by_role("button", name="Sign in").click()

    alert = page.locator("#signin-error").get_by_role("alert")
    expect(alert).to_contain_text("This key is not accepted")
    expect(page.get_by_role("heading", name="Upload a batch")).to_be_hidden()


def test_a_curator_rejects_an_ai_label_of_an_item_from_the_batch_report(page: Page, console: Console,
                                                                       tmp_path: Path) -> None:
    uploader = Uploader(console.base, console.curator.key)
    try:
        batch, items = ingest(uploader, make_good_batch(tmp_path / "labels", 1, prefix="LBL", seed=93),
                              console.curator.institution)
    finally:
        uploader.close()
    assert batch["state"] == "succeeded", batch
    sign_in(page, console.base, console.curator.key)
    page.get_by_role("button", name=f"Report of batch {batch['batch_id']}").click()

    page.get_by_role("button", name="Review AI labels of LBL-0000").click()
    first = page.locator("#report ul.labels li").first
    label, name = first.get_attribute("data-label"), first.locator("strong").inner_text()
    first.get_by_role("button", name=f"Reject the label {name}").click()

    expect(page.locator(f"#report ul.labels li[data-label='{label}']")).to_contain_text("rejected by a curator")
    asset = httpx.get(f"{console.base}/v1/assets/{items[0]['asset_id']}",
                      headers={"Authorization": f"Bearer {console.curator.key}"}).json()
    assert next(a for a in asset["ai"]["labels"] if a["id"] == label)["status"] == "rejected"
