"""Structured logs: one JSON object a line, keeping the `extra=` fields the code passes.

`configure(level)` sends every logger's records (uvicorn's included) through one handler on the root
logger with `JsonFormatter`; the gateway calls it in its app factory, a DAG task or the CLI may too.
`request_id` is the id of the request being answered (set by the gateway's middleware from the
`X-Request-ID` it receives or makes), added to every line logged while it is answered.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# The attributes every LogRecord has: anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", "request_id"?, <extra fields>…, "exc_info"?}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                               "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if (rid := request_id.get()) is not None:
            doc["request_id"] = rid
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                doc[key] = value
        if record.exc_info:
            doc["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            doc["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(doc, ensure_ascii=False, default=str)


def configure(level: str | int = "INFO") -> None:
    """JSON lines on stderr for every logger; idempotent (a second call replaces the handler)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_wenyuan", False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._wenyuan = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # uvicorn's own text handlers would bypass it
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
