"""Documents: inspection from the header and page images with their text, on PDFs and TIFFs the tests write."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image

from samples.mediafiles.documents import (
    encrypted_pdf,
    multipage_tiff,
    pdf_bomb,
    pdf_with_text,
    scanned_pdf,
    text_picture,
    truncated_pdf,
)
from schemas.access import Tier
from schemas.media import MediaType, TextSource
from services.ingest.errors import ErrorCode
from services.ingest.media import MediaRejected
from services.ingest.media_document import derive_document, inspect_document
from services.ingest.media_kinds import Derived, DeriveParams, Kind, MediaFacts, MediaLimits, sniff

LIMITS = MediaLimits(max_bytes=50 * 1024 * 1024, max_pixels=100_000_000, max_duration_s=3600, max_pages=2000,
                     max_faces=1_000_000)
PAGES = ["文渊阁 Wenyuan Pavilion\n四库全书 Complete Library of the Four Treasuries",
         "第二页：经部 Classics",
         "第三页 Histories 史部"]
SMALL = DeriveParams(page_px=500)


def limits(**overrides: int) -> MediaLimits:
    return dataclasses.replace(LIMITS, **overrides)


def derive(path: Path, out_dir: Path, params: DeriveParams = SMALL) -> tuple[MediaFacts, Derived]:
    facts = inspect_document(path, LIMITS)
    return facts, derive_document(path, facts, out_dir, params)


def rejection(path: Path, limits: MediaLimits = LIMITS) -> MediaRejected:
    with pytest.raises(MediaRejected) as caught:
        inspect_document(path, limits)
    return caught.value


def darkest(path: Path) -> int:
    with Image.open(path) as im:
        return int(min(im.convert("L").getextrema()))


# --- inspection --------------------------------------------------------------------------------------------------


def test_pdf_facts_come_from_the_header(tmp_path: Path) -> None:
    path = pdf_with_text(tmp_path / "siku.pdf", PAGES)

    facts = inspect_document(path, LIMITS)

    assert (facts.media_type, facts.format, facts.mime) == (MediaType.DOCUMENT, "PDF", "application/pdf")
    assert facts.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert facts.size_bytes == path.stat().st_size
    assert facts.technical == {"page_count": 3}


def test_multipage_tiff_facts_count_its_frames(tmp_path: Path) -> None:
    path = multipage_tiff(tmp_path / "album.tif", ["一", "二", "三", "四"])

    facts = inspect_document(path, LIMITS)

    assert (facts.format, facts.mime, facts.technical) == ("TIFF", "image/tiff", {"page_count": 4})


def test_builders_make_files_sniffed_as_documents(tmp_path: Path) -> None:
    pdf = pdf_with_text(tmp_path / "a.pdf", PAGES)
    tiff = multipage_tiff(tmp_path / "b.tif", ["一", "二"])

    assert (sniff(pdf, "a.pdf"), sniff(tiff, "b.tif")) == (Kind.DOCUMENT, Kind.DOCUMENT)


# --- rejections --------------------------------------------------------------------------------------------------


def test_empty_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")

    assert rejection(path).reason == ErrorCode.EMPTY_FILE


def test_file_over_the_size_limit_is_rejected_before_it_is_read(tmp_path: Path) -> None:
    path = pdf_with_text(tmp_path / "big.pdf", PAGES)

    error = rejection(path, limits(max_bytes=1000))

    assert error.reason == ErrorCode.TOO_LARGE
    assert "1,000 bytes" in error.message


def test_pdf_over_the_page_limit_is_rejected(tmp_path: Path) -> None:
    path = pdf_with_text(tmp_path / "long.pdf", PAGES)

    error = rejection(path, limits(max_pages=2))

    assert error.reason == ErrorCode.TOO_MANY_PAGES
    assert "3 pages" in error.message and "limit of 2" in error.message


def test_pdf_bomb_of_100000_pages_is_rejected_from_its_page_count_without_rendering(tmp_path: Path) -> None:
    path = pdf_bomb(tmp_path / "bomb.pdf", 100_000)
    started = time.perf_counter()

    error = rejection(path)

    assert path.stat().st_size < 2048
    assert error.reason == ErrorCode.TOO_MANY_PAGES
    assert "100,000 pages" in error.message
    assert time.perf_counter() - started < 1.0  # rendering even 1% of it would take minutes


def test_pdf_bomb_really_has_the_pages_it_declares(tmp_path: Path) -> None:
    path = pdf_bomb(tmp_path / "bomb.pdf", 1234)

    with pdfium.PdfDocument(path) as pdf:
        assert len(pdf) == 1234
        assert pdf[1233].get_size() == (595.0, 842.0)


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.95])
def test_truncated_pdf_is_rejected(tmp_path: Path, keep: float) -> None:
    path = truncated_pdf(tmp_path / "cut.pdf", PAGES, keep=keep)

    error = rejection(path)

    assert error.reason == ErrorCode.TRUNCATED
    assert "cut off" in error.message


def test_pdf_with_a_damaged_structure_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "damaged.pdf"
    path.write_bytes(b"%PDF-1.7\nthis is not a PDF body at all\n%%EOF\n")

    assert rejection(path).reason == ErrorCode.TRUNCATED


def test_pdf_without_pages_is_rejected(tmp_path: Path) -> None:
    path = pdf_with_text(tmp_path / "none.pdf", [])

    error = rejection(path)

    assert error.reason == ErrorCode.EMPTY_FILE
    assert "no pages" in error.message


def test_password_protected_pdf_is_rejected_with_what_to_do(tmp_path: Path) -> None:
    path = encrypted_pdf(tmp_path / "locked.pdf", password="secret")

    error = rejection(path)

    assert error.reason == ErrorCode.UNSUPPORTED_FORMAT
    assert "password" in error.message


def test_encrypted_pdf_opens_with_its_password(tmp_path: Path) -> None:
    path = encrypted_pdf(tmp_path / "locked.pdf", text="Confidential 机密", password="secret")

    with pdfium.PdfDocument(path, password="secret") as pdf:
        text = pdf[0].get_textpage().get_text_bounded()

    assert text == "Confidential 机密"


def test_file_named_pdf_that_is_a_jpeg_is_an_extension_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.pdf"
    text_picture("not a PDF", (200, 100)).save(path, "JPEG")

    assert rejection(path).reason == ErrorCode.EXTENSION_MISMATCH


def test_pdf_named_as_audio_is_refused_by_sniff(tmp_path: Path) -> None:
    path = pdf_with_text(tmp_path / "oral-history.mp3", PAGES)

    with pytest.raises(MediaRejected) as caught:
        sniff(path, "oral-history.mp3")

    assert caught.value.reason == ErrorCode.EXTENSION_MISMATCH


def test_file_that_is_no_document_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("plain text, not a document")

    assert rejection(path).reason == ErrorCode.UNSUPPORTED_FORMAT


def test_tiff_over_the_page_limit_is_rejected(tmp_path: Path) -> None:
    path = multipage_tiff(tmp_path / "album.tif", ["一", "二", "三"], size=(60, 80))

    error = rejection(path, limits(max_pages=2))

    assert error.reason == ErrorCode.TOO_MANY_PAGES
    assert "limit of 2 pages" in error.message


def test_tiff_page_over_the_pixel_limit_is_rejected_before_decoding(tmp_path: Path) -> None:
    path = multipage_tiff(tmp_path / "huge.tif", ["一", "二"], size=(400, 300))

    error = rejection(path, limits(max_pixels=100_000))

    assert error.reason == ErrorCode.DECOMPRESSION_BOMB
    assert "400 × 300" in error.message


@pytest.mark.parametrize("keep", [0.2, 0.5, 0.9])
def test_truncated_tiff_is_rejected(tmp_path: Path, keep: float) -> None:
    whole = multipage_tiff(tmp_path / "whole.tif", ["一 one", "二 two", "三 three"]).read_bytes()
    path = tmp_path / "cut.tif"
    path.write_bytes(whole[: int(len(whole) * keep)])

    assert rejection(path).reason == ErrorCode.TRUNCATED


# --- derivatives -------------------------------------------------------------------------------------------------


def test_each_pdf_page_gives_a_numbered_page_image_with_its_text_layer(tmp_path: Path) -> None:
    path = pdf_with_text(tmp_path / "siku.pdf", PAGES)

    _, derived = derive(path, tmp_path / "out")

    assert [s.page for s in derived.surrogates] == [1, 2, 3]
    assert [s.text for s in derived.surrogates] == PAGES
    assert {s.text_source for s in derived.surrogates} == {TextSource.LAYER}
    assert [s.path.name for s in derived.surrogates] == ["page-00001.jpg", "page-00002.jpg", "page-00003.jpg"]


def test_text_derivative_holds_every_page_separated_by_form_feeds(tmp_path: Path) -> None:
    path = pdf_with_text(tmp_path / "siku.pdf", PAGES)

    _, derived = derive(path, tmp_path / "out")

    [text] = derived.files
    assert (text.name, text.mime, text.tier) == ("text", "text/plain", Tier.PREVIEW)
    assert text.path.read_text(encoding="utf-8") == "\f".join(PAGES)


def test_long_pdf_keeps_every_page_in_order_across_reopenings(tmp_path: Path) -> None:
    texts = [f"第{n}页 page {n}" for n in range(1, 61)]  # the document is reopened every 25 pages
    path = pdf_with_text(tmp_path / "long.pdf", texts)

    _, derived = derive(path, tmp_path / "out", DeriveParams(page_px=100))

    assert [(s.page, s.text) for s in derived.surrogates] == list(enumerate(texts, start=1))


def test_page_image_is_page_px_on_its_longest_side(tmp_path: Path) -> None:
    path = pdf_with_text(tmp_path / "a4.pdf", PAGES[:1])

    _, derived = derive(path, tmp_path / "out", DeriveParams(page_px=800))

    with Image.open(derived.surrogates[0].path) as im:
        assert (im.format, im.mode, im.size) == ("JPEG", "RGB", (566, 800))  # A4 is 595 × 842 points


def test_small_page_is_rendered_at_no_more_than_300_dpi(tmp_path: Path) -> None:
    path = pdf_with_text(tmp_path / "label.pdf", ["签"], page_size=(144, 72))  # 2 × 1 inches

    _, derived = derive(path, tmp_path / "out", DeriveParams(page_px=2000))

    with Image.open(derived.surrogates[0].path) as im:
        assert im.size == (600, 300)


def test_page_without_text_is_white_and_has_no_text(tmp_path: Path) -> None:
    path = pdf_with_text(tmp_path / "blank.pdf", ["第一页", "   "])

    _, derived = derive(path, tmp_path / "out")

    blank = derived.surrogates[1]
    assert (blank.text, blank.text_source) == (None, None)
    with Image.open(blank.path) as im:
        assert im.convert("L").getextrema() == (255, 255)  # a transparent page is drawn on white
    assert derived.files[0].path.read_text(encoding="utf-8") == "第一页\f"


def test_scanned_pdf_pages_have_no_text_and_no_text_file(tmp_path: Path) -> None:
    path = scanned_pdf(tmp_path / "scan.pdf", ["扫描 scanned page one", "page two 第二页"])

    _, derived = derive(path, tmp_path / "out")

    assert [(s.page, s.text, s.text_source) for s in derived.surrogates] == [(1, None, None), (2, None, None)]
    assert derived.files == []
    assert not (tmp_path / "out" / "text.txt").exists()
    assert darkest(derived.surrogates[0].path) < 100  # the picture of the text is on the page image, for OCR


def test_tiff_gives_one_page_image_per_frame_without_text(tmp_path: Path) -> None:
    path = multipage_tiff(tmp_path / "album.tif", ["一 one", "二 two", "三 three"], size=(600, 800))

    _, derived = derive(path, tmp_path / "out", DeriveParams(page_px=400))

    assert [(s.page, s.text) for s in derived.surrogates] == [(1, None), (2, None), (3, None)]
    assert derived.files == []
    for surrogate in derived.surrogates:
        with Image.open(surrogate.path) as im:
            assert (im.format, im.size) == ("JPEG", (300, 400))


def test_tiff_frame_is_never_upscaled(tmp_path: Path) -> None:
    path = multipage_tiff(tmp_path / "small.tif", ["一", "二"], size=(120, 160))

    _, derived = derive(path, tmp_path / "out", DeriveParams(page_px=2000))

    with Image.open(derived.surrogates[0].path) as im:
        assert im.size == (120, 160)


def test_tiff_frames_of_any_mode_become_rgb_with_transparency_on_white(tmp_path: Path) -> None:
    path = tmp_path / "modes.tif"
    clear = Image.new("RGBA", (80, 60), (0, 0, 0, 0))
    frames = [text_picture("一", (80, 60)).convert("1"), clear, text_picture("三", (80, 60)).convert("CMYK")]
    frames[0].save(path, "TIFF", save_all=True, append_images=frames[1:], compression="tiff_deflate")

    _, derived = derive(path, tmp_path / "out")

    for surrogate in derived.surrogates:
        with Image.open(surrogate.path) as im:
            assert im.mode == "RGB"
    with Image.open(derived.surrogates[1].path) as im:
        assert im.convert("L").getextrema()[0] >= 250  # JPEG may stray a little from pure white


def test_documents_derived_in_threads_at_once_each_keep_their_own_pages(tmp_path: Path) -> None:
    paths = [pdf_with_text(tmp_path / f"doc{i}.pdf", [f"文档 {i} 页 {p}" for p in range(1, 5)]) for i in range(6)]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda p: derive(p, tmp_path / p.stem, DeriveParams(page_px=200))[1], paths))

    for i, derived in enumerate(results):
        assert [s.text for s in derived.surrogates] == [f"文档 {i} 页 {p}" for p in range(1, 5)]


def test_page_px_must_be_positive(tmp_path: Path) -> None:
    path = pdf_with_text(tmp_path / "a.pdf", PAGES[:1])
    facts = inspect_document(path, LIMITS)

    with pytest.raises(ValueError, match="page_px"):
        derive_document(path, facts, tmp_path / "out", DeriveParams(page_px=0))
