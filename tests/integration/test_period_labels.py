"""Period labels end to end on a real Elasticsearch: suggested for an undated asset, accepted, re-applied."""

from __future__ import annotations

import pytest
from elasticsearch import Elasticsearch

from indexing import labels
from indexing.aliases import ensure_assets_index
from indexing.bulk import index_documents
from indexing.enrich import Enricher
from indexing.period_labels import ACCEPTED_FLAG
from schemas.asset import AssetRecord, LabelKind, LabelStatus
from services.settings import Settings
from tests.factories import make_asset

pytestmark = pytest.mark.slow

DATED = [("青花缠枝莲纹梅瓶", "明永乐"), ("青花海水龙纹扁壶", "明宣德"), ("青花折枝花果纹碗", "明永乐"),
         ("青花缠枝花卉纹盘", "明宣德"), ("兽面纹青铜鼎", "商"), ("青铜爵", "商")]


def test_an_undated_asset_gets_a_period_label_from_dated_neighbours_and_accepting_it_survives_reenrichment(
    es: Elasticsearch, settings: Settings, enricher: Enricher, unique: str
) -> None:
    scoped = settings.model_copy(update={"es": settings.es.model_copy(update={"index_prefix": f"test-{unique}"})})
    alias = ensure_assets_index(es, scoped, enricher.encoders)
    dated = [AssetRecord.model_validate(make_asset(object_id=f"D-{i}", title_zh=t, title_en=None, period=p,
                                                   category="瓷器")) for i, (t, p) in enumerate(DATED)]
    undated = AssetRecord.model_validate(make_asset(object_id="U-1", title_zh="青花缠枝莲纹碗", title_en=None,
                                                    period="年代不详", category="瓷器"))
    try:
        pipeline = Enricher(scoped, es, None, text=enricher.text, image=enricher.image, use_ocr=False)
        first = pipeline.enrich(dated)
        index_documents(es, alias, [(a.asset_id, a.model_dump(mode="json")) for a in first])
        es.indices.refresh(index=alias)
        (suggested,) = pipeline.enrich([undated])
        index_documents(es, alias, [(suggested.asset_id, suggested.model_dump(mode="json"))])
        es.indices.refresh(index=alias)

        accepted = labels.decide(es, scoped.es, undated.asset_id, "ming", LabelStatus.ACCEPTED, "curator")
        stored = es.get(index=alias, id=undated.asset_id)["_source"]
        (again,) = pipeline.enrich_documents([stored])
    finally:
        es.indices.delete(index=f"{alias}-v*", allow_no_indices=True)
        es.indices.delete(index=labels.decisions_index(scoped.es), ignore_unavailable=True)

    periods = [label for label in suggested.ai.labels if label.kind is LabelKind.PERIOD] if suggested.ai else []
    assert periods and periods[0].id == "ming" and periods[0].method == "knn" and 0 < periods[0].confidence <= 1
    assert not any(label.kind is LabelKind.PERIOD for a in first for label in (a.ai.labels if a.ai else []))
    assert accepted.period_norm is not None
    assert (accepted.period_norm.period_id, accepted.period_norm.flag) == ("ming", ACCEPTED_FLAG)
    assert (accepted.period_norm.start, accepted.period_norm.end) == (1368, 1644)
    assert again["period_norm"] == accepted.period_norm.model_dump(mode="json")
    ming = next(label for label in again["ai"]["labels"] if label["id"] == "ming")
    assert ming["status"] == "accepted"
