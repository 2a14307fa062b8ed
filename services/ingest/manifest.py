"""Read a batch manifest (CSV or JSON Lines) into validated rows, reporting every bad row.

Nothing is silently dropped: each physical record comes out as a `ParsedRow`, valid (with its
`ManifestRow`) or with `RowError`s naming the row (the line number a spreadsheet shows, header =
1), the column as the museum wrote it, and the reason. Problems that make the whole file
unreadable (no header, no id column, unknown format) raise `ManifestError`.

Robustness, because museum exports are messy:
- UTF-8 with or without BOM. Bytes that are not UTF-8 (a GBK export saved as "UTF-8") reject
  only the rows that contain them, with the encoding they look like.
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
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from charset_normalizer import from_bytes
from pydantic import ValidationError

from schemas.columns import field_for, is_empty
from schemas.manifest import LABEL_SEPARATOR, MEDIA_SEPARATOR, ManifestRow, MediaRef
from services.ingest.errors import ErrorCode


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
            if field_for(column) == "object_id" and value.strip():
                return value.strip()
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


def read_manifest(path: Path, *, max_rows: int = 200_000) -> Iterator[ParsedRow]:
    """Every record of the manifest, validated; two passes over the file (ids first), flat memory."""
    counts = Counter(r.object_id for r in _records(path, max_rows) if r.object_id)
    first_rows: dict[str, list[int]] = {}
    if any(n > 1 for n in counts.values()):
        for r in _records(path, max_rows):
            if r.object_id and counts[r.object_id] > 1:
                first_rows.setdefault(r.object_id, []).append(r.row)
    for parsed in _records(path, max_rows):
        if not parsed.errors:
            _validate(parsed)
        oid = parsed.object_id
        if oid and counts[oid] > 1:
            others = ", ".join(str(n) for n in first_rows[oid] if n != parsed.row)
            parsed.errors.append(RowError(parsed.row, _column_of(parsed, "object_id"),
                                          f"object id {oid!r} appears more than once (also row {others})",
                                          ErrorCode.DUPLICATE_OBJECT_ID))
            parsed.record = None
        yield parsed


def _records(path: Path, max_rows: int) -> Iterator[ParsedRow]:
    reader = _csv_records if manifest_format(path.name) == "csv" else _jsonl_records
    for n, parsed in enumerate(reader(path)):
        if n >= max_rows:
            raise ManifestError(f"manifest has more than {max_rows} rows; split the batch")
        yield parsed


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="surrogateescape").lstrip("\ufeff")


def _encoding_error(row: int, column: str | None, value: str) -> RowError:
    raw = value.encode("utf-8", errors="surrogateescape")
    hint = ""
    for encoding in ("gb18030", "big5"):  # what Chinese spreadsheets save as "ANSI"
        try:
            raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        hint = f"; it looks like {'GBK/GB18030' if encoding == 'gb18030' else 'Big5'}"
        break
    else:
        guess = from_bytes(raw).best()
        hint = f"; it looks like {guess.encoding}" if guess else ""
    hint += " — save the manifest as UTF-8"
    return RowError(row, column, f"text is not valid UTF-8{hint}", ErrorCode.INVALID_ENCODING)


def _csv_records(path: Path) -> Iterator[ParsedRow]:
    with path.open("rb") as f:
        lines = [_decode(line) for line in f]  # text lines only: media never passes through here
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
        cells = next(csv.reader(io.StringIO(chunk)), [])
        balanced = chunk.count('"') % 2 == 0
        if not balanced or (i - start > 1 and len(cells) != len(header)):
            yield ParsedRow(start + 1, {}, errors=[RowError(
                start + 1, None, "unbalanced quote: a cell opens a quote (\") that never closes; "
                "this row was skipped and reading went on with the next line", ErrorCode.UNBALANCED_QUOTE)])
            i = start + 1
            continue
        yield _row_from_cells(start + 1, header, cells)


def _row_from_cells(row: int, header: list[str], cells: list[str]) -> ParsedRow:
    parsed = ParsedRow(row, dict(zip(header, cells, strict=False)))
    if len(cells) != len(header):
        parsed.errors.append(RowError(row, None, f"{len(cells)} cells where the header has {len(header)} columns",
                                      ErrorCode.WRONG_CELL_COUNT))
    for column, value in parsed.cells.items():
        if any("\udc80" <= ch <= "\udcff" for ch in value):
            parsed.errors.append(_encoding_error(row, column, value))
    return parsed


def _jsonl_records(path: Path) -> Iterator[ParsedRow]:
    with path.open("rb") as f:
        for n, raw in enumerate(f, start=1):
            text = _decode(raw).strip()
            if not text:
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                if any("\udc80" <= ch <= "\udcff" for ch in text):
                    yield ParsedRow(n, {}, errors=[_encoding_error(n, None, text)])
                else:
                    yield ParsedRow(n, {}, errors=[RowError(n, None, f"not a JSON object: {exc.msg} at column "
                                                            f"{exc.colno}", ErrorCode.INVALID_VALUE)])
                continue
            if not isinstance(obj, dict):
                yield ParsedRow(n, {}, errors=[RowError(n, None, "each line must be a JSON object",
                                                        ErrorCode.INVALID_VALUE)])
                continue
            yield ParsedRow(n, {str(k): v for k, v in obj.items()})  # values may be lists (media) or objects


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


def _validate(parsed: ParsedRow) -> None:
    data: dict[str, Any] = {}
    extra: dict[str, str] = {}
    for column, value in parsed.cells.items():
        field_name = field_for(column)
        if isinstance(value, str) and is_empty(value):
            continue
        if field_name is None:
            extra[column] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        else:
            data[field_name] = value
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
