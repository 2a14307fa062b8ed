"""Walking a result set over a point in time (PIT) with `search_after`: the one implementation.

A point in time keeps one consistent view of an index while a reader pages through it; each page
is a search against the PIT (which it keeps alive for the next page) that starts after the sort
values of the previous page's last hit. A PIT keeps no query: every page sends it again.

- `PointInTime` is the primitive: open, one page, close. Readers that walk across HTTP requests
  keep its id in their own token (search cursors, OAI-PMH resumption tokens) and page with it.
- `walk` is a whole walk in one process (dumps): it opens the PIT (or goes on with one already
  open), yields each page's hits in order, and closes the PIT when the walk ends, however it ends.

A PIT that expired or was closed makes Elasticsearch answer `NotFoundError`; each reader turns that
into its own error (an expired cursor, a bad resumption token).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError


@dataclass
class PointInTime:
    """A point in time of `index`, open while `id` is set; before it opens, reads go to the live index."""

    es: Elasticsearch
    index: str
    keep_alive: str
    id: str | None = None

    def open(self) -> str:
        """The PIT's id, opening it if none is open yet."""
        if self.id is None:
            self.id = str(self.es.open_point_in_time(index=self.index, keep_alive=self.keep_alive)["id"])
        return self.id

    def close(self) -> None:
        """Free the PIT now rather than when it expires (one already gone is no error)."""
        if self.id is not None:
            with contextlib.suppress(NotFoundError):
                self.es.close_point_in_time(id=self.id)
            self.id = None

    def target(self) -> dict[str, Any]:
        """Where a search reads: the PIT, kept alive for the next page, or the live index while none is open."""
        if self.id is None:
            return {"index": self.index}
        return {"pit": {"id": self.id, "keep_alive": self.keep_alive}}

    def page(self, after: list[Any] | None = None, **params: Any) -> dict[str, Any]:
        """One page: the search `params` (query, size, sort, source…) after the sort values `after`."""
        if after is not None:
            params["search_after"] = after
        return dict(self.es.search(**params, **self.target()))


def walk(pit: PointInTime, *, size: int, sort: list[Any], **params: Any) -> Iterator[list[dict[str, Any]]]:
    """Every hit of the search `params`, a page of `size` at a time in `sort` order (which must end in a
    tie-breaker, such as `_shard_doc`); the PIT is closed at the end, on an error, or when the caller stops."""
    pit.open()
    after: list[Any] | None = None
    try:
        while True:
            hits: list[dict[str, Any]] = pit.page(after, size=size, sort=sort, **params)["hits"]["hits"]
            if not hits:
                return
            yield hits
            if len(hits) < size:
                return
            after = hits[-1]["sort"]
    finally:
        pit.close()
