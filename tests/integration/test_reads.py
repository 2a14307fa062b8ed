"""indexing/walk.py against the real Elasticsearch: a walk pages in order, sees every document once, and always
closes its point in time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch, NotFoundError

from indexing.walk import PointInTime, walk

N = 25


@pytest.fixture
def index(es: Elasticsearch, unique: str) -> Iterator[str]:
    name = f"test-reads-{unique}"
    es.indices.create(index=name, settings={"number_of_shards": 1, "number_of_replicas": 0},
                      mappings={"properties": {"n": {"type": "integer"}}})
    for n in range(N):
        es.index(index=name, id=f"d{n:02d}", document={"n": n})
    es.indices.refresh(index=name)
    yield name
    es.indices.delete(index=name)


def _is_closed(es: Elasticsearch, pit_id: str) -> bool:
    try:
        es.search(pit={"id": pit_id}, size=0)
    except NotFoundError:
        return True
    return False


def test_a_walk_pages_in_sort_order_and_closes_its_point_in_time(es: Elasticsearch, index: str) -> None:
    pit = PointInTime(es, index, "1m")

    pages = [[h["_source"]["n"] for h in hits] for hits in walk(pit, size=10, sort=[{"n": "asc"}])]

    assert [len(p) for p in pages] == [10, 10, 5]
    assert [n for p in pages for n in p] == list(range(N))
    assert pit.id is None


def test_a_walk_sees_the_view_it_opened_on(es: Elasticsearch, index: str) -> None:
    pit = PointInTime(es, index, "1m")
    pages = walk(pit, size=10, sort=[{"n": "asc"}], query={"range": {"n": {"gte": 20}}})

    first = next(pages)
    es.index(index=index, id="late", document={"n": 99}, refresh=True)
    rest = [h for hits in pages for h in hits]

    assert [h["_source"]["n"] for h in first + rest] == [20, 21, 22, 23, 24]


def test_a_walk_that_fails_or_is_abandoned_still_closes_its_point_in_time(es: Elasticsearch, index: str) -> None:
    failing, abandoned = PointInTime(es, index, "1m"), PointInTime(es, index, "1m")
    failing_id, abandoned_id = failing.open(), abandoned.open()

    with pytest.raises(RuntimeError):
        for _ in walk(failing, size=10, sort=[{"n": "asc"}]):
            raise RuntimeError("the reader failed")
    pages = walk(abandoned, size=10, sort=[{"n": "asc"}])
    next(pages)
    pages.close()

    assert failing.id is None and _is_closed(es, failing_id)
    assert abandoned.id is None and _is_closed(es, abandoned_id)


def test_before_it_opens_a_point_in_time_reads_the_live_index(es: Elasticsearch, index: str) -> None:
    pit = PointInTime(es, index, "1m")

    first = pit.page(size=3, sort=[{"n": "asc"}])
    pit.open()
    second = pit.page(first["hits"]["hits"][-1]["sort"], size=3, sort=[{"n": "asc"}])
    pit.close()
    pit.close()  # closing twice is no error

    assert [h["_source"]["n"] for h in first["hits"]["hits"] + second["hits"]["hits"]] == [0, 1, 2, 3, 4, 5]
