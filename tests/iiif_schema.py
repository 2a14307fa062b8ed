"""Validation against the IIIF Presentation 3.0 JSON Schema (tests/fixtures/iiif, draft-07; every $ref is local)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jsonschema import Draft7Validator

from tests.helpers import ROOT

SCHEMA = ROOT / "tests/fixtures/iiif/iiif-presentation-3.0.schema.json"
CONTEXT = "http://iiif.io/api/presentation/3/context.json"


@cache
def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    return schema


@cache
def validator(kind: str | None = None) -> Draft7Validator:
    """The whole schema (any Presentation 3.0 document, as the official validator checks), or one of its
    classes (`manifest`, `collection`) alone, whose errors say more than the whole schema's `oneOf`."""
    schema = _schema() if kind is None else {**_schema(), "oneOf": [{"$ref": f"#/classes/{kind}"}]}
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def assert_valid_presentation(doc: dict[str, Any]) -> None:
    """`doc` is a valid Presentation 3.0 Manifest or Collection, with the Presentation 3 context."""
    kind = str(doc.get("type", "")).lower()
    errors = list(validator().iter_errors(doc))
    if errors and kind in {"manifest", "collection"}:
        errors = list(validator(kind).iter_errors(doc)) or errors
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message[:300]}" for e in errors[:10])
    assert doc["@context"] == CONTEXT
