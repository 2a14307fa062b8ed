"""Names, not ids, and both languages, through a gateway of the test's own over the real stack: facet buckets
and the asset view name the holder, its department and region in Chinese and English; licence names, the
access basis and refusals are said in the language of `Accept-Language`, with the same problem `type`."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from elasticsearch import Elasticsearch

from indexing.aliases import ensure_assets_index
from indexing.bulk import index_documents
from indexing.enrich import Enricher
from services.access.db import Database
from services.access.names import Name, OrgNames, names
from services.settings import DatabaseSettings, Settings
from tests.access import make_institution
from tests.factories import image_record, make_asset, make_image
from tests.helpers import assert_problem
from tests.integration.live import live_gateway

pytestmark = pytest.mark.integration

TIER_NOT_ALLOWED = "https://wenyuan.dev/problems/tier-not-allowed"
ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, es: Elasticsearch, settings: Settings, db: Database,
           enricher: Enricher) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(gateway URL, institution, object id → asset id): an open bronze of the bronzes department and an
    in-copyright painting, under an index prefix of their own."""
    institution = make_institution(db, "CN-BJ", ("bronzes",))
    scoped = settings.model_copy(update={"es": settings.es.model_copy(
        update={"index_prefix": f"test-names-{uuid.uuid4().hex[:8]}"})})
    image = image_record(make_image(Path(tmp_path_factory.mktemp("names")) / "a.jpg", seed=41), None)
    docs = [make_asset(object_id="N-1", title_zh="青铜鼎", title_en="Bronze cauldron", institution=institution,
                       department="bronzes", region="CN-BJ", licence="CC0"),
            make_asset(object_id="N-2", title_zh="山水图", title_en="Landscape", institution=institution,
                       region="CN-BJ", licence="InC", images=[image | {"key": "x/o.jpg", "thumbnail_key": "x/t.jpg",
                                                                        "preview_key": "x/p.jpg"}], has_image=True)]
    alias = ensure_assets_index(es, scoped, enricher.encoders)
    index_documents(es, alias, [(str(d["asset_id"]), d) for d in docs])
    es.indices.refresh(index=alias)
    try:
        with live_gateway(scoped) as base:
            yield base, institution, {str(d["object_id"]): str(d["asset_id"]) for d in docs}
    finally:
        es.indices.delete(index=f"{scoped.es.index_prefix}-*", allow_no_indices=True, expand_wildcards="all")


def _facet(page: dict[str, Any], name: str, value: str) -> dict[str, Any]:
    return next(b for b in page["facets"][name] if b["value"] == value)


def test_facet_buckets_name_institutions_regions_and_licences(served: tuple[str, str, dict[str, str]]) -> None:
    base, institution, _ = served

    page = httpx.get(f"{base}/v1/search", params={"institution": institution, "mode": "keyword"}).json()

    named = {"zh": f"{institution}馆", "en": f"{institution} museum"}
    assert _facet(page, "institution", institution)["label"] == named
    assert _facet(page, "region", "CN-BJ")["label"] == {"zh": "CN-BJ区", "en": "Region CN-BJ"}
    assert _facet(page, "licence", "InC")["label"] == {"zh": "受版权保护", "en": "In Copyright"}


def test_the_asset_view_names_its_holder_department_and_region(served: tuple[str, str, dict[str, str]]) -> None:
    base, institution, ids = served

    view = httpx.get(f"{base}/v1/assets/{ids['N-1']}").json()
    other = httpx.get(f"{base}/v1/assets/{ids['N-2']}").json()

    assert view["record"]["institution"] == institution  # the record keeps its ids
    assert view["names"] == {"institution": {"zh": f"{institution}馆", "en": f"{institution} museum"},
                             "department": {"zh": "bronzes部", "en": "Bronzes"},
                             "region": {"zh": "CN-BJ区", "en": "Region CN-BJ"}}
    assert other["names"]["department"] is None


def test_licence_names_and_the_access_basis_follow_accept_language(served: tuple[str, str, dict[str, str]]) -> None:
    base, institution, ids = served

    en = httpx.get(f"{base}/v1/assets/{ids['N-2']}").json()
    zh = httpx.get(f"{base}/v1/assets/{ids['N-2']}", headers=ZH).json()
    hits = httpx.get(f"{base}/v1/search", params={"institution": institution, "mode": "keyword"}, headers=ZH).json()

    assert (en["licence"]["label"], en["access"]["basis"]) == ("In Copyright", "licence InC (audience: public)")
    assert (zh["licence"]["label"], zh["access"]["basis"]) == ("受版权保护", "许可 InC（受众：公众）")
    assert {h["licence"]["label"] for h in hits["hits"]} == {"受版权保护", "CC0 1.0 通用公有领域贡献"}


def test_a_refused_delivery_says_why_in_chinese_with_the_same_type(served: tuple[str, str, dict[str, str]]) -> None:
    base, institution, ids = served
    url = f"{base}/v1/assets/{ids['N-2']}/media/0/original"

    en = httpx.get(url)
    zh = httpx.get(url, headers=ZH)

    body_en, body_zh = assert_problem(en, 403, TIER_NOT_ALLOWED), assert_problem(zh, 403, TIER_NOT_ALLOWED)
    assert body_en["detail"].startswith("In Copyright (InC) gives you the thumbnail tier of this asset")
    assert body_zh["title"] == "许可与您的授权不允许此级别"
    assert body_zh["detail"].startswith("受版权保护（InC）只让您获得此藏品的缩略图级别（许可 InC（受众：公众））")
    assert body_zh["would_allow"] == [f"收藏机构（{institution}馆）的员工",
                                      f"{institution}馆给予的原图或更高级别的授权"]
    assert f"staff of the holding institution ({institution} museum)" in body_en["detail"]  # names, not ids
    assert (body_zh["allowed_tier"], body_zh["requested_tier"]) == ("thumbnail", "original")  # codes stay codes
    assert zh.headers["content-language"] == "zh" and en.headers["content-language"] == "en"


def test_names_follow_a_change_of_the_access_store_at_once(db: Database) -> None:
    before = names(db)
    institution = make_institution(db, "CN-BJ", ("prints",))

    after = names(db)

    assert before.institution(institution) is None
    assert after.institution(institution) == Name(f"{institution}馆", f"{institution} museum")
    assert after.department(institution, "prints部") == Name("prints部", "Prints")  # by any name a record uses


def test_a_store_that_cannot_be_read_gives_no_names_and_no_error(caplog: pytest.LogCaptureFixture) -> None:
    down = Database(DatabaseSettings(url="postgresql+psycopg://wenyuan@127.0.0.1:9/none"))
    try:
        with caplog.at_level(logging.WARNING, logger="services.access.names"):
            found = names(down)
    finally:
        down.close()

    assert found == OrgNames()
    assert any("not read" in r.getMessage() for r in caplog.records)
