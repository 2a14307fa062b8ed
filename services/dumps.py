"""Bulk dumps: every record the caller may see, as gzip-compressed NDJSON, streamed in flat memory.

A dump walks the assets index in pages of `dumps.page_size` with search_after over a point in time
(indexing/walk.py, sorted by `_shard_doc`, the cheapest order for a full walk), each page filtered by the caller's
visibility filter — the same clause as search, so a dump holds exactly what searches can find.
Each line is one record: the curator's fields (no vectors, no AI data), its licence and credit
line, what the caller receives of it (tier and basis, services/access/policy.decide) and the media
links that tier allows. Only one page is in memory at a time, and the compressor's window; the
bytes go out as each page is compressed.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from typing import Any

from elasticsearch import Elasticsearch

from indexing.aliases import assets_alias
from indexing.source import record_source
from indexing.walk import PointInTime, walk
from schemas.asset import AssetRecord
from services.access import seen
from services.access.policy import Decision, visibility_filter
from services.access.principals import Principal
from services.record_view import credit, media_links
from services.settings import Settings

GZIP_WBITS = 16 + zlib.MAX_WBITS  # a gzip header and trailer around the deflate stream
FILENAME = "records.ndjson.gz"


def line(asset: AssetRecord, decision: Decision, base: str) -> dict[str, Any]:
    """One record as a dump line."""
    entry = credit(asset, decision)
    return {"asset_id": asset.asset_id, "record": asset.public_view(ai=False),
            "licence": entry["licence"].model_dump(mode="json"), "attribution": entry["attribution"],
            "access": entry["access"].model_dump(mode="json"),
            "media": [m.model_dump(mode="json") for m in media_links(base, asset, decision)]}


class Dump:
    """One caller's dump. `open()` takes the point in time (so a failing Elasticsearch is an error
    before any byte is sent); iterating yields the gzip stream and closes the point in time."""

    def __init__(self, es: Elasticsearch, settings: Settings, principal: Principal) -> None:
        self.es = es
        self.settings = settings
        self.principal = principal
        self.pit = PointInTime(es, assets_alias(settings.es), settings.dumps.keep_alive)

    def open(self) -> Dump:
        self.pit.open()
        return self

    def pages(self) -> Iterator[list[dict[str, Any]]]:
        """The visible records, a page at a time (their _source)."""
        for hits in walk(self.pit, size=self.settings.dumps.page_size, sort=["_shard_doc"],
                         query=visibility_filter(self.principal), source=record_source(ai=False),
                         track_total_hits=False):
            yield [h["_source"] for h in hits]

    def lines(self) -> Iterator[bytes]:
        """NDJSON, one page of lines per chunk."""
        base = self.settings.gateway.public_url
        for page in self.pages():
            decisions = seen.decisions_for(self.es, self.settings, self.principal, page)
            out = []
            for source in page:
                asset = AssetRecord.model_validate(source)
                out.append(json.dumps(line(asset, decisions[asset.asset_id], base), ensure_ascii=False,
                                      separators=(",", ":")))
            yield ("\n".join(out) + "\n").encode()

    def __iter__(self) -> Iterator[bytes]:
        compressor = zlib.compressobj(6, zlib.DEFLATED, GZIP_WBITS)
        for chunk in self.lines():
            if data := compressor.compress(chunk):
                yield data
        yield compressor.flush()

    def close(self) -> None:
        self.pit.close()
