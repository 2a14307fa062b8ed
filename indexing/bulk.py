"""Streaming bulk indexing with retries and back-pressure (elasticsearch.helpers.streaming_bulk).

Documents are indexed by id, so the same item indexed twice is one document. Rejections with
429 are retried with exponential back-off by the helper; connection failures (Elasticsearch
restarting) are retried here with tenacity, resending only the documents not yet acknowledged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from elastic_transport import ConnectionError as TransportConnectionError
from elasticsearch import Elasticsearch
from elasticsearch.helpers import streaming_bulk
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_exponential

log = logging.getLogger(__name__)


@dataclass
class BulkResult:
    indexed: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # id → reason


def index_documents(es: Elasticsearch, index: str, docs: Iterable[tuple[str, Mapping[str, Any]]], *,
                    chunk_size: int = 500, retry_for_s: float = 300) -> BulkResult:
    """Index (id, document) pairs; returns how many were indexed and which failed, with reasons."""
    pending = dict(docs)
    result = BulkResult()
    for attempt in Retrying(retry=retry_if_exception_type(TransportConnectionError), reraise=True,
                            stop=stop_after_delay(retry_for_s), wait=wait_exponential(min=1, max=15)):
        with attempt:
            if attempt.retry_state.attempt_number > 1:
                log.warning("bulk retry", extra={"attempt": attempt.retry_state.attempt_number,
                                                 "pending": len(pending)})
            actions = ({"_op_type": "index", "_index": index, "_id": doc_id, "_source": doc}
                       for doc_id, doc in list(pending.items()))
            for ok, item in streaming_bulk(es, actions, chunk_size=chunk_size, raise_on_error=False,
                                           max_retries=5, initial_backoff=1, max_backoff=30):
                info = item["index"]
                pending.pop(info["_id"], None)
                if ok:
                    result.indexed += 1
                else:
                    result.failed[info["_id"]] = str(info.get("error", {}).get("reason", info.get("error")))
    return result
