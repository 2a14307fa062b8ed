"""What a read asks Elasticsearch to return of a stored record: its `_source` filter.

A record as the service shows it has no vectors and no search-only fields; that list is the
contract's (`schemas.asset.SEARCH_ONLY_PATHS`, which `AssetRecord.public_view` drops from a model),
so a search hit, a loaded asset, a dump line and a harvested record all leave out the same fields.
Only the readers that need the vectors themselves (similar assets, search by an indexed image) ask
for them, and dumps and harvests also leave out the model-derived `ai` data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from schemas.asset import SEARCH_ONLY_PATHS


def record_source(*, ai: bool = True, vectors: bool = False, leave_out: Sequence[str] = ()) -> dict[str, Any]:
    """The `source` parameter of a search: the record without its vectors and search-only fields.

    `ai=False` also leaves out the model-derived data, `leave_out` further fields (dotted paths);
    `vectors=True` returns the whole stored document, vectors included."""
    if vectors:
        return {"exclude_vectors": False}
    return {"excludes": [*SEARCH_ONLY_PATHS, *([] if ai else ["ai"]), *leave_out]}
