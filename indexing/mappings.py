"""The assets index mapping, generated from schemas/asset.py — no hand-kept field list.

Rules, from each field's type and its `es` hint (schemas/manifest.py):
- hint `text_zh` / `text_en` → `text` with the Chinese or English analyzer of indexing/analysis.py,
  hint `text` → `text` (standard analyzer); each also keeps a `raw` keyword for sorting and facets;
- other strings, string lists and enums → `keyword`; booleans, integers, datetimes → their types;
- a nested model in a list (images) → `nested`; a single model (licence) → `object`;
- hint `integer_range` (a model with gte/lte, e.g. period_norm.years) → `integer_range`;
- free `dict[str, str]` (extra columns, EXIF) → `flattened`, so unknown columns never explode
  the mapping;
- hint `dense_vector` (text_vector, images[].vector) → `dense_vector` (cosine, HNSW as
  Settings.search says) with the length of the configured encoder of that modality. The index
  records its encoders in `_meta.encoders`, so a document embedded by another model is refused
  with a clear reason instead of being mixed into the wrong vector space.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from indexing.analysis import ANALYSIS_SETTINGS, EN_ANALYZER, ZH_ANALYZER
from schemas.asset import AssetRecord, EncoderInfo
from services.settings import SearchSettings

_RAW = {"raw": {"type": "keyword", "ignore_above": 512}}
_TEXT: dict[str, dict[str, Any]] = {
    "text_zh": {"type": "text", "analyzer": ZH_ANALYZER, "fields": _RAW},
    "text_en": {"type": "text", "analyzer": EN_ANALYZER, "fields": _RAW},
    "text": {"type": "text", "analyzer": "standard", "fields": _RAW},
    # Tokens analysed in Python (indexing/terms.py): split on spaces, nothing else.
    "terms": {"type": "text", "analyzer": "whitespace"},
}


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(inner type, is_list) with Optional removed."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else (str, False)
    if origin is list:
        inner, _ = _unwrap(typing.get_args(annotation)[0])
        return inner, True
    return annotation, False


Encoders = Mapping[str, EncoderInfo | None]  # modality (text, image) → encoder of that modality's vectors


def _field_mapping(info: FieldInfo, encoders: Encoders, search: SearchSettings) -> dict[str, Any]:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    hint = extra.get("es")
    if hint == "dense_vector":
        encoder = encoders.get(str(extra["modality"]))
        return dense_vector(encoder.dimension if encoder else None, search)
    if hint == "integer_range":
        return {"type": "integer_range"}
    if isinstance(hint, str):
        return dict(_TEXT[hint])
    inner, is_list = _unwrap(info.annotation)
    if isinstance(inner, type) and issubclass(inner, BaseModel):
        return {"type": "nested" if is_list else "object", "properties": properties(inner, encoders, search)}
    if typing.get_origin(inner) is dict:
        return {"type": "flattened"}
    if inner is bool:
        return {"type": "boolean"}
    if inner is int:
        return {"type": "long"}
    if inner is float:
        return {"type": "double"}
    if inner is datetime or inner is date:
        return {"type": "date"}
    if inner is str or (isinstance(inner, type) and issubclass(inner, Enum)):
        return {"type": "keyword", "ignore_above": 1024}
    raise TypeError(f"no mapping rule for {info.annotation!r}")


def dense_vector(dims: int | None, search: SearchSettings) -> dict[str, Any]:
    """A kNN-searchable vector: cosine similarity, HNSW with the index type of Settings.search.

    Without `dims` (no encoder configured for it) Elasticsearch takes the length of the first vector.
    """
    field: dict[str, Any] = {"type": "dense_vector", "index": True, "similarity": "cosine",
                             "index_options": {"type": search.vector_index_type, "m": search.hnsw_m,
                                               "ef_construction": search.hnsw_ef_construction}}
    return field | {"dims": dims} if dims else field


def properties(model: type[BaseModel], encoders: Encoders, search: SearchSettings) -> dict[str, Any]:
    return {name: _field_mapping(info, encoders, search) for name, info in model.model_fields.items()}


def index_shape(nodes: int) -> dict[str, int]:
    """Primaries and replicas of the assets index on a cluster of `nodes`: one shard and no replica on a
    single node (a replica could not be placed); from two nodes on 3 primaries x 1 replica, so every shard
    survives the loss of a node and searches spread over the nodes."""
    if nodes < 2:
        return {"number_of_shards": 1, "number_of_replicas": 0}
    return {"number_of_shards": 3, "number_of_replicas": 1}


def assets_index_body(encoders: Encoders, search: SearchSettings, nodes: int = 1) -> dict[str, Any]:
    meta = {"encoders": {m: e.model_dump() if e else None for m, e in encoders.items()}}
    return {
        "settings": {**index_shape(nodes), "analysis": ANALYSIS_SETTINGS,
                     # Vectors stay in _source: a reindex with unchanged encoders reuses them.
                     "index.mapping.exclude_source_vectors": False},
        "mappings": {"dynamic": "strict", "_meta": meta, "properties": properties(AssetRecord, encoders, search)},
    }
