"""The per-item report of a batch: every item received — stored and indexed, or rejected with row,
field, code and reason — as JSON (the items) and CSV (one row per item and error or warning).

Every CSV the service writes goes through `safe_csv_cell`: a cell that a spreadsheet would run as a
formula (it begins with =, +, -, @, a tab or a carriage return: `=HYPERLINK(…)` in a museum's own
title comes back in the report) is prefixed with an apostrophe, as OWASP advises, so Excel shows it
as text.

The finalize step (services/ingest/finalize.py) gathers the items and writes both.
"""

from __future__ import annotations

import csv
import io
from typing import Any

REPORT_COLUMNS = ["row", "object_id", "status", "asset_id", "field", "code", "reason", "paths"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_csv_cell(value: object) -> object:
    """`value`, with an apostrophe before text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def report_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One flat row per item and error, for the CSV."""
    rows = []
    for item in items:
        base = {"row": item.get("row"), "object_id": item.get("object_id"), "status": item["status"],
                "asset_id": item.get("asset_id"), "paths": "; ".join(item.get("paths", []))}
        for err in (item.get("errors") or []) + (item.get("warnings") or []) or [{}]:
            rows.append(base | {"field": err.get("field"), "code": err.get("code"), "reason": err.get("reason")})
    return rows


def to_csv(items: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: safe_csv_cell(v) for k, v in row.items()} for row in report_rows(items))
    return out.getvalue()
