"""services/dumps.prefetched: the pages in order, one read ahead; an early stop closes the source (its point in
time), and the source's error reaches the reader."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from services.dumps import prefetched


class Source:
    def __init__(self, pages: int, fail_at: int | None = None) -> None:
        self.pages, self.fail_at = pages, fail_at
        self.read = 0
        self.closed = threading.Event()

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        try:
            for n in range(self.pages):
                if n == self.fail_at:
                    raise ConnectionError("Elasticsearch went away")
                self.read += 1
                yield [{"n": n}]
        finally:
            self.closed.set()


def test_every_page_comes_in_order_and_the_source_is_closed() -> None:
    source = Source(5)
    assert [p[0]["n"] for p in prefetched(iter(source))] == [0, 1, 2, 3, 4]
    assert source.closed.is_set()


def test_a_reader_that_stops_early_stops_the_reading_ahead_and_closes_the_source() -> None:
    source = Source(1000)
    pages = prefetched(iter(source))
    assert next(pages)[0]["n"] == 0
    pages.close()  # type: ignore[attr-defined]  # a client that went away
    assert source.closed.wait(5)
    assert source.read <= 3, "it read on after the reader stopped"


def test_an_error_of_the_source_reaches_the_reader_after_the_pages_before_it() -> None:
    source = Source(5, fail_at=2)
    got = []
    with pytest.raises(ConnectionError, match="went away"):
        for page in prefetched(iter(source)):
            got.append(page[0]["n"])
    assert got == [0, 1] and source.closed.is_set()
