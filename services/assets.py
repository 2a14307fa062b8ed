"""One asset as the gateway shows it, its neighbours, near-duplicates held elsewhere, and search by image.

Like search, every function takes `visibility` (the caller's filter, services/access/policy.py) and
puts it into each query — the get, the kNN filters — so an asset the caller may not see is simply
not found. `load_seen` adds what the caller receives of the asset (its tier), through
services/access/seen.py as every delivery does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import imagehash
import numpy as np
from elasticsearch import Elasticsearch
from PIL import Image

from indexing.aliases import assets_alias
from indexing.encoders import image_encoder
from indexing.lookup import find_one
from indexing.query import Filters, knn_clause
from indexing.source import record_source
from schemas.asset import AssetRecord
from services.access.policy import Decision
from services.access.principals import Principal
from services.access.seen import find_seen
from services.search_timing import observe_took, timed
from services.settings import Settings

# Near-duplicates ("also held by"): another institution's image this close in both senses.
DUPLICATE_MAX_PHASH_DISTANCE = 10  # of 64 bits
DUPLICATE_MIN_COSINE = 0.90


class AssetNotFound(LookupError):
    pass


def _by_id(asset_id: str) -> dict[str, Any]:
    return {"ids": {"values": [asset_id]}}


def load(es: Elasticsearch, settings: Settings, asset_id: str, *, visibility: dict[str, Any] | None,
         vectors: bool = False) -> AssetRecord:
    """The asset, if it exists and the caller may see it; AssetNotFound otherwise (the same for both)."""
    hit = find_one(es, assets_alias(settings.es), _by_id(asset_id), visibility, vectors=vectors)
    if hit is None:
        raise AssetNotFound(asset_id)
    return AssetRecord.model_validate(hit["_source"])


def load_seen(es: Elasticsearch, settings: Settings, asset_id: str, principal: Principal, *,
              vectors: bool = False) -> tuple[AssetRecord, Decision]:
    """The asset and what `principal` receives of it; AssetNotFound when it may not see it (or there is none).

    The visibility filter decides in the query; `decide` then gives the tier (services/access/seen.py)."""
    found = find_seen(es, settings, principal, _by_id(asset_id), vectors=vectors)
    if found is None:
        raise AssetNotFound(asset_id)
    source, decision = found
    return AssetRecord.model_validate(source), decision


def withdraw(es: Elasticsearch, settings: Settings, asset: AssetRecord) -> AssetRecord:
    """Withdraw a record: it stays as a tombstone (no search returns it; OAI-PMH reports it deleted) until the
    holder ingests the object again. Its files stay in storage."""
    now = datetime.now(UTC)
    es.update(index=assets_alias(settings.es), id=asset.asset_id, doc={"deleted_at": now.isoformat(),
                                                                         "changed_at": now.isoformat()},
              refresh="wait_for")
    return asset.model_copy(update={"deleted_at": now, "changed_at": now})


def attribution(asset: AssetRecord) -> str:
    """The credit line a reuser must give: title, maker, holder, licence."""
    title = asset.title_en or asset.title_zh or asset.object_id
    if asset.title_zh and asset.title_en:
        title = f"{asset.title_zh} ({asset.title_en})"
    parts = [title, asset.creator, asset.period, f"{asset.institution}, {asset.object_id}"]
    licence = asset.licence.label + (f" ({asset.licence.uri})" if asset.licence.uri else "")
    return ". ".join(p for p in parts if p) + f". {licence}"


def _knn_neighbours(es: Elasticsearch, settings: Settings, field: str, vector: list[float], k: int,
                    exclude: list[dict[str, Any]], visibility: dict[str, Any] | None,
                    filters: Filters | None = None) -> list[dict[str, Any]]:
    knn = knn_clause(field, vector, k, settings.search.num_candidates, filters or Filters(), visibility,
                     exclude=exclude)
    resp = es.search(index=assets_alias(settings.es), knn=knn, size=k, source=record_source())
    observe_took(f"knn:{field}", resp)
    hits = resp["hits"]["hits"]
    return [{"asset_id": h["_id"], "score": h["_score"], "record": h["_source"]} for h in hits]


def similar(es: Elasticsearch, settings: Settings, asset: AssetRecord, k: int = 10, *,
            visibility: dict[str, Any] | None) -> dict[str, list[dict[str, Any]]]:
    """Neighbours by text vector and by the first image's vector, the asset itself left out."""
    itself = [{"ids": {"values": [asset.asset_id]}}]
    out: dict[str, list[dict[str, Any]]] = {"text": [], "image": []}
    if asset.text_vector:
        out["text"] = _knn_neighbours(es, settings, "text_vector", asset.text_vector, k, itself, visibility)
    vector = next((im.vector for im in asset.images if im.vector), None)
    if vector:
        out["image"] = _knn_neighbours(es, settings, "images.vector", vector, k, itself, visibility)
    return out


def also_held_by(es: Elasticsearch, settings: Settings, asset: AssetRecord, *,
                 visibility: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The same object photographed elsewhere: other institutions' images close by pHash and by vector."""
    out: dict[str, dict[str, Any]] = {}
    other = [{"term": {"institution": asset.institution}}]
    for image in asset.images:
        if not image.vector:
            continue
        mine = imagehash.hex_to_hash(image.phash)
        for hit in _knn_neighbours(es, settings, "images.vector", image.vector, 10, other, visibility):
            record = AssetRecord.model_validate(hit["record"])
            for theirs in record.images:
                distance = mine - imagehash.hex_to_hash(theirs.phash)
                cosine = 2 * float(hit["score"]) - 1  # Elasticsearch's cosine score is (1 + cos) / 2
                if distance <= DUPLICATE_MAX_PHASH_DISTANCE and cosine >= DUPLICATE_MIN_COSINE:
                    best = out.get(record.asset_id)
                    if best is None or distance < best["phash_distance"]:
                        out[record.asset_id] = {"asset_id": record.asset_id, "institution": record.institution,
                                                "object_id": record.object_id,
                                                "title": record.title_zh or record.title_en,
                                                "phash_distance": distance, "similarity": round(cosine, 4)}
    return sorted(out.values(), key=lambda d: (d["phash_distance"], -d["similarity"]))


def search_by_image(es: Elasticsearch, settings: Settings, image: Image.Image, filters: Filters, k: int = 20, *,
                    visibility: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Assets whose images look like `image` (kNN on the nested image vectors)."""
    encoder = image_encoder(settings.models)
    if encoder is None:
        raise LookupError("image search is off: no image encoder is configured (WENYUAN_MODELS__IMAGE_ENCODER)")
    vector = np.asarray(timed("image", encoder.encode, [image])[0]).tolist()
    return _knn_neighbours(es, settings, "images.vector", vector, k, [], visibility, filters)


def neighbours_by_image(es: Elasticsearch, settings: Settings, vector: list[float], k: int, filters: Filters,
                        exclude_asset: str, *, visibility: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Assets whose images are close to an indexed image's vector, that asset itself left out."""
    return _knn_neighbours(es, settings, "images.vector", vector, k, [{"ids": {"values": [exclude_asset]}}],
                           visibility, filters)
