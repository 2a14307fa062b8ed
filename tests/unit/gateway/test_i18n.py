"""The server's words in both languages (services/messages.py) and problem+json that honours Accept-Language:
the same `type` whatever the language, title and detail said in Chinese or English, English by default."""

from __future__ import annotations

import pickle
import re
import string
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from schemas.access import AccessPolicy, Tier
from schemas.licences import LICENCES
from services.access.errors import TierRefused
from services.access.names import Name, OrgNames, resolver
from services.access.policy import AssetFacts, would_allow
from services.gateway import errors
from services.gateway.app import create_app
from services.messages import LICENCE_ZH, TEXTS, Message, Named, negotiate, render, text, title
from services.settings import get_settings
from tests.helpers import assert_problem

HAN = re.compile(r"[\u4e00-\u9fff]")


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize(("header", "lang"), [
    (None, "en"), ("", "en"), ("zh-CN", "zh"), ("zh-Hant-TW,en;q=0.5", "zh"), ("en-GB,zh;q=0.9", "en"),
    ("fr-FR,zh;q=0.8,en;q=0.7", "zh"), ("fr, de", "en"), ("zh;q=0, en", "en"), ("en;q=0.2, zh;q=0.9", "zh"),
    ("ZH-cn", "zh"), ("zh;q=abc", "en"),
])
def test_accept_language_chooses_zh_or_en_and_english_by_default(header: str | None, lang: str) -> None:
    assert negotiate(header) == lang


def test_every_text_has_both_languages_with_the_same_placeholders() -> None:
    for key, (en, zh) in TEXTS.items():
        assert en and zh, key
        assert key == "licence.name" or _fields(en) == _fields(zh), key
        if not key.startswith(("licence.", "unavailable.with", "invalid.field")):
            assert HAN.search(zh), f"{key}: {zh!r} is not Chinese"


def test_every_licence_has_a_chinese_name() -> None:
    assert set(LICENCES) <= set(LICENCE_ZH)


def test_every_problem_has_its_title_in_both_languages() -> None:
    kinds = [k for k in vars(errors).values() if isinstance(k, type) and issubclass(k, errors.Problem)]

    for kind in kinds:
        assert title(kind.type, "?", "en") == kind.title, kind
        assert HAN.search(title(kind.type, "?", "zh")), kind


def test_a_message_is_its_english_text_and_says_itself_again_in_chinese() -> None:
    basis = Message("basis.licence", licence="InC", audience=Message("audience.public"))

    assert basis == "licence InC (audience: public)"
    assert basis.say("zh") == "许可 InC（受众：公众）"
    assert pickle.loads(pickle.dumps(basis)).say("zh") == basis.say("zh")
    assert render({"basis": basis, "who": [Message("allow.public")], "n": 3}, "zh") == {
        "basis": "许可 InC（受众：公众）", "who": ["所有人"], "n": 3}


def test_a_list_parameter_is_joined_the_language_s_way() -> None:
    who = [Message("allow.public"), Message("allow.grant", institution="palace", tier=Message("tier.original"))]

    assert text("delivery.refused", "en", label="In Copyright", code="InC", allowed="thumbnail", basis="b",
                requested="original", who=who).endswith(
        "delivered to everyone; a grant from palace of tier original or higher.")
    assert "所有人；palace给予的原图或更高级别的授权" in text("delivery.refused", "zh", label="受版权保护", code="InC",
                                                 allowed="缩略图", basis="b", requested="原图", who=who)


def test_would_allow_says_who_in_chinese_too() -> None:
    facts = AssetFacts(asset_id="a", institution="palace", department=None, region="CN-BJ", licence="InC",
                       access=AccessPolicy.PUBLIC, embargo_until=None)

    who = would_allow(facts, Tier.ORIGINAL, today=date(2026, 1, 1))

    assert who == ["staff of the holding institution (palace)", "a grant from palace of tier original or higher"]
    assert render(who, "zh") == ["收藏机构（palace）的员工", "palace给予的原图或更高级别的授权"]


# -- problem+json over HTTP ------------------------------------------------------------------------

def _app() -> FastAPI:
    app = create_app(get_settings())

    @app.get("/test/refused")
    def refused() -> None:
        basis = Message("basis.grant", grant="g1")
        raise TierRefused(Message("delivery.refused", label=Message("licence.name", en="In Copyright", zh="受版权保护"),
                                  code="InC", allowed=Message("tier.thumbnail"), basis=basis,
                                  requested=Message("tier.original"), who=[Message("allow.public")]),
                          basis=basis, would_allow=[Message("allow.public")])

    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(_app()) as c:
        yield c


def test_a_refusal_is_said_in_the_language_asked_for_with_the_same_type(client: TestClient) -> None:
    en = client.get("/test/refused")
    zh = client.get("/test/refused", headers={"Accept-Language": "zh-CN,zh;q=0.9"})

    body_en = assert_problem(en, 403, errors.TierNotAllowed.type)
    body_zh = assert_problem(zh, 403, errors.TierNotAllowed.type)
    assert body_en["title"] == errors.TierNotAllowed.title and en.headers["content-language"] == "en"
    assert body_en["detail"].startswith("In Copyright (InC) gives you the thumbnail tier of this asset (grant g1)")
    assert body_zh["title"] == "许可与您的授权不允许此级别" and zh.headers["content-language"] == "zh"
    assert body_zh["detail"] == "受版权保护（InC）只让您获得此藏品的缩略图级别（授权 g1）；原图只提供给：所有人。"
    assert body_zh["basis"] == "授权 g1" and body_zh["would_allow"] == ["所有人"]
    assert "accept-language" in zh.headers["vary"].lower()


def test_a_validation_error_is_said_in_chinese_field_by_field(client: TestClient) -> None:
    resp = client.get("/v1/search", params={"q": "瓷", "size": "many"}, headers={"Accept-Language": "zh"})

    body = assert_problem(resp, 422, errors.InvalidRequest.type)
    assert body["title"] == "请求无效"
    assert body["errors"] == [{"field": "query.size", "reason": "应为整数"}]
    assert body["detail"] == "query.size：应为整数"


def test_an_unknown_route_is_a_chinese_404_for_a_chinese_reader(client: TestClient) -> None:
    zh = client.get("/v1/no-such-thing", headers={"Accept-Language": "zh"})
    en = client.get("/v1/no-such-thing")

    assert assert_problem(zh, 404, "about:blank")["title"] == "未找到"
    assert assert_problem(en, 404, "about:blank")["title"] == "Not Found"


def test_a_malformed_key_is_refused_in_chinese_by_the_access_middleware(client: TestClient) -> None:
    resp = client.get("/v1/me", headers={"X-API-Key": "not-a-key", "Accept-Language": "zh-CN"})

    body = assert_problem(resp, 401, errors.Unauthorized.type)
    assert body["title"] == "API 密钥无效" and body["detail"].startswith("API 密钥格式不对")
    assert resp.headers["content-language"] == "zh" and resp.headers["www-authenticate"].startswith("Bearer")


def test_ids_in_a_refusal_are_said_by_their_names_where_the_edge_knows_them() -> None:
    facts = AssetFacts(asset_id="a", institution="palace", department="paintings", region="CN-BJ", licence="InC",
                       access=AccessPolicy.PUBLIC, embargo_until=None)
    org = OrgNames(institutions={"palace": Name("故宫博物院", "The Palace Museum")},
                   departments={"palace": {"paintings": ("paintings", Name("书画部", "Paintings"))}})

    who = would_allow(facts, Tier.ORIGINAL, today=date(2026, 1, 1))
    refused = Message("allow.department", department=Named("department", "paintings", "palace"))

    assert render(who, "en", resolver(org)) == ["staff of the holding institution (The Palace Museum)",
                                                "a grant from The Palace Museum of tier original or higher"]
    assert render(who, "zh", resolver(org))[0] == "收藏机构（故宫博物院）的员工"
    assert refused.say("zh", resolver(org)) == "其所属部门（书画部）的员工"
    assert render(Named("region", "CN-BJ"), "zh", resolver(org)) == "CN-BJ"  # no name known: the id
    assert pickle.loads(pickle.dumps(Named("department", "paintings", "palace"))).of == "palace"
