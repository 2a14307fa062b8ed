"""Bulk dumps: every record the caller may see, as gzip-compressed NDJSON, streamed in flat memory.

A dump walks the assets index in pages of `dumps.page_size` with search_after over a point in time
(indexing/walk.py, sorted by `_shard_doc`, the cheapest order for a full walk), each page filtered by the caller's
visibility filter — the same clause as search, so a dump holds exactly what searches can find.
Each line is one record: the curator's fields (no vectors, no AI data), its licence and credit
line, what the caller receives of it (tier and basis, services/access/policy.decide) and the media
links that tier allows. The bytes go out as each page is compressed.

Throughput: the next page is read from Elasticsearch by a thread of the dump while this one is
serialised (`prefetched`: at most one page waits, so memory holds three pages at most, whatever
the size of the dump), records in the shape the model writes are used as stored
(services/record_view.stored_view: no validation round trip), and lines are written with orjson.
"""

from __future__ import annotations

import queue
import threading
import zlib
from collections.abc import Iterator
from typing import Any

import orjson
from elasticsearch import Elasticsearch

from indexing.aliases import assets_alias
from indexing.source import record_source
from indexing.walk import PointInTime, walk
from schemas.asset import AssetRecord
from services.access import seen
from services.access.policy import Decision, visibility_filter
from services.access.principals import Principal
from services.record_view import credit, credit_of, media_links, media_links_of, stored_view
from services.settings import Settings

GZIP_WBITS = 16 + zlib.MAX_WBITS  # a gzip header and trailer around the deflate stream
FILENAME = "records.ndjson.gz"
_END = object()


def line(asset: AssetRecord, decision: Decision, base: str) -> dict[str, Any]:
    """One record as a dump line."""
    entry = credit(asset, decision)
    return {"asset_id": asset.asset_id, "record": asset.public_view(ai=False),
            "licence": entry["licence"].model_dump(mode="json"), "attribution": entry["attribution"],
            "access": entry["access"].model_dump(mode="json"),
            "media": [m.model_dump(mode="json") for m in media_links(base, asset, decision)]}


def line_of(view: dict[str, Any], decision: Decision, base: str) -> dict[str, Any]:
    """`line` of a public view (services/record_view.stored_view): the same line, without the models."""
    return {"asset_id": view["asset_id"], "record": view, **credit_of(view, decision),
            "media": media_links_of(base, view, decision)}


def prefetched(pages: Iterator[list[dict[str, Any]]]) -> Iterator[list[dict[str, Any]]]:
    """`pages`, read one ahead by a thread of its own while the caller works on the current one.

    At most one page waits in between. When the caller stops early (a client that goes away), the thread
    stops at its next page and closes `pages` (which closes the point in time); an error of `pages` is
    raised to the caller."""
    ready: queue.Queue[Any] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def offer(item: Any) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for page in pages:
                if not offer(page):
                    break
            offer(_END)
        except BaseException as exc:  # handed to the reader, which raises it
            offer(exc)
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="dump-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = ready.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


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
        for page in prefetched(self.pages()):
            decisions = seen.decisions_for(self.es, self.settings, self.principal, page)
            out = []
            for source in page:
                view = stored_view(source)
                out.append(orjson.dumps(line_of(view, decisions[view["asset_id"]], base)))
            out.append(b"")
            yield b"\n".join(out)

    def __iter__(self) -> Iterator[bytes]:
        compressor = zlib.compressobj(6, zlib.DEFLATED, GZIP_WBITS)
        for chunk in self.lines():
            if data := compressor.compress(chunk):
                yield data
        yield compressor.flush()

    def close(self) -> None:
        self.pit.close()
