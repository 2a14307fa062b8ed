"""OAI-PMH 2.0 through a live gateway on an index of its own: every verb, every error code, deletions,
from/until, sets, resumption, access rules, and a Sickle harvest — each response validated against
OAI-PMH.xsd (with the oai_dc and EDM payload schemas of tests/fixtures/oai/)."""

from __future__ import annotations

import base64
import json
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from elasticsearch import Elasticsearch
from lxml import etree

from indexing.aliases import ensure_assets_index
from indexing.bulk import index_documents
from schemas.access import GranteeKind, GrantScope, Role, Tier
from services.access.db import Database
from services.settings import Settings
from tests.access import app_key, grant, make_institution, staff_key
from tests.factories import make_asset, stored_image
from tests.integration.live import live_gateway
from tests.oai_xml import NS, Validated, error_code, valid

with warnings.catch_warnings():  # Sickle 0.7's regexes are not raw strings: a warning when it compiles
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", SyntaxWarning)
    from sickle import Sickle
    from sickle.oaiexceptions import NoRecordsMatch

PAGE = 3
RDF_RESOURCE = f"{{{NS['rdf']}}}resource"


@dataclass
class World:
    base: str
    host: str
    ids: dict[str, str]  # name → asset id
    holder: str
    other: str
    staff: dict[str, str]  # headers of a curator of the holder
    app: dict[str, str]  # headers of a partner app with a preview grant on the holder's granted batch

    def oai(self, headers: dict[str, str] | None = None, method: str = "GET", **args: str) -> etree._Element:
        """One request, its response validated; `from_` stands for `from`."""
        params = {("from" if k == "from_" else k): v for k, v in args.items()}
        if method == "GET":
            resp = httpx.get(f"{self.base}/oai", params=params, headers=headers or {}, timeout=30)
        else:
            resp = httpx.post(f"{self.base}/oai", data=params, headers=headers or {}, timeout=30)
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"].startswith("text/xml")
        return valid(resp.content)

    def identifier(self, name: str) -> str:
        return f"oai:{self.host}:{self.ids[name]}"

    def names(self, identifiers: list[str]) -> set[str]:
        by_id = {self.identifier(n): n for n in self.ids}
        return {by_id[i] for i in identifiers}

    def walk(self, verb: str, headers: dict[str, str] | None = None, **args: str) -> list[etree._Element]:
        """Every page of a list, following resumption tokens."""
        pages = [self.oai(headers, verb=verb, **args)]
        while (token := pages[-1].find(f".//oai:{verb}/oai:resumptionToken", NS)) is not None and token.text:
            pages.append(self.oai(headers, verb=verb, resumptionToken=token.text))
        return pages


def headers_of(pages: list[etree._Element]) -> list[etree._Element]:
    return [h for page in pages for h in page.iterfind(".//oai:header", NS)]


def identifiers(pages: list[etree._Element], *, deleted: bool = False) -> list[str]:
    return [str(h.findtext("oai:identifier", namespaces=NS)) for h in headers_of(pages)
            if (h.get("status") == "deleted") is deleted]


@pytest.fixture(scope="module")
def world(settings: Settings, es: Elasticsearch) -> Iterator[World]:
    suffix = uuid.uuid4().hex[:8]
    db = Database(settings.db)
    holder = make_institution(db, "CN-BJ", institution=f"oai-a-{suffix}")
    other = make_institution(db, "GB-LND", institution=f"oai-b-{suffix}")
    granted_batch = f"b-oai-granted-{suffix}"
    specs: dict[str, tuple[str, str, str, dict[str, Any]]] = {  # name → (institution, licence, changed_at, fields)
        "a1": (holder, "CC0", "2025-01-01T08:00:00.250Z", {"category_ids": ["porcelain"]}),
        "a2": (holder, "InC", "2025-01-02T08:00:00Z", {"category_ids": ["porcelain"]}),
        "a3": (holder, "CC0", "2025-01-03T08:00:00Z", {"category_ids": ["bronze"]}),
        "a4": (holder, "PDM", "2025-01-04T08:00:00Z", {"category_ids": ["bronze"]}),
        "a5": (holder, "CC0", "2025-01-05T08:00:00Z", {}),
        "granted": (holder, "InC", "2025-01-06T08:00:00Z", {"access": "granted", "batch_id": granted_batch}),
        "restricted": (holder, "restricted:institution", "2025-01-07T08:00:00Z", {}),
        "withdrawn": (holder, "CC0", "2025-01-08T08:00:00Z", {"deleted_at": "2025-01-08T08:00:00Z"}),
        "withdrawn restricted": (holder, "restricted:institution", "2025-01-09T08:00:00Z",
                                 {"deleted_at": "2025-01-09T08:00:00Z"}),
        "b1": (other, "CC-BY-4.0", "2025-02-01T10:00:00Z", {"category_ids": ["bronze"]}),
        "b2": (other, "CC-BY-4.0", "2025-02-01T10:00:01Z", {}),
        "b3": (other, "NoC-US", "2025-02-01T10:00:02Z", {}),
    }
    docs = {}
    for n, (name, (inst, licence, changed, fields)) in enumerate(specs.items()):
        docs[name] = make_asset(object_id=f"OAI-{n}", institution=inst, licence=licence, changed_at=changed,
                                ingested_at=changed, region="CN-BJ" if inst == holder else "GB-LND",
                                title_en=f"Object {name}", images=[stored_image(2 * n), stored_image(2 * n + 1)],
                                has_image=True, **fields)
    scoped = settings.model_copy(update={
        "es": settings.es.model_copy(update={"index_prefix": f"test-oai-{suffix}"}),
        "oai": settings.oai.model_copy(update={"page_size": PAGE})})
    alias = ensure_assets_index(es, scoped, {"text": None, "image": None})
    index_documents(es, alias, [(str(d["asset_id"]), d) for d in docs.values()])
    es.indices.refresh(index=alias)
    admin = staff_key(db, holder, Role.ADMIN)
    app, app_id = app_key(db)
    grant(db, admin, GranteeKind.APP, app_id, Tier.PREVIEW, GrantScope.BATCH, {"batch_id": granted_batch})
    curator = staff_key(db, holder, Role.CURATOR)
    try:
        with live_gateway(scoped) as base:
            yield World(base, "127.0.0.1", {k: str(d["asset_id"]) for k, d in docs.items()}, holder, other,
                        {"X-API-Key": curator.key}, {"X-API-Key": app})
    finally:
        print(f"\n[test_oai] {Validated.count} OAI-PMH responses validated against OAI-PMH.xsd")
        es.indices.delete(index=f"{alias}-v*", allow_no_indices=True)
        db.close()


PUBLIC = {"a1", "a2", "a3", "a4", "a5", "b1", "b2", "b3"}


# -- Identify, ListMetadataFormats, ListSets -------------------------------------------------------

def test_identify_states_the_repository_its_earliest_datestamp_persistent_deletions_and_seconds(
    world: World
) -> None:
    root = world.oai(verb="Identify")

    identify = root.find("oai:Identify", NS)
    assert identify is not None
    assert identify.findtext("oai:baseURL", namespaces=NS) == f"{world.base}/oai"
    assert identify.findtext("oai:protocolVersion", namespaces=NS) == "2.0"
    assert identify.findtext("oai:earliestDatestamp", namespaces=NS) == "2025-01-01T08:00:00Z"
    assert identify.findtext("oai:deletedRecord", namespaces=NS) == "persistent"
    assert identify.findtext("oai:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"


def test_post_with_a_form_answers_like_get(world: World) -> None:
    get = world.oai(verb="GetRecord", identifier=world.identifier("a1"), metadataPrefix="oai_dc")
    post = world.oai(method="POST", verb="GetRecord", identifier=world.identifier("a1"), metadataPrefix="oai_dc")

    assert etree.tostring(get.find("oai:GetRecord", NS)) == etree.tostring(post.find("oai:GetRecord", NS))
    assert post.find("oai:request", NS).attrib["verb"] == "GetRecord"  # type: ignore[union-attr]


def test_metadata_formats_of_the_repository_and_of_one_item(world: World) -> None:
    def prefixes(root: etree._Element) -> list[str]:
        return [str(e.text) for e in root.iterfind(".//oai:metadataPrefix", NS)]

    assert prefixes(world.oai(verb="ListMetadataFormats")) == ["oai_dc", "edm"]
    assert prefixes(world.oai(verb="ListMetadataFormats", identifier=world.identifier("a1"))) == ["oai_dc", "edm"]
    assert prefixes(world.oai(verb="ListMetadataFormats", identifier=world.identifier("b3"))) == ["oai_dc"]
    assert error_code(world.oai(verb="ListMetadataFormats", identifier=f"oai:{world.host}:nope")) == "idDoesNotExist"
    assert error_code(world.oai(verb="ListMetadataFormats", identifier=world.identifier("restricted"))) == \
        "idDoesNotExist"


def test_sets_are_institutions_and_categories_named_in_both_languages(world: World) -> None:
    root = world.oai(verb="ListSets")

    sets = {s.findtext("oai:setSpec", namespaces=NS): s.findtext("oai:setName", namespaces=NS)
            for s in root.iterfind(".//oai:set", NS)}
    assert sets == {"institution": "收藏机构 / Holding institutions", "category": "文物类别 / Categories",
                    f"institution:{world.holder}": f"{world.holder}馆 / {world.holder} museum",
                    f"institution:{world.other}": f"{world.other}馆 / {world.other} museum",
                    "category:porcelain": "瓷器 / porcelain", "category:bronze": "铜器 / bronzes and copper objects"}
    titles = root.findall(f".//oai:set[oai:setSpec='institution:{world.holder}']//dc:title", NS)
    assert [(t.text, t.get("{http://www.w3.org/XML/1998/namespace}lang")) for t in titles] == [
        (f"{world.holder}馆", "zh"), (f"{world.holder} museum", "en")]
    assert error_code(world.oai(verb="ListSets", resumptionToken="x")) == "badResumptionToken"


# -- GetRecord ---------------------------------------------------------------------------------------

def test_get_record_in_oai_dc_has_its_datestamp_sets_titles_and_licence(world: World) -> None:
    root = world.oai(verb="GetRecord", identifier=world.identifier("a1"), metadataPrefix="oai_dc")

    header = root.find(".//oai:header", NS)
    assert header is not None and header.get("status") is None
    assert header.findtext("oai:datestamp", namespaces=NS) == "2025-01-01T08:00:00Z"
    assert [s.text for s in header.iterfind("oai:setSpec", NS)] == [f"institution:{world.holder}",
                                                                    "category:porcelain"]
    assert [t.text for t in root.iterfind(".//dc:title", NS)] == ["青花瓷瓶", "Object a1"]
    assert [t.text for t in root.iterfind(".//dc:rights", NS)] == ["https://creativecommons.org/publicdomain/zero/1.0/"]
    assert [t.text for t in root.iterfind(".//dc:publisher", NS)] == [f"{world.holder}馆", f"{world.holder} museum"]


def test_get_record_in_edm_links_only_what_the_harvesters_tier_allows(world: World) -> None:
    anonymous = world.oai(verb="GetRecord", identifier=world.identifier("a2"), metadataPrefix="edm")
    grantee = world.oai(world.app, verb="GetRecord", identifier=world.identifier("granted"), metadataPrefix="edm")

    def shown_by(root: etree._Element) -> list[str]:
        return [str(e.get(RDF_RESOURCE)).rsplit("/", 2)[-2:][1] for e in
                root.iterfind(".//ore:Aggregation/*", NS) if e.tag.endswith(("isShownBy", "hasView", "object"))]

    assert shown_by(anonymous) == ["thumbnail", "thumbnail", "thumbnail"]  # InC: the public gets thumbnails
    assert shown_by(grantee) == ["preview", "preview", "thumbnail"]  # the grant's tier, no original
    rights = anonymous.find(".//edm:rights", NS)
    assert rights is not None and rights.get(RDF_RESOURCE) == "http://rightsstatements.org/vocab/InC/1.0/"


def test_get_record_refuses_what_it_cannot_disseminate_and_what_the_caller_may_not_see(world: World) -> None:
    assert error_code(world.oai(verb="GetRecord", identifier=world.identifier("b3"), metadataPrefix="edm")) == \
        "cannotDisseminateFormat"
    assert error_code(world.oai(verb="GetRecord", identifier=world.identifier("a1"), metadataPrefix="lido")) == \
        "cannotDisseminateFormat"
    assert error_code(world.oai(verb="GetRecord", identifier=world.identifier("restricted"),
                                metadataPrefix="oai_dc")) == "idDoesNotExist"
    assert error_code(world.oai(verb="GetRecord", identifier="oai:elsewhere.org:1", metadataPrefix="oai_dc")) == \
        "idDoesNotExist"
    assert error_code(world.oai(world.staff, verb="GetRecord", identifier=world.identifier("restricted"),
                                metadataPrefix="oai_dc")) is None


def test_a_withdrawn_record_is_a_deleted_header_without_metadata(world: World) -> None:
    root = world.oai(verb="GetRecord", identifier=world.identifier("withdrawn"), metadataPrefix="oai_dc")

    header = root.find(".//oai:header", NS)
    assert header is not None and header.get("status") == "deleted"
    assert header.findtext("oai:datestamp", namespaces=NS) == "2025-01-08T08:00:00Z"
    assert root.find(".//oai:metadata", NS) is None


# -- lists -------------------------------------------------------------------------------------------

def test_lists_report_deletions_only_of_records_the_harvester_could_see(world: World) -> None:
    public = world.walk("ListIdentifiers", metadataPrefix="oai_dc")
    staff = world.walk("ListIdentifiers", world.staff, metadataPrefix="oai_dc")

    assert world.names(identifiers(public)) == PUBLIC
    assert world.names(identifiers(public, deleted=True)) == {"withdrawn"}
    assert world.names(identifiers(staff)) == PUBLIC | {"granted", "restricted"}
    assert world.names(identifiers(staff, deleted=True)) == {"withdrawn", "withdrawn restricted"}


def test_from_and_until_select_by_datestamp_at_either_granularity(world: World) -> None:
    days = world.walk("ListIdentifiers", metadataPrefix="oai_dc", from_="2025-01-02", until="2025-01-04")
    second = world.oai(verb="ListIdentifiers", metadataPrefix="oai_dc", from_="2025-02-01T10:00:01Z",
                       until="2025-02-01T10:00:01Z")
    first = world.oai(verb="ListIdentifiers", metadataPrefix="oai_dc", until="2025-01-01T08:00:00Z")

    assert world.names(identifiers(days)) == {"a2", "a3", "a4"}
    assert world.names(identifiers([second])) == {"b2"}
    assert world.names(identifiers([first])) == {"a1"}  # changed at 08:00:00.250, shown as 08:00:00
    assert error_code(world.oai(verb="ListIdentifiers", metadataPrefix="oai_dc", from_="2030-01-01")) == \
        "noRecordsMatch"
    for bad in ({"from_": "2025-01-02", "until": "2025-01-04T00:00:00Z"},
                {"from_": "2025-01-04", "until": "2025-01-02"}, {"from_": "2025-01-02T00:00:00+08:00"},
                {"until": "last week"}):
        assert error_code(world.oai(verb="ListRecords", metadataPrefix="oai_dc", **bad)) == "badArgument", bad


def test_sets_select_their_records(world: World) -> None:
    other = world.walk("ListIdentifiers", metadataPrefix="oai_dc", set=f"institution:{world.other}")
    bronze = world.walk("ListRecords", metadataPrefix="oai_dc", set="category:bronze")
    branch = world.walk("ListIdentifiers", metadataPrefix="oai_dc", set="category")

    assert world.names(identifiers(other)) == {"b1", "b2", "b3"}
    assert world.names(identifiers(bronze)) == {"a3", "a4", "b1"}
    assert world.names(identifiers(branch)) == {"a1", "a2", "a3", "a4", "b1"}
    assert error_code(world.oai(verb="ListRecords", metadataPrefix="oai_dc", set="category:nothing")) == \
        "noRecordsMatch"
    assert error_code(world.oai(verb="ListRecords", metadataPrefix="oai_dc", set="dynasty:qing")) == "noRecordsMatch"


def test_edm_lists_leave_out_the_records_it_cannot_carry(world: World) -> None:
    pages = world.walk("ListRecords", metadataPrefix="edm")

    assert world.names(identifiers(pages)) == PUBLIC - {"b3"}
    assert len(pages[0].findall(".//rdf:RDF", NS)) == PAGE


def test_resumption_tokens_carry_the_list_size_and_the_cursor_and_end_empty(world: World) -> None:
    pages = world.walk("ListIdentifiers", metadataPrefix="oai_dc")

    tokens = [p.find(".//oai:resumptionToken", NS) for p in pages]
    assert len(pages) == 3 and all(t is not None for t in tokens)
    assert [(t.get("completeListSize"), t.get("cursor")) for t in tokens] == [("9", "0"), ("9", "3"), ("9", "6")]  # type: ignore[union-attr]
    assert tokens[-1].text is None and tokens[-1].get("expirationDate") is None  # type: ignore[union-attr]
    assert all(t.get("expirationDate") for t in tokens[:-1])  # type: ignore[union-attr]
    assert len(identifiers(pages)) + len(identifiers(pages, deleted=True)) == 9


def _first_token(world: World, headers: dict[str, str] | None = None) -> str:
    root = world.oai(headers, verb="ListIdentifiers", metadataPrefix="oai_dc")
    token = root.find(".//oai:resumptionToken", NS)
    assert token is not None and token.text
    return str(token.text)


def test_an_altered_foreign_misused_or_expired_token_is_bad_resumption_token(
    world: World, es: Elasticsearch
) -> None:
    token = _first_token(world)
    payload, mac = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["p"]["cursor"] = 0
    altered = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=") + "." + mac

    codes = [error_code(world.oai(verb="ListIdentifiers", resumptionToken=altered)),
             error_code(world.oai(world.staff, verb="ListIdentifiers", resumptionToken=token)),
             error_code(world.oai(verb="ListRecords", resumptionToken=token)),
             error_code(world.oai(verb="ListIdentifiers", resumptionToken=token, metadataPrefix="oai_dc"))]
    es.close_point_in_time(id=body["p"]["pit"])  # the point in time it walks is gone, as when it expires
    expired = world.oai(verb="ListIdentifiers", resumptionToken=token)

    assert codes == ["badResumptionToken", "badResumptionToken", "badResumptionToken", "badArgument"]
    assert error_code(expired) == "badResumptionToken"
    assert "expired" in (expired.findtext("oai:error", namespaces=NS) or "")


def test_bad_verbs_and_arguments_are_protocol_errors_not_http_errors(world: World) -> None:
    assert error_code(world.oai(verb="Harvest")) == "badVerb"
    assert error_code(world.oai()) == "badVerb"
    assert error_code(world.oai(verb="ListRecords")) == "badArgument"
    assert error_code(world.oai(verb="ListRecords", metadataPrefix="oai_dc", set="not a set")) == "badArgument"
    assert error_code(world.oai(verb="Identify", identifier=world.identifier("a1"))) == "badArgument"


# -- harvesting with Sickle --------------------------------------------------------------------------

class ValidatingSickle(Sickle):  # type: ignore[misc]
    """Sickle, validating every response it receives."""

    responses = 0

    def harvest(self, **kwargs: Any) -> Any:
        response = super().harvest(**kwargs)
        valid(response.raw.encode())
        self.responses += 1
        return response


def test_a_sickle_harvest_across_pages_returns_every_open_record_exactly_once(world: World) -> None:
    sickle = ValidatingSickle(f"{world.base}/oai", timeout=30)

    harvested = [r.header.identifier for r in sickle.ListRecords(metadataPrefix="oai_dc", ignore_deleted=True)]

    assert sickle.responses == 3
    assert len(harvested) == len(set(harvested)) == len(PUBLIC)
    assert world.names(harvested) == PUBLIC


def test_a_grantee_harvests_by_post_what_its_grant_adds_and_no_more(world: World) -> None:
    sickle = ValidatingSickle(f"{world.base}/oai", http_method="POST", headers=world.app, timeout=30)

    harvested = [h.identifier for h in sickle.ListIdentifiers(metadataPrefix="edm", ignore_deleted=True)]

    assert world.names(harvested) == (PUBLIC - {"b3"}) | {"granted"}
    assert len(harvested) == len(set(harvested))
    with pytest.raises(NoRecordsMatch):
        next(iter(ValidatingSickle(f"{world.base}/oai", timeout=30).ListRecords(
            metadataPrefix="oai_dc", set=f"institution:{world.holder}", until="2024-12-31")))
