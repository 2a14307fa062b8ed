"""Documents — PDFs and multi-page TIFFs — checked from their headers, then one picture and its text per page.

`inspect_document` reads only the structure: the page count (a PDF's page tree declares it, so a PDF of
100,000 pages is refused in a millisecond without a page being loaded; a TIFF's frames are counted up to one
past the limit), each page's size (a PDF page must have an area; a TIFF frame's pixels are held to the same
limit as an image's) and the signs of a cut-off upload (a PDF's `%%EOF` at the end, a TIFF frame's strips inside
the file). A password-protected PDF is refused: its pages cannot be read without the password.

`derive_document` writes one JPEG per page (`page-00001.jpg`…), the longest side `params.page_px` but never
finer than a 300-dpi render of the page (a TIFF frame is never upscaled), on white where the page is
transparent, and returns them as `Surrogate`s numbered from 1: services/ingest/derive.py makes each an image
of the asset. A PDF page's own text layer becomes the surrogate's `text` (`TextSource.LAYER`) when it holds
more than whitespace; otherwise `text` stays None and enrichment reads the page image by OCR
(indexing/ocr.py; none is run here). Every page's text, pages separated by form feeds, is also written as the
`text` derivative when any page had some.

Memory stays flat for long documents: pages are rendered, written and closed one at a time, only the current
page's bitmap is held, and the PDF is reopened every 25 pages so that PDFium's cache of parsed objects (a
scanned page's image among them) is dropped.

Thread safety: PDFium (pypdfium2) is not thread-safe, not even across documents, and the store step runs up to
four rows at once in threads. Every PDFium call — opening, rendering, text extraction, closing — holds the
module's `_pdfium` lock; the JPEG encoding of a rendered page runs outside it, so threads overlap there.
Everything is closed explicitly under the lock rather than left to pypdfium2's finalizers, which could run on
any thread. Pillow's process-wide switches are set through services.ingest.media's lock (`_pillow_limits`).
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Generator
from contextlib import closing
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image

from indexing.encoders.pixels import viewable
from schemas.access import Tier
from schemas.media import MediaType, TextSource
from services.ingest.errors import ErrorCode
from services.ingest.media import MediaRejected, _human_bytes, _pillow_limits, derivative_size, sha256_file
from services.ingest.media_kinds import Derived, DerivedFile, DeriveParams, MediaFacts, MediaLimits, Surrogate

__all__ = ["derive_document", "inspect_document"]

_MAX_DPI = 300  # a page image finer than this shows nothing more of a page made for print
_JPEG_QUALITY = 90  # page images are read by OCR and zoomed in the viewer: sharper than the image derivatives
_TAIL_BYTES = 1024  # readers look for %%EOF within the last kilobyte (ISO 32000-1, implementation note 18)
_WHITE = (255, 255, 255, 255)
# PDFium keeps what it has parsed (a scanned page's image stream among it) until the document is closed: a
# 500-page scan grew to 380 MiB (tests/bench/media_documents.py). Reopening every 25 pages keeps it flat, for
# the price of re-reading the cross-reference table.
_PAGES_PER_OPEN = 25
_STRIP_TAGS = ((273, 279), (324, 325))  # TIFF StripOffsets/StripByteCounts, TileOffsets/TileByteCounts
_CUT_OFF_WARNINGS = ("Truncated File Read", "Corrupt EXIF data")  # Pillow's, from TiffImagePlugin
_FORMATS = {"PDF": "application/pdf", "TIFF": "image/tiff"}
_SUFFIXES = {".pdf": "a PDF", ".tif": "a TIFF", ".tiff": "a TIFF"}

_pdfium = threading.Lock()

PageImage = tuple[Image.Image, str | None]  # a page's picture and its text layer (None: none)


def inspect_document(path: Path, limits: MediaLimits) -> MediaFacts:
    """Accept a PDF or multi-page TIFF from its header (page count, page sizes, completeness) or reject it."""
    size_bytes = path.stat().st_size
    if size_bytes == 0:
        raise MediaRejected(ErrorCode.EMPTY_FILE, "The file is empty (0 bytes); it may not have finished uploading.")
    if size_bytes > limits.max_bytes:
        raise MediaRejected(ErrorCode.TOO_LARGE, f"The document is {_human_bytes(size_bytes)}, larger than the limit "
                                                 f"of {_human_bytes(limits.max_bytes)} per file; split it into parts.")
    with path.open("rb") as stream:
        head = stream.read(8)
    if head.startswith(b"%PDF-"):
        document_format, page_count = "PDF", _pdf_page_count(path, size_bytes, limits)
    elif head[:4] in (b"II*\x00", b"MM\x00*"):
        document_format, page_count = "TIFF", _tiff_page_count(path, size_bytes, limits)
    else:
        raise _not_a_document(path)
    return MediaFacts(media_type=MediaType.DOCUMENT, format=document_format, mime=_FORMATS[document_format],
                      sha256=sha256_file(path), size_bytes=size_bytes, technical={"page_count": page_count})


def derive_document(path: Path, facts: MediaFacts, out_dir: Path, params: DeriveParams) -> Derived:
    """Write `page-NNNNN.jpg` per page and, where any page has a text layer, `text.txt` (pages split by "\\f")."""
    if params.page_px < 1:
        raise ValueError(f"page_px must be positive, got {params.page_px}")
    out_dir.mkdir(parents=True, exist_ok=True)
    pages = _pdf_pages(path, params.page_px) if facts.format == "PDF" else _tiff_pages(path, params.page_px)
    derived = Derived()
    text_path = out_dir / "text.txt"
    any_text = False
    with closing(pages), text_path.open("w", encoding="utf-8", newline="") as text_out:
        for number, (picture, text) in enumerate(pages, start=1):
            target = out_dir / f"page-{number:05d}.jpg"
            # Not closed here: it goes when the next page replaces it. Freeing it before the next page's bitmap
            # is allocated made pages ~20% slower (the memory went back to the system and was faulted in again).
            picture.save(target, "JPEG", quality=_JPEG_QUALITY, optimize=True)
            text_out.write(("\f" if number > 1 else "") + (text or ""))
            any_text = any_text or text is not None
            derived.surrogates.append(_surrogate(target, number, text))
    if any_text:
        derived.files.append(DerivedFile(name="text", path=text_path, mime="text/plain", tier=Tier.PREVIEW))
    else:
        text_path.unlink()
    return derived


def _surrogate(target: Path, number: int, text: str | None) -> Surrogate:
    return Surrogate(path=target, page=number, text=text, text_source=TextSource.LAYER if text else None)


# --- PDF -------------------------------------------------------------------------------------------------------


def _pdf_page_count(path: Path, size_bytes: int, limits: MediaLimits) -> int:
    with path.open("rb") as stream:
        stream.seek(max(0, size_bytes - _TAIL_BYTES))
        if b"%%EOF" not in stream.read():
            raise MediaRejected(ErrorCode.TRUNCATED, "The PDF's end is missing (no %%EOF marker): the upload was "
                                                     "probably cut off. Upload the file again.")
    with _pdfium:
        pdf = _open_pdf(path)
        try:
            page_count = len(pdf)
            if page_count > limits.max_pages:
                raise MediaRejected(ErrorCode.TOO_MANY_PAGES,
                                    f"The PDF has {page_count:,} pages, more than the limit of {limits.max_pages:,} "
                                    "pages per document; split it into volumes.")
            for index in range(page_count):  # read from each page's dictionary: nothing is drawn
                width, height = _pdf_page_size(pdf, index)
                if not (width > 0 and height > 0 and math.isfinite(width * height)):
                    raise MediaRejected(ErrorCode.TRUNCATED, f"Page {index + 1} of the PDF has no usable size "
                                                             f"({width:g} × {height:g} points); the file is damaged.")
        finally:
            pdf.close()
    return page_count


def _pdf_pages(path: Path, page_px: int) -> Generator[PageImage]:
    """Each page in turn; the document is reopened every `_PAGES_PER_OPEN` pages to bound PDFium's cache."""
    with _pdfium:
        pdf = _open_pdf(path)
    try:
        for index in range(len(pdf)):
            with _pdfium:
                if index and index % _PAGES_PER_OPEN == 0:
                    pdf.close()
                    pdf = _open_pdf(path)
                page = _pdf_page(pdf, index, page_px)
            yield page  # encoded and written by the caller outside the lock
    finally:
        with _pdfium:
            pdf.close()


def _pdf_page(pdf: pdfium.PdfDocument, index: int, page_px: int) -> PageImage:
    """Page index drawn at page_px on its longest side (at most 300 dpi), on white, and its text layer. Lock held."""
    try:
        page = pdf[index]
    except pdfium.PdfiumError as error:
        raise MediaRejected(ErrorCode.TRUNCATED, f"Page {index + 1} of the PDF cannot be read ({error}); the file "
                                                 "is damaged. Save it anew and upload the new file.") from error
    try:
        scale = min(page_px / max(page.get_size()), _MAX_DPI / 72)
        bitmap = page.render(scale=scale, fill_color=_WHITE, may_draw_forms=False, draw_annots=True)
        try:
            picture = bitmap.to_pil()
            if picture.mode != "RGB":  # Pillow copies a 3-byte BGR bitmap (pdfium's opaque render) into RGB, but
                picture = picture.convert("RGB")  # shares 1- and 4-byte ones: the bitmap's buffer dies on close
        finally:
            bitmap.close()
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_bounded()  # unlike get_text_range, the whole of Unicode (CJK extension B…)
        finally:
            textpage.close()
    finally:
        page.close()
    text = text.replace("\r\n", "\n").replace("\x00", "").strip()
    return picture, text or None


def _open_pdf(path: Path) -> pdfium.PdfDocument:
    """Open (the lock held by the caller); PDFium reads the cross-reference table and the page tree's count.

    The raw call, not `PdfDocument(path)`: PDFium's last-error code is only set when loading fails, so a
    document that loads with no pages would otherwise be reported with the previous failure's reason.
    """
    raw = pdfium.raw.FPDF_LoadDocument(str(path.resolve()).encode("utf-8") + b"\x00", None)
    if not raw:
        raise _load_failure(pdfium.raw.FPDF_GetLastError())
    pdf = pdfium.PdfDocument(raw)
    if len(pdf) < 1:
        pdf.close()
        raise MediaRejected(ErrorCode.EMPTY_FILE, "The PDF has no pages; there is nothing in it to show. "
                                                  "Upload the document with its pages.")
    return pdf


def _load_failure(code: int) -> MediaRejected:
    if code == pdfium.raw.FPDF_ERR_PASSWORD:
        return MediaRejected(ErrorCode.UNSUPPORTED_FORMAT, "The PDF is protected by a password, so its pages cannot "
                                                           "be read; save a copy without the password (document "
                                                           "security: none) and upload that.")
    if code == pdfium.raw.FPDF_ERR_SECURITY:
        return MediaRejected(ErrorCode.UNSUPPORTED_FORMAT, "The PDF uses an encryption scheme we cannot open; save a "
                                                           "copy without document security and upload that.")
    return MediaRejected(ErrorCode.TRUNCATED, "The PDF's structure is damaged or incomplete (PDFium error "
                                              f"{code}); the upload may have been cut off. Upload it again or save "
                                              "it anew from the program that made it.")


def _pdf_page_size(pdf: pdfium.PdfDocument, index: int) -> tuple[float, float]:
    try:
        width, height = pdf.get_page_size(index)
    except pdfium.PdfiumError as error:
        raise MediaRejected(ErrorCode.TRUNCATED, f"Page {index + 1} of the PDF cannot be read; the file is damaged. "
                                                 "Save it anew and upload it again.") from error
    return float(width), float(height)


# --- TIFF ------------------------------------------------------------------------------------------------------


def _tiff_page_count(path: Path, size_bytes: int, limits: MediaLimits) -> int:
    """Walk the frames' directories (no pixels decoded), stopping one past the page limit."""
    with _pillow_limits(None), warnings.catch_warnings():
        # Pillow only warns when a directory is cut off (and skips it): here that is a truncated file. Its other
        # warnings (a tag with too many values…) are about sound files.
        for cut_off in _CUT_OFF_WARNINGS:
            warnings.filterwarnings("error", message=cut_off)
        try:
            with Image.open(path) as im:
                for index in range(limits.max_pages + 1):
                    try:
                        im.seek(index)
                    except EOFError:
                        return index
                    _check_frame(im, index, size_bytes, limits.max_pixels)
        except MediaRejected:
            raise
        except Exception as error:  # Pillow raises TypeError, SyntaxError, struct.error… on cut-off directories
            raise MediaRejected(ErrorCode.TRUNCATED, f"The TIFF's page directories are damaged or incomplete "
                                                     f"({error}); the upload may have been cut off. Upload it "
                                                     "again.") from error
    raise MediaRejected(ErrorCode.TOO_MANY_PAGES, f"The TIFF has more than the limit of {limits.max_pages:,} pages "
                                                  "per document; split it into volumes.")


def _check_frame(im: Image.Image, index: int, size_bytes: int, max_pixels: int) -> None:
    width, height = im.size
    if width * height > max_pixels:
        raise MediaRejected(ErrorCode.DECOMPRESSION_BOMB,
                            f"Page {index + 1} of the TIFF is {width:,} × {height:,} = {width * height:,} pixels, more "
                            f"than the limit of {max_pixels:,} pixels; reduce its resolution.")
    tags = getattr(im, "tag_v2", {})
    for offsets_tag, counts_tag in _STRIP_TAGS:
        offsets, counts = _ints(tags.get(offsets_tag)), _ints(tags.get(counts_tag))
        if offsets and counts and max(o + c for o, c in zip(offsets, counts, strict=False)) > size_bytes:
            raise MediaRejected(ErrorCode.TRUNCATED, f"Page {index + 1} of the TIFF reaches past the end of the file: "
                                                     "the upload was probably cut off. Upload it again.")


def _ints(value: object) -> list[int]:
    if isinstance(value, int):
        return [value]
    return [int(v) for v in value] if isinstance(value, tuple | list) else []


def _tiff_pages(path: Path, page_px: int) -> Generator[PageImage]:
    """Each frame decoded in turn (under Pillow's lock), made viewable and reduced outside it. No text layer."""
    with _pillow_limits(None):
        im = Image.open(path)
    with im:
        index = 0
        while True:
            with _pillow_limits(None):  # inspect_document has held every frame to the pixel limit
                try:
                    im.seek(index)
                except EOFError:
                    return
                try:
                    im.load()
                except (OSError, SyntaxError, ValueError) as error:
                    raise MediaRejected(ErrorCode.TRUNCATED, f"Page {index + 1} of the TIFF cannot be decoded "
                                                             f"({error}); the file is damaged or cut off. Upload it "
                                                             "again.") from error
                frame = im.copy()
            picture = viewable(frame)  # upright, 8-bit sRGB RGB, transparency on white
            size = derivative_size(picture.size, page_px)
            yield (picture if size == picture.size else picture.resize(size, Image.Resampling.LANCZOS,
                                                                       reducing_gap=3)), None
            index += 1


def _not_a_document(path: Path) -> MediaRejected:
    named = _SUFFIXES.get(path.suffix.lower())
    if named is not None:
        return MediaRejected(ErrorCode.EXTENSION_MISMATCH, f"'{path.name}' is named as {named} but its contents are "
                                                           "not a PDF or a TIFF; rename it or upload the right file.")
    return MediaRejected(ErrorCode.UNSUPPORTED_FORMAT, f"'{path.name}' is not a PDF or a multi-page TIFF; documents "
                                                       "are accepted as PDF or TIFF.")
