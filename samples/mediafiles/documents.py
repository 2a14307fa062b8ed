"""Documents the tests write themselves: PDFs in plain PDF syntax (no PDF library), multi-page TIFFs with Pillow.

- `pdf_with_text`: a text layer in Chinese and English. The font is Adobe's predefined STSong-Light with the
  UniGB-UCS2-H encoding (text shown as UTF-16 code units), not embedded: every PDF reader knows its characters'
  Unicode values without a font file, so the text layer reads back exactly; the glyphs drawn come from whatever
  font the renderer substitutes (missing or boxes on a machine without a CJK font). Characters
  beyond the Basic Multilingual Plane cannot be written this way.
- `scanned_pdf`: pages that are only JPEG pictures of text (as a scanner makes them): no text layer, for OCR.
- `multipage_tiff`: one frame per page, pictures of text.
- `pdf_bomb`: 100,000 pages in under 2 KB: page-tree nodes that share their children, so the declared count is
  real (each leaf is reachable that many times) while the file stays tiny.
- `truncated_pdf`: a sound PDF cut off part-way, as an interrupted upload leaves it.
- `encrypted_pdf`: a user (open) password, with the Standard security handler revision 2 (RC4, 40-bit key),
  the one simple enough to write here; every reader still opens it when given the password.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

__all__ = ["A4", "encrypted_pdf", "multipage_tiff", "pdf_bomb", "pdf_with_text", "scanned_pdf", "truncated_pdf"]

A4 = (595.0, 842.0)  # points

_FONT_PT = 18
_LEADING_PT = 24
_MARGIN_PT = 72
_SCAN_DPI = 100  # small files; the text is still large enough to read
_CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
# Algorithm 2 of the Standard security handler pads passwords with these 32 bytes (ISO 32000-1, 7.6.3.3).
_PASSWORD_PAD = bytes.fromhex("28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a")


def pdf_with_text(path: Path, pages: list[str], page_size: tuple[float, float] = A4) -> Path:
    """A PDF whose page i shows pages[i] (lines split on "\\n") as text, in Chinese or English."""
    return _write_pdf(path, _text_objects(pages, page_size))


def _text_objects(pages: list[str], page_size: tuple[float, float]) -> dict[int, bytes]:
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
           b"/DescendantFonts [4 0 R] >>",
        # CIDs 1-95 of Adobe-GB1 are the proportional ASCII characters: half the width of a Chinese one
        4: b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
           b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 5 0 R "
           b"/DW 1000 /W [1 95 500] >>",
        5: b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
           b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
    }
    width, height = page_size
    kids = []
    for index, text in enumerate(pages):
        page, contents = 6 + 2 * index, 7 + 2 * index
        kids.append(f"{page} 0 R")
        shown = " ".join(f"<{line.encode('utf-16-be').hex()}> Tj T*" for line in text.split("\n"))
        ops = f"BT /F1 {_FONT_PT} Tf {_LEADING_PT} TL {_MARGIN_PT} {height - _MARGIN_PT} Td {shown} ET".encode()
        objects[page] = (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width:g} {height:g}] "
                         f"/Resources << /Font << /F1 3 0 R >> >> /Contents {contents} 0 R >>").encode()
        objects[contents] = _stream(ops)
    objects[2] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>".encode()
    return objects


def scanned_pdf(path: Path, pages: list[str], page_size: tuple[float, float] = A4) -> Path:
    """A PDF whose pages are JPEG pictures of pages[i]'s text, and nothing else: no text layer."""
    width, height = page_size
    px = round(width * _SCAN_DPI / 72), round(height * _SCAN_DPI / 72)
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R >>"}
    kids = []
    for index, text in enumerate(pages):
        page, contents, image = 3 + 3 * index, 4 + 3 * index, 5 + 3 * index
        kids.append(f"{page} 0 R")
        jpeg = BytesIO()
        text_picture(text, px).save(jpeg, "JPEG", quality=80)
        objects[page] = (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width:g} {height:g}] "
                         f"/Resources << /XObject << /Scan {image} 0 R >> >> /Contents {contents} 0 R >>").encode()
        objects[contents] = _stream(f"q {width:g} 0 0 {height:g} 0 0 cm /Scan Do Q".encode())
        objects[image] = _stream(jpeg.getvalue(), {"Type": "/XObject", "Subtype": "/Image", "Width": px[0],
                                                   "Height": px[1], "ColorSpace": "/DeviceGray",
                                                   "BitsPerComponent": 8, "Filter": "/DCTDecode"})
    objects[2] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>".encode()
    return _write_pdf(path, objects)


def multipage_tiff(path: Path, pages: list[str], size: tuple[int, int] = (600, 800), mode: str = "RGB") -> Path:
    """A TIFF with one frame per entry of pages, each a picture of its text (deflate-compressed)."""
    frames = [text_picture(text, size).convert(mode) for text in pages]
    frames[0].save(path, "TIFF", save_all=True, append_images=frames[1:], compression="tiff_deflate")
    return path


def pdf_bomb(path: Path, pages: int = 100_000) -> Path:
    """A PDF of `pages` blank pages in a few hundred bytes: node k holds 10 references to node k-1 (10^k pages)."""
    digits = [int(d) for d in reversed(str(pages))]  # pages = Σ digits[k] × 10^k
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R >>",
               3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"}  # node 0: one page
    for k in range(1, len(digits)):
        objects[3 + k] = (f"<< /Type /Pages /Parent 2 0 R /Kids [{' '.join([f'{2 + k} 0 R'] * 10)}] "
                          f"/Count {10 ** k} >>").encode()
    kids = [f"{3 + k} 0 R" for k, digit in enumerate(digits) for _ in range(digit)]
    objects[2] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {pages} >>".encode()
    return _write_pdf(path, objects)


def truncated_pdf(path: Path, pages: list[str], keep: float = 0.6) -> Path:
    """`pdf_with_text(pages)` cut off after `keep` of its bytes, as an interrupted upload leaves it."""
    whole = pdf_with_text(path, pages).read_bytes()
    path.write_bytes(whole[: int(len(whole) * keep)])
    return path


def encrypted_pdf(path: Path, text: str = "Confidential 机密", password: str = "secret") -> Path:
    """A one-page text PDF that opens only with `password` (Standard security handler, revision 2)."""
    permissions = -44  # print and copy allowed: any reader still asks for the open password first
    file_id = hashlib.md5(path.name.encode()).digest()
    owner_key = hashlib.md5(_padded("owner-" + password)).digest()[:5]
    owner_entry = _rc4(owner_key, _padded(password))
    key = hashlib.md5(_padded(password) + owner_entry + struct.pack("<i", permissions) + file_id).digest()[:5]
    user_entry = _rc4(key, _PASSWORD_PAD)
    ops = f"BT /F1 {_FONT_PT} Tf {_MARGIN_PT} 700 Td <{text.encode('utf-16-be').hex()}> Tj ET".encode()
    objects = _text_objects([text], A4)
    contents = 7  # pdf_with_text's first content stream; every object's strings and streams use its own key
    objects[contents] = _stream(_rc4(_object_key(key, contents), ops))
    objects[100] = (f"<< /Filter /Standard /V 1 /R 2 /O <{owner_entry.hex()}> /U <{user_entry.hex()}> "
                    f"/P {permissions} >>").encode()
    return _write_pdf(path, objects, f"/Encrypt 100 0 R /ID [<{file_id.hex()}> <{file_id.hex()}>]")


def text_picture(text: str, size: tuple[int, int]) -> Image.Image:
    """Black text on white, in a CJK-capable font where the machine has one (else Pillow's own, Latin only)."""
    picture = Image.new("L", size, 255)
    font = _font(max(12, size[1] // 30))
    ImageDraw.Draw(picture).multiline_text((size[0] // 12, size[1] // 12), text, fill=0, font=font,
                                           spacing=size[1] // 60)
    return picture


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in _CJK_FONTS:
        if Path(candidate).is_file():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size)


def _stream(data: bytes, entries: Mapping[str, object] | None = None) -> bytes:
    extra = "".join(f" /{name} {value}" for name, value in (entries or {}).items())
    return f"<< /Length {len(data)}{extra} >>\nstream\n".encode() + data + b"\nendstream"


def _write_pdf(path: Path, objects: Mapping[int, bytes], trailer: str = "") -> Path:
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += f"{number} 0 obj\n".encode() + objects[number] + b"\nendobj\n"
    size = max(objects) + 1
    xref = len(out)
    out += f"xref\n0 {size}\n0000000000 65535 f \n".encode()
    for number in range(1, size):
        out += (f"{offsets[number]:010d} 00000 n \n" if number in offsets else "0000000000 65535 f \n").encode()
    out += f"trailer\n<< /Size {size} /Root 1 0 R {trailer}>>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


def _padded(password: str) -> bytes:
    return (password.encode("latin-1") + _PASSWORD_PAD)[:32]


def _object_key(key: bytes, number: int) -> bytes:
    return hashlib.md5(key + number.to_bytes(3, "little") + b"\x00\x00").digest()[: len(key) + 5]


def _rc4(key: bytes, data: bytes) -> bytes:
    state = list(range(256))
    j = 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(out)
