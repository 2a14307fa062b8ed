"""The text lines of a manifest, and what to tell a museum whose file is not UTF-8.

Manifests are UTF-8 (a BOM is tolerated). Real exports are not always:
- UTF-16 with a byte-order mark (Excel's "Unicode text") is simply decoded;
- a file whose first line (the CSV header) is not UTF-8 — Excel's "CSV" on Chinese Windows saves
  the whole file as GBK — cannot be read at all: `NotUtf8` says which encoding it is and how to fix it;
- a few rows with bytes that are not UTF-8 reject only those rows, each naming the encoding.

The encoding is named from the file's undecodable lines read together: GBK, Big5 or Shift-JIS
by which of them decodes the bytes to everyday characters (`_commonness`; a tie, e.g. two
characters valid in both, goes to GBK, what Chinese spreadsheets save as "ANSI"), otherwise
charset-normalizer's guess (Latin-1, Windows-1252 …). Undecodable bytes travel as
surrogate escapes (`\\udc80`–`\\udcff`) so a row can be rejected without losing its line.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path

from charset_normalizer import from_bytes

FIX = "save the manifest as UTF-8"
EXCEL_FIX = ("save the manifest as UTF-8 (in Excel: Save As → \"CSV UTF-8 (comma delimited)\"; in WPS or "
             "LibreOffice: character set UTF-8)")
_SAMPLE_BYTES = 64 * 1024  # undecodable lines read for a guess
_NAMES = {"gb18030": "GBK/GB18030", "gbk": "GBK/GB18030", "gb2312": "GBK/GB18030", "hz": "GBK/GB18030",
          "big5": "Big5", "big5hkscs": "Big5", "cp950": "Big5",
          "cp932": "Shift-JIS", "shift_jis": "Shift-JIS", "shift_jis_2004": "Shift-JIS", "shift_jisx0213": "Shift-JIS",
          "euc_jp": "EUC-JP", "euc_jis_2004": "EUC-JP", "cp949": "EUC-KR (Korean)", "euc_kr": "EUC-KR (Korean)",
          "utf_16": "UTF-16", "utf_16_le": "UTF-16", "utf_16_be": "UTF-16", "utf_32": "UTF-32"}


class NotUtf8(ValueError):
    """The whole manifest is in another encoding."""


def has_escapes(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def name_of(raw: bytes) -> str | None:
    """A human name for the encoding `raw` (bytes that are not UTF-8) looks like, or None."""
    if raw[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) or _looks_utf16(raw):
        return "UTF-16"
    scores = {encoding: _commonness(raw, encoding) for encoding in _CJK}  # ties: the first (GBK, then Big5)
    best = max(scores, key=lambda e: scores[e])
    if scores[best] >= 0.5:
        return _NAMES[best]
    guess = from_bytes(raw).best()
    return _NAMES.get(guess.encoding, guess.encoding) if guess else None


_CJK = ("gb18030", "big5", "cp932")


def _commonness(raw: bytes, encoding: str) -> float:
    """The share of the non-ASCII characters `raw` decodes to in `encoding` that are everyday characters of
    its script (-1 if it does not decode). Statistical guessers need far more text than a manifest cell;
    misread bytes land on rare characters: Big5 read as GBK gives few of GB2312's level-1 hanzi,
    Shift-JIS read as anything else gives no kana."""
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        return -1.0
    flags = [c for c in (_everyday(ch, encoding) for ch in text) if c is not None]
    return sum(flags) / len(flags) if flags else 0.0


def _everyday(ch: str, encoding: str) -> bool | None:
    if ord(ch) < 0x80:
        return None
    if 0x3040 <= ord(ch) <= 0x30FF:  # kana: Japanese
        return encoding == "cp932"
    try:
        if encoding == "gb18030":  # GB2312 level 1 (3,755 common hanzi) and its punctuation rows
            lead = ch.encode("gb2312")[0]
            return 0xB0 <= lead <= 0xD7 or lead in (0xA1, 0xA3)
        if encoding == "big5":  # Big5's 5,401 frequently used characters and punctuation
            lead = ch.encode("big5")[0]
            return 0xA4 <= lead <= 0xC6 or lead == 0xA1
        lead = ch.encode("cp932")[0]  # JIS level 1 kanji and punctuation
        return 0x88 <= lead <= 0x9F or lead == 0x81
    except UnicodeEncodeError:
        return False


def _looks_utf16(raw: bytes) -> bool:
    """Mostly-ASCII text in UTF-16 without a BOM: every other byte is NUL."""
    sample = raw[:4096]
    return len(sample) >= 8 and (sample[1::2].count(0) > len(sample) // 4 or sample[0::2].count(0) > len(sample) // 4)


class ManifestText:
    """The lines of a manifest file, decoded once per pass; `hint` names the encoding of undecodable rows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._hint: str | None = None

    def lines(self, *, header: bool) -> Iterator[str]:
        """Each line with its ending; with `header`, a first line that is not UTF-8 raises NotUtf8."""
        with self.path.open("rb") as f:
            utf16 = f.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
        if utf16:
            with self.path.open(encoding="utf-16", errors="surrogateescape", newline="") as text:
                yield from text
            return
        with self.path.open("rb") as f:
            first = True
            for raw in f:
                line = raw.decode("utf-8", errors="surrogateescape")
                if first:
                    line = line.lstrip("\ufeff")
                    if header and (has_escapes(line) or line.count("\x00") > len(line) // 4):  # UTF-16: NUL halves
                        raise self._whole_file()
                    first = not line.strip()
                yield line

    def _whole_file(self) -> NotUtf8:
        with self.path.open("rb") as f:
            sample = f.read(_SAMPLE_BYTES)
        name = name_of(sample)
        what = f"it is {name}" if name else "its encoding could not be recognised"
        excel = " (what Excel's \"CSV\" saves on Chinese Windows)" if name == "GBK/GB18030" else ""
        return NotUtf8(f"the manifest is not UTF-8: {what}{excel}; {EXCEL_FIX}")

    def hint(self) -> str:
        """'; it looks like Big5 — save the manifest as UTF-8', from every undecodable line of the file."""
        if self._hint is None:
            sample = bytearray()
            with self.path.open("rb") as f:
                for raw in f:
                    try:
                        raw.decode("utf-8")
                    except UnicodeDecodeError:
                        sample += raw
                        if len(sample) >= _SAMPLE_BYTES:
                            break
            name = name_of(bytes(sample)) if sample else None
            self._hint = (f"; it looks like {name}" if name else "") + f" — {FIX}"
        return self._hint
