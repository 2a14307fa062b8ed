"""Page text: the text layer where a page has one, OCR of the page image where not (indexing/pages.py)."""

from __future__ import annotations

from contextlib import nullcontext

from PIL import Image

from indexing.enrich import embedding_text, search_terms
from indexing.ocr import OcrResult
from indexing.pages import page_text, read_pages
from schemas.asset import AssetRecord, ImageRecord
from schemas.media import TextSource
from tests.factories import make_asset


def _page(n: int, text: str | None, source: TextSource | None = None) -> dict[str, object]:
    return {"id": f"p{n}", "sha256": f"{n:064x}", "key": f"k{n}", "path": f"book.pdf#page={n}", "format": "JPEG",
            "mime": "image/jpeg", "width": 100, "height": 140, "mode": "RGB", "size_bytes": 10, "phash": "0" * 16,
            "thumbnail_key": f"t{n}", "preview_key": f"preview-{n}", "of_media": "m", "page": n, "text": text,
            "text_source": source}


class Reader:
    name, version = "test-ocr", "1"

    def __init__(self) -> None:
        self.read_count = 0

    def read(self, image: Image.Image) -> OcrResult:
        self.read_count += 1
        return OcrResult(f"读出的文字 {image.width}", 0.9)


def _book() -> AssetRecord:
    return AssetRecord.model_validate(make_asset(images=[_page(1, "第一页 铜镜", TextSource.LAYER), _page(2, None),
                                                         _page(3, None)]))


def test_pages_without_a_layer_are_read_once_and_the_layer_is_kept() -> None:
    reader, loaded = Reader(), []

    def load(key: str) -> Image.Image | None:
        loaded.append(key)
        return None if key == "preview-3" else Image.new("RGB", (42, 10))  # page 3 unreadable this time

    read = read_pages(_book(), reader, load, max_pages=10, timed=lambda stage, n: nullcontext())
    assert loaded == ["preview-2", "preview-3"] and reader.read_count == 1
    assert [(im.text, im.text_source) for im in read.images] == [
        ("第一页 铜镜", TextSource.LAYER), ("读出的文字 42", TextSource.OCR), (None, None)]
    again = read_pages(read, reader, lambda key: Image.new("RGB", (7, 7)), max_pages=10,
                       timed=lambda stage, n: nullcontext())
    assert reader.read_count == 2 and again.images[1].text == "读出的文字 42"  # page 2 is not read again


def test_page_text_is_searched_and_its_beginning_embedded() -> None:
    book = _book().model_copy(update={"images": [ImageRecord.model_validate(_page(1, "铜镜 " + "长" * 3000))]})
    assert "铜镜" in (search_terms(book).text or "")
    assert page_text(book, 5) == "铜镜 长长" and len(page_text(book)) == 3003
    assert "铜镜" in embedding_text(book) and embedding_text(book).count("长") < 1000
