"""The Elasticsearch client, configured from Settings (one per process, made by the caller).

It knows every node of the cluster (`es.hosts`): requests go round the nodes, and one that fails to
connect (a node killed or restarting) is marked dead for a while and the request is retried on
another node, up to `es.max_retries` times; timeouts and 429/502/503/504 answers are retried too.
"""

from __future__ import annotations

from elasticsearch import Elasticsearch

from services.settings import ElasticsearchSettings


def make_client(es: ElasticsearchSettings) -> Elasticsearch:
    hosts = es.hosts
    return Elasticsearch(
        hosts,
        request_timeout=es.request_timeout_s,
        # One retry more than the other nodes, so each of them is tried when one is down.
        max_retries=max(es.max_retries, len(hosts)),
        retry_on_timeout=True,
        retry_on_status=(429, 502, 503, 504),
    )
