"""What OAI-PMH asks of Elasticsearch, always through the caller's filter with its tombstones.

Lists are walked in (changed_at, asset_id) order with search_after over a point in time, so a
harvest sees one consistent view however long it pauses between pages (up to the token's life),
and every record in it exactly once. The query is sent again with every page (a point in time
keeps no query), with the caller's filter as it is now: a revoked grant takes effect at once. The
resumption token holds the point in time; each page is read with indexing/walk.PointInTime.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from indexing.aliases import assets_alias
from indexing.source import record_source
from indexing.walk import PointInTime
from services.access import seen
from services.access.policy import Decision, visibility_filter
from services.access.principals import Principal
from services.settings import Settings

SORT = [{"changed_at": "asc"}, {"asset_id": "asc"}]
RECORD = record_source(ai=False)  # AI data stays out of harvests; accepted labels are in category_ids
HEADER_FIELDS = ["asset_id", "institution", "category_ids", "changed_at", "deleted_at", "licence"]
MAX_SETS = 10_000


class PointInTimeGone(LookupError):
    """The point in time a token walks has expired or was closed."""


@dataclass(frozen=True)
class Page:
    hits: list[dict[str, Any]]  # the _source of each
    total: int  # -1 on later pages (not counted again)
    last_sort: list[Any] | None  # search_after of the next page


def token_key(settings: Settings) -> bytes:
    if settings.oai.token_secret is not None:
        return settings.oai.token_secret.get_secret_value().encode()
    return hashlib.sha256(b"wenyuan-oai-token\x1f" + settings.s3.secret_key.get_secret_value().encode()).digest()


class Harvest:
    def __init__(self, es: Elasticsearch, settings: Settings, principal: Principal) -> None:
        self.es = es
        self.settings = settings
        self.principal = principal
        self.index = assets_alias(settings.es)
        self.keep_alive = f"{settings.oai.token_ttl_s}s"

    def visible(self) -> dict[str, Any]:
        """What the caller may see, and the tombstones of what it could (reported as deleted)."""
        return visibility_filter(self.principal, withdrawn=True)

    def query(self, *clauses: dict[str, Any] | None) -> dict[str, Any]:
        return {"bool": {"filter": [self.visible(), *(c for c in clauses if c is not None)]}}

    def record(self, asset_id: str) -> dict[str, Any] | None:
        hits = self.es.search(index=self.index, query=self.query({"ids": {"values": [asset_id]}}), size=1,
                              source=RECORD)["hits"]["hits"]
        return dict(hits[0]["_source"]) if hits else None

    def earliest(self) -> str | None:
        resp = self.es.search(index=self.index, query=self.query(), size=0,
                              aggs={"earliest": {"min": {"field": "changed_at"}}})
        value: str | None = resp["aggregations"]["earliest"].get("value_as_string")
        return value

    def set_members(self) -> tuple[list[str], list[str]]:
        """The institutions and categories of the records the caller may harvest."""
        aggs = {"institutions": {"terms": {"field": "institution", "size": MAX_SETS}},
                "categories": {"terms": {"field": "category_ids", "size": MAX_SETS}}}
        resp = self.es.search(index=self.index, query=self.query(), size=0, aggs=aggs)
        return ([str(b["key"]) for b in resp["aggregations"]["institutions"]["buckets"]],
                [str(b["key"]) for b in resp["aggregations"]["categories"]["buckets"]])

    def _pit(self, pit: str | None = None) -> PointInTime:
        return PointInTime(self.es, self.index, self.keep_alive, pit)

    def open(self) -> str:
        return self._pit().open()

    def close(self, pit: str) -> None:
        self._pit(pit).close()

    def page(self, pit: str, query: dict[str, Any], size: int, after: list[Any] | None, *,
             full: bool) -> Page:
        """One page of a list; the total only on a first page (`after` None). `full`: whole records."""
        try:
            resp = self._pit(pit).page(after, query=query, size=size, sort=SORT, track_total_hits=after is None,
                                       source=RECORD if full else {"includes": HEADER_FIELDS})
        except NotFoundError as exc:
            raise PointInTimeGone(pit) from exc
        hits = resp["hits"]["hits"]
        total = int(resp["hits"]["total"]["value"]) if after is None else -1
        return Page([dict(h["_source"]) for h in hits], total, list(hits[-1]["sort"]) if hits else None)

    def decisions(self, records: list[dict[str, Any]]) -> dict[str, Decision]:
        """What the caller receives of each live record (its tier bounds the EDM links)."""
        live = [r for r in records if r.get("deleted_at") is None]
        return seen.decisions_for(self.es, self.settings, self.principal, live) if live else {}
