"""Enrichment through the real DAG: vectors with their encoders, AI labels, OCR, kNN labels, curator decisions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from elasticsearch import Elasticsearch

from indexing.aliases import assets_alias, ensure_assets_index
from indexing.bulk import index_documents
from indexing.classify import Classifier, Subject
from indexing.encoders import text_encoder
from indexing.enrich import Enricher
from schemas.access import Role
from schemas.asset import AssetRecord, LabelKind
from services.access import audit
from services.access.db import Database
from services.settings import Settings
from services.uploader import Uploader
from tests.access import Member, make_institution, staff_key
from tests.factories import make_asset, make_image, make_inscription, write_manifest
from tests.helpers import assert_problem
from tests.integration.uploading import ingest

pytestmark = pytest.mark.slow

HEADER = ["文物编号", "名称", "英文名称", "描述", "许可", "图像", "年代", "类别", "质地"]
ROWS = [
    ["E-1", "青花缠枝莲纹梅瓶", "", "景德镇窑青花瓷瓶，通体绘缠枝莲纹。", "CC0", "images/e1.jpg|正面", "明永乐",
     "瓷器", "瓷"],
    ["E-2", "行书诗轴", "", "纸本行书七言诗一首。", "CC0", "images/e2.png|正面", "清", "书法", "纸"],
    ["E-3", "", "Bronze ritual wine vessel (jue)", "A tripod wine cup cast in bronze.", "CC0", "images/e3.jpg",
     "Shang dynasty", "铜器", "bronze"],
]
OCR_TEXT = "大清乾隆年制"


@pytest.fixture(scope="module")
def museum(settings: Settings) -> Member:
    """A curator of a museum in CN-SH, for the module's batch."""
    db = Database(settings.db)
    try:
        return staff_key(db, make_institution(db, "CN-SH"), Role.CURATOR)
    finally:
        db.close()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory, settings: Settings, museum: Member) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("enrich") / "batch"
    make_image(folder / "images/e1.jpg", seed=11)
    make_inscription(folder / "images/e2.png", OCR_TEXT)
    make_image(folder / "images/e3.jpg", seed=13)
    write_manifest(folder, ROWS, HEADER)
    result, _ = ingest(uploader := Uploader(settings.gateway.public_url, museum.key), folder, museum.institution)
    uploader.close()
    assert result["state"] == "succeeded", result
    yield museum.institution, folder


def _docs(es: Elasticsearch, settings: Settings, institution: str) -> dict[str, dict[str, Any]]:
    es.indices.refresh(index=assets_alias(settings.es))
    hits = es.search(index=assets_alias(settings.es), query={"term": {"institution": institution}}, size=100,
                     source={"exclude_vectors": False})["hits"]["hits"]
    return {h["_source"]["object_id"]: h["_source"] for h in hits}


def test_every_asset_gets_a_text_vector_image_vectors_and_labels_recorded_with_their_models(
    batch: tuple[str, Path], es: Elasticsearch, settings: Settings
) -> None:
    docs = _docs(es, settings, batch[0])

    assert set(docs) == {"E-1", "E-2", "E-3"}
    for doc in docs.values():
        assert doc["region"] == "CN-SH"  # the batch's region
        assert len(doc["text_vector"]) == 512
        assert doc["ai"]["text_encoder"]["name"] == "use-multilingual-v3"
        assert len(doc["title_vector"]) == 512 and doc["terms"]["title"]
        image_encoder = doc["ai"]["image_encoder"]
        assert (image_encoder["name"], image_encoder["dimension"]) == ("efficientnet-lite0", 1280)
        assert image_encoder["version"].startswith("57934424-")  # the weights' hash, then the preprocessing recipe
        assert all(len(image["vector"]) == 1280 for image in doc["images"])
        kinds = {label["kind"] for label in doc["ai"]["labels"]}
        assert kinds == {"category", "material"}
        assert all(0 < label["confidence"] <= 1 and label["status"] == "suggested" for label in doc["ai"]["labels"])
    # Among the top labels (kNN votes from whatever curator-labelled neighbours the shared index holds may
    # reorder them on a machine that has run other tests, so not necessarily first).
    categories = [label["id"] for label in docs["E-1"]["ai"]["labels"] if label["kind"] == "category"]
    assert "porcelain" in categories
    assert docs["E-1"]["category_ids"] == ["porcelain"]  # curator data, from the catalogue's 瓷器
    assert docs["E-3"]["category_ids"] == ["bronze"] and docs["E-3"]["material_ids"] == ["copper"]


def test_calligraphy_images_are_read_by_ocr_into_searchable_text(
    batch: tuple[str, Path], es: Elasticsearch, settings: Settings
) -> None:
    docs = _docs(es, settings, batch[0])

    assert OCR_TEXT in docs["E-2"]["ai"]["ocr_text"]
    assert docs["E-2"]["ai"]["ocr_engine"].startswith("rapidocr")
    assert docs["E-1"]["ai"]["ocr_text"] is None  # porcelain: not read
    found = es.search(index=assets_alias(settings.es), query={"bool": {
        "must": {"match": {"ai.ocr_text": "乾隆年制"}}, "filter": {"term": {"institution": batch[0]}}}})
    assert [h["_source"]["object_id"] for h in found["hits"]["hits"]] == ["E-2"]


def test_an_english_query_vector_finds_the_chinese_only_record(
    batch: tuple[str, Path], es: Elasticsearch, settings: Settings
) -> None:
    query = text_encoder(settings.models).encode(["blue-and-white porcelain vase with lotus scroll"])[0]

    hits = es.search(index=assets_alias(settings.es), knn={
        "field": "text_vector", "query_vector": query.tolist(), "k": 3, "num_candidates": 100,
        "filter": {"term": {"institution": batch[0]}}})["hits"]["hits"]

    assert hits[0]["_source"]["object_id"] == "E-1"  # its record has no English at all


def test_a_curator_decision_becomes_curator_data_and_survives_reingestion(
    batch: tuple[str, Path], museum: Member, es: Elasticsearch, settings: Settings, db: Database
) -> None:
    institution, folder = batch
    asset_id = _docs(es, settings, institution)["E-1"]["asset_id"]
    base = f"{settings.gateway.public_url}/v1/assets/{asset_id}/labels"
    auth = {"Authorization": f"Bearer {museum.key}"}

    accepted = httpx.patch(f"{base}/enamel", json={"status": "accepted"}, headers=auth)
    rejected = httpx.patch(f"{base}/porcelain", json={"status": "rejected"}, headers=auth)

    assert accepted.status_code == 200, accepted.text
    assert "enamel" in accepted.json()["category_ids"]
    assert rejected.json()["category_ids"] == ["enamel"]
    assert {label["id"]: label["status"] for label in rejected.json()["ai_labels"]}["porcelain"] == "rejected"
    with db.session() as session:
        decided, _ = audit.events(session, institution, asset_id=asset_id)
    assert [(e.action, e.subject, e.actor_id) for e in decided[:2]] == [
        ("label.rejected", "label porcelain", museum.staff_id), ("label.accepted", "label enamel", museum.staff_id)]
    result, _ = ingest(uploader := Uploader(settings.gateway.public_url, museum.key), folder, institution)  # again
    uploader.close()
    assert result["state"] == "succeeded"
    doc = _docs(es, settings, institution)["E-1"]
    assert doc["category_ids"] == ["enamel"]
    porcelain = next(label for label in doc["ai"]["labels"] if label["id"] == "porcelain")
    assert porcelain["status"] == "rejected"
    assert porcelain["decided_by"] == f"{museum.role} of {institution} ({museum.staff_id})"  # the key's owner


def test_label_decisions_need_a_curator_of_the_holder_and_known_labels_and_assets(
    batch: tuple[str, Path], museum: Member, db: Database, es: Elasticsearch, settings: Settings
) -> None:
    asset_id = _docs(es, settings, batch[0])["E-3"]["asset_id"]
    base = f"{settings.gateway.public_url}/v1/assets"
    body = {"status": "accepted"}
    auth = {"Authorization": f"Bearer {museum.key}"}
    elsewhere = {"Authorization": f"Bearer {staff_key(db, make_institution(db, 'CN-SH'), Role.CURATOR).key}"}
    problems = "https://wenyuan.dev/problems/"

    unknown_label = assert_problem(httpx.patch(f"{base}/{asset_id}/labels/not-a-label", json=body, headers=auth),
                                   404, problems + "label-not-found")
    assert_problem(httpx.patch(f"{base}/0123/labels/jade", json=body, headers=auth), 404, problems + "asset-not-found")
    assert_problem(httpx.patch(f"{base}/{asset_id}/labels/jade", json={"status": "maybe"}, headers=auth), 422,
                   problems + "invalid-request")
    assert_problem(httpx.patch(f"{base}/{asset_id}/labels/jade", json=body), 403, problems + "missing-scope")
    assert_problem(httpx.patch(f"{base}/{asset_id}/labels/jade", json=body, headers=elsewhere), 403,
                   problems + "forbidden")
    assert "taxonomy" in unknown_label["detail"]


def test_knn_label_propagation_votes_with_curator_labelled_neighbours(
    es: Elasticsearch, settings: Settings, enricher: Enricher, unique: str
) -> None:
    scoped = settings.model_copy(update={"es": settings.es.model_copy(update={"index_prefix": f"test-{unique}"})})
    alias = ensure_assets_index(es, scoped, enricher.encoders)
    labelled = [("兽面纹青铜鼎", "铜器"), ("青铜爵", "铜器"), ("青铜觚，商代酒器", "铜器"), ("青铜簋", "铜器"),
                ("青花瓷碗", "瓷器"), ("粉彩瓷瓶", "瓷器"), ("白玉璧", "玉石器")]
    assets = [AssetRecord.model_validate(make_asset(object_id=f"K-{i}", title_zh=t, title_en=None, category=c))
              for i, (t, c) in enumerate(labelled)]
    try:
        enriched = Enricher(scoped, None, None, text=enricher.text, image=enricher.image, use_ocr=False).enrich(assets)
        index_documents(es, alias, [(a.asset_id, a.model_dump(mode="json")) for a in enriched])
        es.indices.refresh(index=alias)
        classifier = Classifier(enricher.text, scoped.models, scoped.search, es, alias)
        vector = enricher.text.encode(["兽面纹铜爵"])[0].tolist()

        labels = classifier.labels([Subject("new", vector)])[0]
        (probabilities,), (method,) = classifier.distributions([Subject("new", vector)], LabelKind.CATEGORY)
        alone = classifier.zero_shot(enricher.text.encode(["兽面纹铜爵"]), LabelKind.CATEGORY)[0]
    finally:
        es.indices.delete(index=f"{alias}-v*", allow_no_indices=True)

    top = next(label for label in labels if label.kind is LabelKind.CATEGORY)
    assert method == "zero-shot+knn" and top.method == "zero-shot+knn"
    assert top.id == "bronze"
    bronze = [c.id for c in classifier.concepts[LabelKind.CATEGORY]].index("bronze")
    assert probabilities[bronze] > alone[bronze]  # the neighbours raised it
