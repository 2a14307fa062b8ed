"""What a principal may see, and what it receives of it: the one lookup every delivery starts from.

`find_seen` finds a record with the principal's visibility filter in the query (indexing/lookup.py)
and decides its tier with `policy.decide` (the grants that matched come back as
`matched_queries`); `decisions_for` decides the tiers of records a filtered search already found.
The asset page, the IIIF Image API, dumps and OAI-PMH all go through these two.

It lives in services/access, not indexing/, because it is policy, not just reading: the query is
the caller's filter and the answer is a decision. Should filter and decision ever disagree, the
record is not found.
"""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from indexing.aliases import assets_alias
from indexing.lookup import find_one
from services.access.policy import AssetFacts, Decision, decide, matched_grants, today_utc, visibility_filter
from services.access.principals import Principal
from services.settings import Settings


def find_seen(es: Elasticsearch, settings: Settings, principal: Principal, clause: dict[str, Any], *,
              vectors: bool = False) -> tuple[dict[str, Any], Decision] | None:
    """The `_source` of the first record matching `clause` that `principal` may see, and its decision; None when
    there is none or it may not see it (the same for both)."""
    hit = find_one(es, assets_alias(settings.es), clause, visibility_filter(principal), vectors=vectors)
    if hit is None:
        return None
    decision = decide(principal, AssetFacts.of(hit["_source"]), matched_grants(hit))
    return (dict(hit["_source"]), decision) if decision.visible else None


def decisions_for(es: Elasticsearch, settings: Settings, principal: Principal,
                  records: list[dict[str, Any]]) -> dict[str, Decision]:
    """What `principal` receives of each of these records (found by a search that carried its filter).

    Which of its grants cover which record is asked of Elasticsearch (one ids query, only for a
    caller that holds grants). A decision reads nothing of a record but the facts the policy reads
    and the grants that matched it, so records alike in those (most of a page, in a bulk read) share
    one decision."""
    matched: dict[str, tuple[str, ...]] = {}
    ids = [str(r["asset_id"]) for r in records]
    if principal.grants and ids:
        query = {"bool": {"filter": [{"ids": {"values": ids}}, visibility_filter(principal)]}}
        hits = es.search(index=assets_alias(settings.es), query=query, size=len(ids), source=False)["hits"]["hits"]
        matched = {h["_id"]: tuple(matched_grants(h)) for h in hits}
    today = today_utc()
    decided: dict[tuple[Any, ...], Decision] = {}
    out: dict[str, Decision] = {}
    for asset_id, record in zip(ids, records, strict=True):
        grants = matched.get(asset_id, ())
        alike = (record["institution"], record.get("department"), record.get("region"), record["licence"]["code"],
                 record.get("access"), record.get("embargo_until"), record.get("deleted_at") is None, grants)
        decision = decided.get(alike)
        if decision is None:
            decision = decided[alike] = decide(principal, AssetFacts.of(record), grants, today)
        out[asset_id] = decision
    return out
