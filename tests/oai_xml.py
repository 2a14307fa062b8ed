"""Validating OAI-PMH responses: the official OAI-PMH.xsd with the payload schemas (tests/fixtures/oai/)."""

from __future__ import annotations

from functools import cache

from lxml import etree

from tests.helpers import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "oai"
NS = {"oai": "http://www.openarchives.org/OAI/2.0/", "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
      "dc": "http://purl.org/dc/elements/1.1/", "dcterms": "http://purl.org/dc/terms/",
      "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "edm": "http://www.europeana.eu/schemas/edm/",
      "ore": "http://www.openarchives.org/ore/terms/"}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@cache
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(FIXTURES / "harvest.xsd")))


class Validated:
    """Counts the responses validated in this session (reported by the OAI test modules)."""

    count = 0


def valid(body: bytes) -> etree._Element:
    """The parsed response; fails the test with the schema's messages unless it validates."""
    root = etree.fromstring(body)
    checker = schema()
    if not checker.validate(root):
        raise AssertionError(f"not valid against OAI-PMH.xsd: {checker.error_log}\n{body.decode()[:3000]}")
    Validated.count += 1
    return root


def error_code(root: etree._Element) -> str | None:
    found = root.find("oai:error", NS)
    return None if found is None else str(found.get("code"))
