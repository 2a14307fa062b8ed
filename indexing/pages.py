"""The text of a document's pages: its own text layer (read at ingest, services/ingest/media_document.py), or OCR of
the page image where it has none — and what of it search sees.

Pages are images of the asset (`ImageRecord.page`, `of_media`), so their text sits beside each page
(`images[].text`, `text_source`): a keyword search names the pages that matched (indexing/query.page_hits), and the
page viewer shows the text next to its page. The asset's keyword tokens hold all of it; its text vector the
beginning of it (a sentence encoder reads a few hundred words at most, and a document's first page usually says
what it is).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from PIL import Image

from indexing.ocr import OcrEngine
from schemas.asset import AssetRecord
from schemas.media import TextSource

EMBEDDED_CHARS = 1000  # of the pages' text, what goes into the text vector


def page_text(asset: AssetRecord, limit: int | None = None) -> str:
    """The pages' text in page order (the first `limit` characters)."""
    text = "\n".join(im.text for im in asset.images if im.page is not None and im.text)
    return text if limit is None else text[:limit]


def read_pages(asset: AssetRecord, engine: OcrEngine, load: Callable[[str], Image.Image | None], max_pages: int,
               timed: Callable[[str, int], AbstractContextManager[None]]) -> AssetRecord:
    """The asset with OCR text on its pages that have no text yet (the first `max_pages` of them); pages read
    before keep their text (their images are content-addressed, so the same page image reads the same)."""
    todo = [j for j, im in enumerate(asset.images) if im.page is not None and im.text is None][:max_pages]
    if not todo:
        return asset
    images = list(asset.images)
    for j in todo:
        picture = load(images[j].preview_key)  # None: unreadable, logged; read again on the next run
        if picture is None:
            continue
        with timed("ocr", 1):
            result = engine.read(picture)
        update: dict[str, Any] = {"text": result.text.strip() or "", "text_source": TextSource.OCR}
        images[j] = images[j].model_copy(update=update)  # "" = read, nothing found: not read again
    return asset.model_copy(update={"images": images})
