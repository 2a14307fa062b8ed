"""Curator decisions on AI labels: accepted labels become curator data, rejected ones stay rejected.

Decisions live in their own index (`<prefix>-label-decisions`, one document per asset and label),
not only on the asset: re-ingesting a batch or reindexing with a new model re-derives the asset,
and `apply_decisions` then puts every decision back — an accepted label into `category_ids` /
`material_ids`, an accepted period label into `period_norm` of an undated asset (indexing/period_labels.py),
the status onto the AI label — so no curator's work is lost to a pipeline run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

from elasticsearch import BadRequestError, Elasticsearch, NotFoundError
from pydantic import BaseModel

from indexing.aliases import assets_alias
from indexing.period_labels import is_period, with_period_decisions
from indexing.periods import period_record
from schemas.asset import AILabel, AssetRecord, LabelKind, LabelStatus
from schemas.taxonomy import concept
from services.settings import ElasticsearchSettings


class Decision(BaseModel):
    asset_id: str
    label: str
    kind: LabelKind
    status: LabelStatus
    decided_by: str
    decided_at: datetime


class AssetNotFound(LookupError):
    pass


def label_kind(label: str) -> LabelKind:
    """The kind of a label id: a period of schemas/periods.json or a concept of schemas/taxonomy.json (KeyError)."""
    return LabelKind.PERIOD if is_period(label) else LabelKind(concept(label).kind)


def decisions_index(es_settings: ElasticsearchSettings) -> str:
    return f"{es_settings.index_prefix}-label-decisions"


def ensure_decisions_index(es: Elasticsearch, es_settings: ElasticsearchSettings) -> str:
    index = decisions_index(es_settings)
    if not es.indices.exists(index=index):
        properties = {"asset_id": {"type": "keyword"}, "label": {"type": "keyword"}, "kind": {"type": "keyword"},
                      "status": {"type": "keyword"}, "decided_by": {"type": "keyword"},
                      "decided_at": {"type": "date"}}
        try:
            es.indices.create(index=index, settings={"number_of_shards": 1, "number_of_replicas": 0},
                              mappings={"dynamic": "strict", "properties": properties})
        except BadRequestError as exc:
            if exc.error != "resource_already_exists_exception":
                raise
    return index


def decisions_for(es: Elasticsearch, es_settings: ElasticsearchSettings,
                  asset_ids: Sequence[str]) -> dict[str, list[Decision]]:
    out: dict[str, list[Decision]] = defaultdict(list)
    if not asset_ids or not es.indices.exists(index=decisions_index(es_settings)):
        return out
    response = es.search(index=decisions_index(es_settings), query={"terms": {"asset_id": list(asset_ids)}},
                         size=10_000)
    for hit in response["hits"]["hits"]:
        decision = Decision.model_validate(hit["_source"])
        out[decision.asset_id].append(decision)
    return out


def apply_decisions(asset: AssetRecord, decisions: Sequence[Decision]) -> AssetRecord:
    """The asset with every curator decision applied (idempotent)."""
    if not decisions:
        return asset
    by_label = {d.label: d for d in decisions}
    ids = {LabelKind.CATEGORY: list(asset.category_ids), LabelKind.MATERIAL: list(asset.material_ids)}
    for d in decisions:
        if d.kind is LabelKind.PERIOD:
            continue
        if d.status is LabelStatus.ACCEPTED and d.label not in ids[d.kind]:
            ids[d.kind].append(d.label)
        elif d.status is LabelStatus.REJECTED and d.label in ids[d.kind]:
            ids[d.kind].remove(d.label)
    ai = asset.ai
    if ai is not None:
        labels: list[AILabel] = []
        for label in ai.labels:
            if (decision := by_label.get(label.id)) is not None:
                label = label.model_copy(update={"status": decision.status, "decided_by": decision.decided_by,
                                                 "decided_at": decision.decided_at})
            labels.append(label)
        ai = ai.model_copy(update={"labels": labels})
    update: dict[str, object] = {"category_ids": ids[LabelKind.CATEGORY], "material_ids": ids[LabelKind.MATERIAL],
                                 "ai": ai}
    periods = [(d.decided_at, d.label) for d in decisions
               if d.kind is LabelKind.PERIOD and d.status is LabelStatus.ACCEPTED]
    if any(d.kind is LabelKind.PERIOD for d in decisions):
        # From the curator's own text each time, so a rejected or superseded fill does not linger.
        update["period_norm"] = with_period_decisions(period_record(asset.period, asset.date), periods)
    return asset.model_copy(update=update)


def decide(es: Elasticsearch, es_settings: ElasticsearchSettings, asset_id: str, label: str,
           status: LabelStatus, decided_by: str) -> AssetRecord:
    """Record a curator's decision and apply it to the indexed asset at once.

    KeyError: the label is neither in the taxonomy nor in the period table; AssetNotFound: no such asset.
    The asset is rewritten with optimistic concurrency (if_seq_no), so a concurrent write is not lost.
    """
    kind = label_kind(label)
    alias = assets_alias(es_settings)
    try:
        found = es.get(index=alias, id=asset_id)
    except NotFoundError as exc:
        raise AssetNotFound(asset_id) from exc
    decision = Decision(asset_id=asset_id, label=label, kind=kind, status=status, decided_by=decided_by,
                        decided_at=datetime.now(UTC))
    index = ensure_decisions_index(es, es_settings)
    es.index(index=index, id=f"{asset_id}:{label}", document=decision.model_dump(mode="json"), refresh="wait_for")
    asset = AssetRecord.model_validate(found["_source"])
    previous = decisions_for(es, es_settings, [asset_id])[asset_id]
    updated = apply_decisions(asset, previous).model_copy(update={"changed_at": decision.decided_at})
    es.index(index=found["_index"], id=asset_id, document=updated.model_dump(mode="json"),
             if_seq_no=found["_seq_no"], if_primary_term=found["_primary_term"], refresh="wait_for")
    return updated
