"""Read a batch manifest (CSV or JSON Lines) into validated rows, reporting every bad row.

Nothing is silently dropped: each physical record comes out as a `ParsedRow`, valid (with its
`ManifestRow`) or with `RowError`s naming the row (the line number a spreadsheet shows, header =
1), the column as the museum wrote it, and the reason. Problems that make the whole file
unreadable (no header, no id column, unknown format) raise `ManifestError`.

Robustness, because museum exports are messy:
- UTF-8 with or without BOM, UTF-16 with BOM. A CSV whose header is not UTF-8 (Excel's GBK
  "CSV") fails with the encoding it is in and the fix; other bytes that are not UTF-8 reject only
  the rows that contain them, with the encoding they look like (services/ingest/encodings.py).
- One hostile row never stops the file: a cell longer than csv's default 131,072 characters, a
  value over its field's length limit (`ingest.max_*_chars`), a NUL character in a key or value,
  JSON nested deeper than `MAX_DEPTH` (or too deep for Python's parser), a number too long to
  read — each rejects its row with a code. A number where JSON Lines wants a string (an object id
  exported as 1024) is read as its text; null is an empty value.
- An unbalanced quote would make a CSV parser swallow every following line into one cell; a
  record that spans lines but does not have the header's number of cells is taken to be that
  mistake: its first line is rejected and parsing resumes on the next line.
- Duplicate object ids: every row of a duplicated id is rejected (which one is right is the
  museum's call), each pointing at the others.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from schemas.columns import field_for, is_empty
from schemas.manifest import LABEL_SEPARATOR, MEDIA_SEPARATOR, ManifestRow, MediaRef
from services.ingest.cells import depth, has_nul, scalar_text
from services.ingest.encodings import ManifestText, NotUtf8, has_escapes
from services.ingest.errors import ErrorCode
from services.settings import IngestSettings

MAX_DEPTH = 16  # a row is flat (media: a list of objects); deeper JSON is kept only as text in `extra`
MAX_CELL_CHARS = 64 * 1024 * 1024  # csv's own limit (131,072) would stop the file; the field limits reject far less
csv.field_size_limit(min(sys.maxsize, MAX_CELL_CHARS))
TITLES = {"title_zh", "title_en", "original_title"}
DESCRIPTIONS = {"description_zh", "description_en"}


class ManifestError(ValueError):
    """The manifest as a whole cannot be read."""


@dataclass
class RowError:
    row: int | None
    field: str | None
    reason: str
    code: ErrorCode


@dataclass
class ParsedRow:
    row: int
    cells: dict[str, str]
    record: ManifestRow | None = None
    errors: list[RowError] = field(default_factory=list)

    @property
    def media_paths(self) -> list[str]:
        """The files this row lists, read leniently from the raw cell (also when the row is invalid)."""
        if self.record is not None:
            return [m.path for m in self.record.media]
        raw = next((v for c, v in self.cells.items() if field_for(c) == "media"), None)
        return [m.path for m in _lenient_media(raw)]

    @property
    def object_id(self) -> str | None:
        for column, value in self.cells.items():
            if field_for(column) == "object_id":
                text = scalar_text(value)
                if text and text.strip():
                    return text.strip()
        return None


def _lenient_media(raw: object) -> list[MediaRef]:
    if isinstance(raw, str):
        parts: list[object] = [p.partition(LABEL_SEPARATOR)[0] for p in raw.split(MEDIA_SEPARATOR) if p.strip()]
    elif isinstance(raw, list):
        parts = [p.get("path") if isinstance(p, dict) else p for p in raw]
    else:
        return []
    refs = []
    for part in parts:
        try:
            refs.append(MediaRef(path=str(part)))
        except ValidationError:
            continue  # an unsafe path names no file of the batch
    return refs


def manifest_format(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in {".jsonl", ".ndjson"}:
        return "jsonl"
    raise ManifestError(f"manifest {name!r}: use a .csv or .jsonl file")


def read_manifest(path: Path, *, max_rows: int = 200_000, limits: IngestSettings | None = None) -> Iterator[ParsedRow]:
    """Every record of the manifest, validated; two passes over the file (ids first), flat memory."""
    text = ManifestText(path)
    counts = Counter(r.object_id for r in _records(text, max_rows) if r.object_id)
    first_rows: dict[str, list[int]] = {}
    if any(n > 1 for n in counts.values()):
        for r in _records(text, max_rows):
            if r.object_id and counts[r.object_id] > 1:
                first_rows.setdefault(r.object_id, []).append(r.row)
    for parsed in _records(text, max_rows):
        if not parsed.errors:
            _validate(parsed, limits or IngestSettings())
        oid = parsed.object_id
        if oid and counts[oid] > 1:
            others = ", ".join(str(n) for n in first_rows[oid] if n != parsed.row)
            parsed.errors.append(RowError(parsed.row, _column_of(parsed, "object_id"),
                                          f"object id {oid!r} appears more than once (also row {others})",
                                          ErrorCode.DUPLICATE_OBJECT_ID))
            parsed.record = None
        yield parsed


def _records(text: ManifestText, max_rows: int) -> Iterator[ParsedRow]:
    reader = _csv_records if manifest_format(text.path.name) == "csv" else _jsonl_records
    try:
        for n, parsed in enumerate(reader(text)):
            if n >= max_rows:
                raise ManifestError(f"manifest has more than {max_rows} rows; split the batch")
            yield parsed
    except NotUtf8 as exc:
        raise ManifestError(str(exc)) from None


def _encoding_error(text: ManifestText, row: int, column: str | None) -> RowError:
    return RowError(row, column, f"text is not valid UTF-8{text.hint()}", ErrorCode.INVALID_ENCODING)


def _nul_error(row: int, column: str | None) -> RowError:
    where = f"column {column!r}" if column else "a column name"
    return RowError(row, column, f"{where} holds a NUL character (\\u0000), which no text field may contain; "
                    "remove it", ErrorCode.NUL_CHARACTER)


def _csv_records(text: ManifestText) -> Iterator[ParsedRow]:
    lines = list(text.lines(header=True))  # text lines only: media never passes through here
    if not lines or not lines[0].strip():
        raise ManifestError("the manifest is empty: the first line must name the columns")
    header = next(csv.reader([lines[0]]))
    _check_header(header)
    i = 1
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        start, chunk = i, lines[i]
        while chunk.count('"') % 2 and i + 1 < len(lines):
            i += 1
            chunk += lines[i]
        i += 1
        try:
            cells = next(csv.reader(io.StringIO(chunk)), [])
        except csv.Error as exc:  # a cell over MAX_CELL_CHARS
            yield ParsedRow(start + 1, {}, errors=[RowError(start + 1, None, f"the row cannot be read as CSV: {exc}",
                                                            ErrorCode.FIELD_TOO_LONG)])
            continue
        balanced = chunk.count('"') % 2 == 0
        if not balanced or (i - start > 1 and len(cells) != len(header)):
            yield ParsedRow(start + 1, {}, errors=[RowError(
                start + 1, None, "unbalanced quote: a cell opens a quote (\") that never closes; "
                "this row was skipped and reading went on with the next line", ErrorCode.UNBALANCED_QUOTE)])
            i = start + 1
            continue
        yield _row_from_cells(text, start + 1, header, cells)


def _row_from_cells(text: ManifestText, row: int, header: list[str], cells: list[str]) -> ParsedRow:
    parsed = ParsedRow(row, dict(zip(header, cells, strict=False)))
    if len(cells) != len(header):
        parsed.errors.append(RowError(row, None, f"{len(cells)} cells where the header has {len(header)} columns",
                                      ErrorCode.WRONG_CELL_COUNT))
    for column, value in parsed.cells.items():
        if has_escapes(value):
            parsed.errors.append(_encoding_error(text, row, column))
        if "\x00" in value or "\x00" in column:
            parsed.errors.append(_nul_error(row, column))
    return parsed


def _jsonl_records(text: ManifestText) -> Iterator[ParsedRow]:
    for n, line in enumerate(text.lines(header=False), start=1):
        line = line.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            if has_escapes(line):
                yield ParsedRow(n, {}, errors=[_encoding_error(text, n, None)])
            else:
                yield ParsedRow(n, {}, errors=[RowError(n, None, f"not a JSON object: {exc.msg} at column "
                                                        f"{exc.colno}", ErrorCode.INVALID_VALUE)])
            continue
        except RecursionError:
            yield ParsedRow(n, {}, errors=[_too_deep(n, None)])
            continue
        except ValueError as exc:  # e.g. an integer of more than 4,300 digits
            yield ParsedRow(n, {}, errors=[RowError(n, None, f"not a JSON object: {exc}", ErrorCode.INVALID_VALUE)])
            continue
        if not isinstance(obj, dict):
            yield ParsedRow(n, {}, errors=[RowError(n, None, "each line must be a JSON object",
                                                    ErrorCode.INVALID_VALUE)])
            continue
        parsed = ParsedRow(n, {str(k): v for k, v in obj.items()})  # values may be lists (media) or objects
        for key, value in parsed.cells.items():
            if depth(value, MAX_DEPTH) > MAX_DEPTH - 1:
                parsed.errors.append(_too_deep(n, key))
            elif "\x00" in key or has_nul(value):
                parsed.errors.append(_nul_error(n, key))
        yield parsed


def _too_deep(row: int, column: str | None) -> RowError:
    return RowError(row, column, f"JSON nested more than {MAX_DEPTH} levels deep; a row is flat (media: a list "
                    "of objects)", ErrorCode.TOO_DEEP)


def _check_header(header: list[str]) -> None:
    seen: dict[str, str] = {}
    for column in header:
        target = field_for(column)
        if target and target in seen:
            raise ManifestError(f"columns {seen[target]!r} and {column!r} both mean {target}; keep one")
        if target:
            seen[target] = column
    if "object_id" not in seen:
        raise ManifestError("no object id column: name one 文物编号, 藏品编号, object_id or accession number")


def _column_of(parsed: ParsedRow, target: str) -> str:
    for column in parsed.cells:
        if field_for(column) == target:
            return column if column == target else f"{column} ({target})"
    return target


def _limit(field_name: str | None, limits: IngestSettings) -> tuple[int, str]:
    if field_name in TITLES:
        return limits.max_title_chars, "ingest.max_title_chars"
    if field_name in DESCRIPTIONS:
        return limits.max_description_chars, "ingest.max_description_chars"
    return limits.max_text_chars, "ingest.max_text_chars"


def _validate(parsed: ParsedRow, limits: IngestSettings) -> None:
    data: dict[str, Any] = {}
    extra: dict[str, str] = {}
    for column, cell in parsed.cells.items():
        field_name = field_for(column)
        value: Any = cell
        if value is None or (isinstance(value, str) and is_empty(value)):
            continue
        if field_name not in {"media", "materials"} and scalar_text(value) is not None:
            value = scalar_text(value)  # a JSON number where a string is meant: its text
        if field_name is None:
            value = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            extra[column] = value
        else:
            data[field_name] = value
        limit, setting = _limit(field_name, limits)
        if field_name != "media" and isinstance(value, str) and len(value) > limit:
            parsed.errors.append(RowError(parsed.row, _column_of(parsed, field_name) if field_name else column,
                                          f"{len(value):,} characters, more than the {limit:,} allowed ({setting})",
                                          ErrorCode.FIELD_TOO_LONG))
    if parsed.errors:
        return
    data["extra"] = extra
    try:
        parsed.record = ManifestRow.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            target: str | None = str(err["loc"][0]) if err["loc"] else None
            where = _column_of(parsed, target) if target else None
            code = ErrorCode.INVALID_VALUE
            if err["type"] == "missing":
                code = ErrorCode.MISSING_FIELD
            elif target == "licence":
                code = ErrorCode.UNKNOWN_LICENCE
            elif target == "media" and (".." in err["msg"] or "absolute" in err["msg"]):
                code = ErrorCode.UNSAFE_PATH
            reason = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                reason = f"required field {target} is empty or missing"
            elif not err["loc"]:
                code = ErrorCode.MISSING_FIELD if "title is required" in reason else code
            parsed.errors.append(RowError(parsed.row, where, reason, code))
