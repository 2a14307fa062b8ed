"""Structured logs (services/logs.py): JSON lines that keep the `extra=` fields and the request id."""

from __future__ import annotations

import json
import logging

from services.logs import JsonFormatter, request_id


def _line(record: logging.LogRecord) -> dict[str, object]:
    doc: dict[str, object] = json.loads(JsonFormatter().format(record))
    return doc


def _record(msg: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("services.test", logging.INFO, __file__, 1, msg, None, None)
    record.__dict__.update(extra)
    return record


def test_a_line_keeps_the_extra_fields_the_code_passes() -> None:
    line = _line(_record("stored chunk", batch_id="b1", chunk="k/1", items=3))

    assert line["message"] == "stored chunk" and line["level"] == "INFO" and line["logger"] == "services.test"
    assert (line["batch_id"], line["chunk"], line["items"]) == ("b1", "k/1", 3)


def test_a_line_logged_while_a_request_is_answered_carries_its_id() -> None:
    token = request_id.set("rid-1")
    try:
        line = _line(_record("hello"))
    finally:
        request_id.reset(token)

    assert line["request_id"] == "rid-1"
    assert "request_id" not in _line(_record("outside a request"))


def test_an_exception_is_logged_with_its_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        import sys
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())

    assert "ValueError: boom" in str(_line(record)["exc_info"])
