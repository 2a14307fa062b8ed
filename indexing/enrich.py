"""Enrichment: fields derived from the curator's data, recomputed on ingestion and on every reindex.

Today: the normalised period (period id, years). The enrichment issue adds text and image
vectors, OCR and AI labels here, each recording the model and version that produced it, so that
a reindex with a new model re-derives them all in one place.
"""

from __future__ import annotations

from typing import Any

from indexing.periods import period_record
from schemas.asset import AssetRecord


def enrich(asset: AssetRecord) -> AssetRecord:
    return asset.model_copy(update={"period_norm": period_record(asset.period, asset.date)})


def enrich_document(doc: dict[str, Any]) -> dict[str, Any]:
    """The transform of a reindex: a stored document, validated against today's schema and re-enriched."""
    return enrich(AssetRecord.model_validate(doc)).model_dump(mode="json")
