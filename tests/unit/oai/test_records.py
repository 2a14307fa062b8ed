"""The XML builders: oai_dc and EDM records, the envelope, formats and sets — each response validated."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from schemas.access import Audience, Tier
from schemas.asset import AssetRecord
from services.access.policy import Decision
from services.oai import envelope, records, sets
from services.oai.errors import ErrorCode, OaiError
from services.oai.formats import EDM, EDM_LICENCES, OAI_DC, formats_of
from services.oai.sets import Names
from tests.factories import make_asset
from tests.oai_xml import NS, XML_LANG, error_code, valid

BASE = "https://wenyuan.example"
HOLDER = Names("故宫博物院", "The Palace Museum")


def _image(n: int) -> dict[str, Any]:
    return {"sha256": f"{n:064x}", "key": f"o/{n}", "path": f"{n}.jpg", "format": "JPEG", "mime": "image/jpeg",
            "width": 800, "height": 600, "mode": "RGB", "size_bytes": 1000, "phash": "0" * 16,
            "thumbnail_key": f"t/{n}", "preview_key": f"p/{n}"}


def _asset(**overrides: Any) -> dict[str, Any]:
    """A record's public view, as the builders take it."""
    fields: dict[str, Any] = {"description_zh": "清乾隆青花瓷瓶", "description_en": "A Qianlong vase",
                              "creator": "景德镇御窑厂", "category_ids": ["porcelain"], "materials": ["瓷"],
                              "dimensions": "高 30 cm", "date": "1736–1795",
                              "period_norm": {"source": "清乾隆", "start": 1736, "end": 1795, "parsed": True},
                              "images": [_image(1), _image(2)], "has_image": True}
    return AssetRecord.model_validate(make_asset(**(fields | overrides))).public_view(ai=False)


def _decision(tier: Tier) -> Decision:
    return Decision(True, tier, Audience.PUBLIC, f"licence (tier {tier})")


def _in_get_record(metadata: str) -> etree._Element:
    header = envelope.header("oai:wenyuan.example:1", "2026-03-05T10:20:30Z", ["institution:test-museum"], False)
    verb = f"<GetRecord><record>{header}<metadata>{metadata}</metadata></record></GetRecord>"
    return valid(envelope.response(f"{BASE}/oai", {"verb": "GetRecord"}, verb))


def _texts(root: etree._Element, path: str) -> list[tuple[str | None, str | None]]:
    return [(e.text, e.get(XML_LANG)) for e in root.iterfind(path, NS)]


def test_oai_dc_carries_both_languages_the_licence_uri_and_the_holder() -> None:
    asset = _asset()

    root = _in_get_record(records.oai_dc(asset, HOLDER, BASE))


    dc = ".//oai_dc:dc/dc:"
    assert _texts(root, dc + "title") == [("青花瓷瓶", "zh"), ("Blue and white vase", "en")]
    assert _texts(root, dc + "subject") == [("瓷器", "zh"), ("porcelain", "en")]
    assert _texts(root, dc + "publisher") == [("故宫博物院", "zh"), ("The Palace Museum", "en")]
    assert [t for t, _ in _texts(root, dc + "rights")] == ["https://creativecommons.org/publicdomain/zero/1.0/"]
    assert [t for t, _ in _texts(root, dc + "date")] == ["清乾隆", "1736–1795", "1736/1795"]
    assert [t for t, _ in _texts(root, dc + "identifier")] == ["OBJ-1", f"{BASE}/v1/assets/{asset['asset_id']}"]
    assert [t for t, _ in _texts(root, dc + "type")] == ["PhysicalObject"]


def test_oai_dc_of_a_restricted_record_names_its_policy_as_rights() -> None:
    root = _in_get_record(records.oai_dc(_asset(licence="restricted:institution"), Names(), BASE))

    assert [e.text for e in root.iterfind(".//dc:rights", NS)] == ["Restricted (institution)"]
    assert [e.text for e in root.iterfind(".//dc:publisher", NS)] == ["test-museum"]


def test_edm_links_only_what_the_tier_allows_and_states_the_rights_as_europeana_writes_them() -> None:
    asset = _asset(licence="CC-BY-4.0")
    media = f"{BASE}/v1/assets/{asset['asset_id']}/media"

    thumb = _in_get_record(records.edm(asset, _decision(Tier.THUMBNAIL), HOLDER, BASE, "Wenyuan 文渊"))
    full = _in_get_record(records.edm(asset, _decision(Tier.ORIGINAL), HOLDER, BASE, "Wenyuan 文渊"))
    bare = _in_get_record(records.edm(asset, _decision(Tier.METADATA), HOLDER, BASE, "Wenyuan 文渊"))

    def links(root: etree._Element, prop: str) -> list[str]:
        return [str(e.get(f"{{{NS['rdf']}}}resource")) for e in root.iterfind(f".//ore:Aggregation/edm:{prop}", NS)]

    assert links(thumb, "isShownBy") == [f"{media}/0/thumbnail"] and links(thumb, "hasView") == [f"{media}/1/thumbnail"]
    assert links(full, "isShownBy") == [f"{media}/0/original"] and links(full, "object") == [f"{media}/0/thumbnail"]
    assert links(bare, "isShownBy") == links(bare, "object") == links(bare, "hasView") == []
    assert links(bare, "isShownAt") == [f"{BASE}/v1/assets/{asset['asset_id']}"]
    assert links(bare, "rights") == ["http://creativecommons.org/licenses/by/4.0/"]
    assert [e.text for e in bare.iterfind(".//edm:dataProvider", NS)] == ["The Palace Museum"]
    assert [e.text for e in bare.iterfind(".//edm:ProvidedCHO/edm:type", NS)] == ["IMAGE"]
    assert _texts(bare, ".//edm:ProvidedCHO/dc:type") == [("瓷器", "zh"), ("porcelain", "en")]


def test_edm_is_for_the_rights_statements_europeana_accepts() -> None:
    assert {"CC0", "PDM", "CC-BY-4.0", "CC-BY-NC-ND-4.0", "InC", "InC-EDU", "NoC-OKLR", "CNE"} <= EDM_LICENCES
    assert not {"InC-RUU", "NoC-US", "UND", "NKC", "Apache-2.0", "restricted:institution"} & EDM_LICENCES
    assert EDM.clause() == {"terms": {"licence.code": sorted(EDM_LICENCES)}} and OAI_DC.clause() is None
    record = make_asset(licence="NoC-US")
    assert formats_of(record) == [OAI_DC]
    assert formats_of(record, {"edm": EDM}) == []  # with no format that applies: noMetadataFormats
    with pytest.raises(ValueError, match="rights URI"):
        records.edm(_asset(licence="restricted:granted"), None, HOLDER, BASE, "Wenyuan")


def test_the_validator_refuses_payloads_their_schema_does_not_allow() -> None:
    edm = etree.fromstring(records.edm(_asset(), _decision(Tier.PREVIEW), HOLDER, BASE, "Wenyuan"))
    rights = edm.find(".//ore:Aggregation/edm:rights", NS)
    assert rights is not None
    rights.getparent().remove(rights)  # edm:rights is required
    stray = etree.fromstring(records.oai_dc(_asset(), HOLDER, BASE))
    etree.SubElement(stray, f"{{{NS['dc']}}}colour").text = "blue"  # not one of the 15 elements

    for payload in (edm, stray):
        with pytest.raises(AssertionError, match="not valid"):
            _in_get_record(etree.tostring(payload, encoding="unicode"))


def test_text_is_escaped_as_xml_and_what_xml_cannot_carry_is_refused() -> None:
    tricky = "Vase <blue> & \"white\"\r\nline"
    root = _in_get_record(records.oai_dc(_asset(title_en=tricky, creator="A & B"), HOLDER, BASE))

    assert _texts(root, ".//oai_dc:dc/dc:title")[1] == (tricky, "en")
    assert [e.text for e in root.iterfind(".//dc:creator", NS)] == ["A & B"]
    with pytest.raises(ValueError, match="XML compatible"):
        records.oai_dc(_asset(title_en="bell \x07"), HOLDER, BASE)


def test_an_error_response_keeps_the_arguments_except_after_bad_verb_or_bad_argument() -> None:
    args = {"verb": "GetRecord", "identifier": "oai:wenyuan.example:x", "metadataPrefix": "oai_dc"}

    missing = valid(envelope.response(f"{BASE}/oai", args, [OaiError(ErrorCode.ID_DOES_NOT_EXIST, "no such item")]))
    bad = valid(envelope.response(f"{BASE}/oai", args, [OaiError(ErrorCode.BAD_ARGUMENT, "bad")]))

    assert error_code(missing) == "idDoesNotExist"
    assert dict(missing.find("oai:request", NS).attrib) == args  # type: ignore[union-attr]
    assert error_code(bad) == "badArgument" and dict(bad.find("oai:request", NS).attrib) == {}  # type: ignore[union-attr]


def test_set_specs_select_institutions_and_categories_and_name_them_in_both_languages() -> None:
    assert sets.clause("institution:palace") == {"term": {"institution": "palace"}}
    assert sets.clause("category") == {"exists": {"field": "category_ids"}}
    with pytest.raises(sets.UnknownSet):
        sets.clause("dynasty:qing")
    with pytest.raises(ValueError, match="not a setSpec"):
        sets.clause("institution:故宫")
    assert sets.specs_of({"institution": "palace", "category_ids": ["porcelain", "seal"]}) == [
        "institution:palace", "category:porcelain", "category:seal"]
    listed = {spec: name for spec, name, _ in sets.listing(["palace", "elsewhere"], ["porcelain"],
                                                           {"palace": HOLDER})}
    assert listed == {"institution": "收藏机构 / Holding institutions", "category": "文物类别 / Categories",
                      "institution:elsewhere": "elsewhere", "institution:palace": "故宫博物院 / The Palace Museum",
                      "category:porcelain": "瓷器 / porcelain"}
