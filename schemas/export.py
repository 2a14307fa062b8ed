"""Write the JSON Schemas and vocabularies of schemas/ to schemas/json/ (`python -m schemas.export`).

Museums validate manifests against `manifest-row.schema.json` before they upload; the files are
generated, never edited by hand, and a test fails when they drift from the models.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from schemas.asset import AssetRecord
from schemas.columns import COLUMN_ALIASES
from schemas.licences import LICENCES
from schemas.manifest import ManifestRow

OUT = Path(__file__).resolve().parent / "json"


def documents() -> dict[str, Any]:
    row = ManifestRow.model_json_schema(mode="validation")
    # In a manifest the licence is written as a URI, a code or a restricted policy, then parsed.
    row["properties"]["licence"] = {
        "title": "Licence", "type": "string", "description": ManifestRow.model_fields["licence"].description,
        "examples": ["CC0", "CC-BY-4.0", "http://rightsstatements.org/vocab/InC-EDU/1.0/", "restricted:institution"],
    }
    row["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    row["$id"] = "https://wenyuan.dev/schemas/manifest-row.schema.json"
    asset = AssetRecord.model_json_schema(mode="serialization")
    asset["$schema"] = row["$schema"]
    asset["$id"] = "https://wenyuan.dev/schemas/asset-record.schema.json"
    return {
        "manifest-row.schema.json": row,
        "asset-record.schema.json": asset,
        "licences.json": {code: lic.model_dump(mode="json") for code, lic in LICENCES.items()},
        "column-aliases.json": {field: list(aliases) for field, aliases in COLUMN_ALIASES.items()},
    }


def render(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def main() -> int:
    OUT.mkdir(exist_ok=True)
    for name, doc in documents().items():
        (OUT / name).write_text(render(doc), encoding="utf-8")
        print(f"wrote schemas/json/{name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
