"""Looking one record up through a caller's visibility filter: the filter is in the query, never applied after.

A record the caller may not see is simply not found, exactly like one that does not exist, so no
reader can tell the two apart. services/access/seen.py adds what the caller receives of the record.
"""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from indexing.source import record_source


def find_one(es: Elasticsearch, index: str, clause: dict[str, Any], visibility: dict[str, Any] | None, *,
             vectors: bool = False) -> dict[str, Any] | None:
    """The first hit matching `clause` that `visibility` lets through (with `matched_queries`), or None.

    Its `_source` is the record without vectors unless `vectors`."""
    query = {"bool": {"filter": [clause, *([visibility] if visibility else [])]}}
    hits = es.search(index=index, query=query, size=1, source=record_source(vectors=vectors))["hits"]["hits"]
    return dict(hits[0]) if hits else None
