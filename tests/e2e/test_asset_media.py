"""An asset's documents, recordings and 3D models in a real browser: a document's pages in the viewer with
their text beside it, a video and a recording that play from their renditions, a GLB in <model-viewer>, and a
tier below the rendition's saying what it would need.

The files are real (samples/mediafiles: a two-page PDF with a text layer, an H.264/AAC MP4, a WAV tone, a GLB
vase), made into originals, derivatives, pages, keyframes and views by ingestion's own `derive_file` into the
collection's institution in S3, and indexed into the collection's index: the collection fixture removes both.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from minio import Minio
from playwright.sync_api import Browser, Page, expect

from indexing.aliases import assets_alias
from indexing.bulk import index_documents
from indexing.enrich import Enricher
from samples.mediafiles import av, documents, models
from schemas.asset import AssetRecord, ImageRecord, asset_id_for
from schemas.media import MediaRecord
from services.ingest.context import IngestContext
from services.ingest.derive import derive_file
from services.ingest.store import media_summary
from tests.e2e.collection import Collection
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_a11y import unnamed_controls
from tests.factories import make_asset

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

MODEL_LOADED = "() => document.querySelector('model-viewer')?.loaded === true"
PAGES = ["第一页：青铜器账簿 Bronze ledger", "Page two: the second page's own text"]


def _files(work: Path) -> dict[str, Path]:
    return {"ledger.pdf": documents.pdf_with_text(work / "ledger.pdf", PAGES),
            "clip.mp4": av.mp4(work / "clip.mp4", 2.0),
            "tone.wav": av.wav(work / "tone.wav", 1.0, channels=1),
            "vase.glb": models.vessel(work / "vase.glb", "glb")}


def _asset(ctx: IngestContext, collection: Collection, object_id: str, licence: str, files: dict[str, Path],
           work: Path) -> AssetRecord:
    """One asset holding `files`, derived as ingestion derives them."""
    asset_id = asset_id_for(collection.institution, object_id)
    images: list[ImageRecord] = []
    media: list[MediaRecord] = []
    for name, path in files.items():
        made, record = derive_file(ctx, collection.institution, asset_id, "e2e-media", path, name, None,
                                   work / object_id, max_bytes=50_000_000)
        images += made
        media += [record] if record else []
    fields = {"object_id": object_id, "title_zh": "多媒体藏品", "title_en": f"Multimedia object {object_id}",
              "licence": licence, "institution": collection.institution, "region": "CN-BJ",
              "images": [im.model_dump(mode="json") for im in images], "has_image": True}
    summary = media_summary(images, media)
    fields |= summary | {"media_files": [m.model_dump(mode="json") for m in media]}
    return AssetRecord.model_validate(make_asset(**fields))


@pytest.fixture(scope="module")
def media_assets(collection: Collection, es: Elasticsearch, s3: Minio, enricher: Enricher,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, AssetRecord]]:
    """An open asset (CC0: original tier for everyone) with all four files, and an In Copyright one (thumbnail
    tier for the public) with the video only."""
    work = tmp_path_factory.mktemp("media")
    ctx = IngestContext(collection.settings, s3, es)
    files = _files(work)
    made = {"open": _asset(ctx, collection, f"E2E-MEDIA-{uuid.uuid4().hex[:6]}", "CC0", files, work),
            "closed": _asset(ctx, collection, f"E2E-MEDIA-{uuid.uuid4().hex[:6]}", "InC",
                             {"clip.mp4": files["clip.mp4"]}, work)}
    models_ = Enricher(collection.settings, es, s3, text=enricher.text, image=enricher.image, use_ocr=False)
    enriched = models_.enrich(list(made.values()))
    alias = assets_alias(collection.settings.es)
    index_documents(es, alias, [(a.asset_id, a.model_dump(mode="json")) for a in enriched])
    es.indices.refresh(index=alias)
    yield made
    # The collection is shared by every e2e module (its search pages count its objects): these two leave it now;
    # the collection fixture removes their files with everything else under the institution in S3.
    for asset in made.values():
        es.delete(index=alias, id=asset.asset_id, refresh=True)


def _open(page: Page, collection: Collection, asset: AssetRecord, title: str | None = None) -> None:
    page.goto(collection.url(f"/assets/{asset.asset_id}"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title or str(asset.title_en))


def test_a_documents_pages_open_in_the_viewer_with_their_text_beside_it(
        page: Page, collection: Collection, media_assets: dict[str, AssetRecord]) -> None:
    asset = media_assets["open"]
    second = next(im for im in asset.images if im.page == 2)
    _open(page, collection, asset)
    pages = page.get_by_role("navigation", name="Pages of Document")
    expect(pages.get_by_role("button", name="Page 1 of Document")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#page-text")).to_contain_text("青铜器账簿 Bronze ledger")
    expect(page.locator("#viewer canvas").first).to_be_visible()

    with page.expect_response(lambda r: f"/iiif/3/{second.id}/info.json" in r.url and r.status == 200):
        pages.get_by_role("button", name="Page 2 of Document").click()

    expect(page.locator("#page-text")).to_contain_text("the second page's own text")
    expect(page.locator("#page-text")).to_contain_text("Text of page 2")
    expect(pages.get_by_role("button", name="Next page")).to_be_disabled()


def test_a_video_plays_from_its_rendition_with_its_poster(page: Page, collection: Collection,
                                                          media_assets: dict[str, AssetRecord]) -> None:
    _open(page, collection, media_assets["open"])
    video = page.get_by_label("Video player: Video")

    page.wait_for_function("() => document.querySelector('video')?.readyState >= 1", timeout=30_000)

    assert video.evaluate("v => [v.duration > 1.5, v.videoWidth, v.poster.length > 0]") == [True, 320, True]
    assert "/derivatives/" in video.evaluate("v => new URL(v.currentSrc).pathname")


def test_a_recording_plays_with_its_waveform(page: Page, collection: Collection,
                                             media_assets: dict[str, AssetRecord]) -> None:
    _open(page, collection, media_assets["open"])

    page.wait_for_function("() => document.querySelector('audio')?.readyState >= 1", timeout=30_000)

    assert page.get_by_label("Audio player: Recording").evaluate("a => a.duration") == pytest.approx(1.0, abs=0.1)
    expect(page.get_by_role("img", name="Waveform of Recording")).to_be_visible()


def test_a_glb_shows_in_model_viewer(page: Page, collection: Collection,
                                     media_assets: dict[str, AssetRecord]) -> None:
    _open(page, collection, media_assets["open"])
    viewer = page.locator("model-viewer")

    viewer.scroll_into_view_if_needed()  # <model-viewer> loads its model when it comes into view
    page.wait_for_function(MODEL_LOADED, timeout=60_000)

    expect(viewer).to_be_visible()
    assert viewer.evaluate("m => m.src.includes('/derivatives/')")
    size = viewer.evaluate("m => { const c = m.shadowRoot.querySelector('canvas'); return [c.width, c.height]; }")
    assert min(size) > 100


def test_below_the_renditions_tier_the_player_says_which_tier_it_would_need(
        page: Page, collection: Collection, media_assets: dict[str, AssetRecord]) -> None:
    _open(page, collection, media_assets["closed"])
    expect(page.locator("#media figure")).to_contain_text("Not playable at your access (thumbnail): it needs the "
                                                          "preview tier.")
    expect(page.get_by_role("img", name="Poster frame of Video")).to_be_visible()  # the poster is a thumbnail
    assert page.locator("video").count() == 0
    page.locator("#download-menu summary").click()

    page.get_by_role("button", name="original file of Video: not in your access (why?)").click()

    alert = page.locator("#download-error").get_by_role("alert")
    expect(alert).to_contain_text("In Copyright (InC) gives you the thumbnail tier")


def test_an_allowed_download_saves_the_documents_original(page: Page, collection: Collection,
                                                         media_assets: dict[str, AssetRecord]) -> None:
    asset = media_assets["open"]
    _open(page, collection, asset)
    page.locator("#download-menu summary").click()

    with page.expect_download() as download:
        page.get_by_role("button", name="Download original file of Document").click()

    assert download.value.suggested_filename == f"{asset.object_id}-1-original.pdf"
    assert download.value.path().read_bytes()[:5] == b"%PDF-"


def test_every_control_of_the_media_page_has_an_accessible_name_in_both_languages(
        page: Page, collection: Collection, media_assets: dict[str, AssetRecord]) -> None:
    _open(page, collection, media_assets["open"])
    page.locator("model-viewer").scroll_into_view_if_needed()
    page.wait_for_function(MODEL_LOADED, timeout=60_000)
    assert unnamed_controls(page) == []

    page.get_by_role("button", name="切换到中文界面").click()

    expect(page.get_by_label("视频播放器：视频")).to_be_visible()
    expect(page.locator("#page-text")).to_contain_text("第 1 页的文字")
    assert unnamed_controls(page) == []


def test_the_media_page_has_no_horizontal_scroll_at_360_px(browser: Browser, collection: Collection,
                                                          media_assets: dict[str, AssetRecord]) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = context.new_page()
    try:
        _open(page, collection, media_assets["open"], title="多媒体藏品")
        page.wait_for_function("() => document.querySelector('video')?.readyState >= 1", timeout=30_000)

        widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "360px-asset-media.png"), full_page=True)
        assert widths[0] <= widths[1] == 360
    finally:
        context.close()
