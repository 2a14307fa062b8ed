"""Keeping the assets index in few segments, as Elasticsearch's kNN tuning guide advises.

Every Lucene segment holds its own HNSW graph, and a kNN search walks each graph with its full
`num_candidates`: an index bulk-loaded with 100,000 assets settles in ~24 segments, where the hybrid
page's two kNN legs cost about twice what they cost once the index is merged into one (measured in
docs/BENCHMARKS.md, "Search latency at 100,000 assets"). Merging rewrites the index, so it is not done
per batch: the `merge_segments` DAG runs it daily (the same as ILM's force-merge action for indices
no longer written to), and only when the index has more searchable segments than
`search.merge_above_segments`. Writes and searches go on while it merges.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from elasticsearch import Elasticsearch

from indexing.aliases import assets_alias, current_index
from services.settings import Settings


@dataclass
class MergeReport:
    index: str
    segments_before: int
    segments_after: int
    docs: int  # Lucene documents (nested images included), before
    seconds: float
    merged: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def segments(es: Elasticsearch, index: str) -> tuple[int, int]:
    """(searchable segments holding documents, Lucene documents in them) over the index's primaries."""
    shards = es.indices.segments(index=index)["indices"][index]["shards"]
    count = docs = 0
    for copies in shards.values():
        primary = next((c for c in copies if c["routing"]["primary"]), copies[0])
        live = [s for s in primary["segments"].values() if s["search"] and s["num_docs"] > 0]
        count += len(live)
        docs += sum(s["num_docs"] for s in live)
    return count, docs


def merge_segments(es: Elasticsearch, settings: Settings, *, force: bool = False) -> MergeReport:
    """Force-merge the live assets index to `search.merge_to_segments` per shard when it holds more than
    `search.merge_above_segments` (or always, with `force`); waits for the merge to finish."""
    search, alias = settings.search, assets_alias(settings.es)
    if not es.indices.exists_alias(name=alias):  # no batch yet: nothing to merge
        return MergeReport(alias, 0, 0, 0, 0.0, merged=False)
    index = current_index(es, alias)
    before, docs = segments(es, index)
    shards = int(es.indices.get_settings(index=index, name="index.number_of_shards")[index]["settings"]["index"]
                 ["number_of_shards"])
    if not force and before <= max(search.merge_above_segments, search.merge_to_segments * shards):
        return MergeReport(index, before, before, docs, 0.0, merged=False)
    started = time.perf_counter()
    es.options(request_timeout=search.merge_timeout_s, max_retries=0).indices.forcemerge(
        index=index, max_num_segments=search.merge_to_segments, wait_for_completion=True)
    after, _ = segments(es, index)
    return MergeReport(index, before, after, docs, time.perf_counter() - started, merged=True)


def run() -> dict[str, Any]:
    """The DAG's task: merge the live index of the configured stack if it needs it."""
    from indexing.client import make_client
    from services.settings import get_settings

    settings = get_settings()
    es = make_client(settings.es)
    try:
        return merge_segments(es, settings).as_dict()
    finally:
        es.close()
