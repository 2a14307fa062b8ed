"""Members of a IIIF collection: the assets of one batch or one institution that the caller may see, a part at a time.

The caller's visibility filter (services/access/policy.visibility_filter) is in the query, so a part
only ever holds what the caller may see. Parts are walked with `search_after` on `asset_id`, which is
unique: a walk never repeats or skips a record that exists throughout it, and no point in time is held
open between requests, so every part is an independent request with flat memory whatever the size of
the batch (a 100,000-item batch is 100,000 / `iiif.collection_page_size` parts). One record more than
a part holds is asked for, to know whether a next part follows.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from elasticsearch import Elasticsearch

from indexing.aliases import assets_alias
from indexing.source import record_source
from schemas.asset import AssetRecord
from services.access.policy import visibility_filter
from services.access.principals import Principal
from services.access.seen import decisions_for
from services.iiif.presentation import Part
from services.settings import Settings

# What a collection's manifest references need of a record: no vectors, AI data or long texts.
EXCLUDES = record_source(ai=False, leave_out=["description_zh", "description_en", "images.exif", "extra"])["excludes"]


class CollectionKind(StrEnum):
    BATCH = "batch"
    INSTITUTION = "institution"

    @property
    def field(self) -> str:
        return "batch_id" if self is CollectionKind.BATCH else "institution"


def part(es: Elasticsearch, settings: Settings, principal: Principal, kind: CollectionKind, value: str, *,
         after: str | None, size: int) -> Part:
    """Up to `size` visible assets of the batch or institution `value`, in asset-id order, after `after`."""
    query = {"bool": {"filter": [{"term": {kind.field: value}}, visibility_filter(principal)]}}
    extra: dict[str, Any] = {"search_after": [after]} if after else {}
    hits = es.search(index=assets_alias(settings.es), query=query, sort=[{"asset_id": "asc"}], size=size + 1,
                     source={"excludes": EXCLUDES}, track_total_hits=False, **extra)["hits"]["hits"]
    records = [h["_source"] for h in hits[:size]]
    decisions = decisions_for(es, settings, principal, records)
    # The filter decided what is here; `decide` gives each its tier. Should the two ever disagree, the
    # record is left out, as services/assets.load_seen treats it as not found.
    members = [(AssetRecord.model_validate(r), decisions[str(r["asset_id"])]) for r in records
               if decisions[str(r["asset_id"])].visible]
    more = len(hits) > size
    return Part(members=members, next_after=str(records[-1]["asset_id"]) if more else None, after=after)
