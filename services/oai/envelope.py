"""The OAI-PMH response around every answer: responseDate, request, then the verb's element or errors.

The envelope is built with lxml. The list verbs and GetRecord write their element as text (headers,
records and tokens: services/oai/xmltext.py, services/oai/records.py), which `response` splices in
where lxml wrote a placeholder. Every response validates against OAI-PMH.xsd (the tests check each
one they get).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from lxml import etree

from services.oai import dates
from services.oai.errors import ARGUMENTS_UNTRUSTED, OaiError
from services.oai.xmltext import element, text

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
OAI_SCHEMA_LOCATION = f"{OAI_NS} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
MEDIA_TYPE = "text/xml; charset=utf-8"
PLACEHOLDER = "wenyuanBody"  # no OAI-PMH element: where a verb's element written as text goes


def q(tag: str) -> str:
    return f"{{{OAI_NS}}}{tag}"


def sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    """A child in the OAI namespace (`tag`) or in another (`{ns}tag`)."""
    child = etree.SubElement(parent, tag if tag.startswith("{") else q(tag), attrs)
    if text is not None:
        child.text = text
    return child


def header(identifier: str, datestamp: str, set_specs: Iterable[str], deleted: bool) -> str:
    """A record's header, as text in the OAI namespace (the envelope's default one)."""
    specs = "".join(f"<setSpec>{text(spec)}</setSpec>" for spec in set_specs)
    status = ' status="deleted"' if deleted else ""
    return (f"<header{status}><identifier>{text(identifier)}</identifier>"
            f"<datestamp>{text(datestamp)}</datestamp>{specs}</header>")


def resumption_token(token: str | None, complete_list_size: int, cursor: int, expires: str | None) -> str:
    """The token of the next page, or the empty one that ends a list of several pages, as text."""
    attrs = {"completeListSize": str(complete_list_size), "cursor": str(cursor)}
    if expires is not None:
        attrs["expirationDate"] = expires
    return element("resumptionToken", token or None, attrs)


def response(base_url: str, arguments: Mapping[str, str], body: etree._Element | str | list[OaiError]) -> bytes:
    """The whole response: `body` is the verb's element (or that element as text), or the errors of the request.

    The request element echoes the arguments, except after badVerb or badArgument (section 3.2),
    where they may be anything and are left out."""
    root = etree.Element(q("OAI-PMH"), nsmap={None: OAI_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", OAI_SCHEMA_LOCATION)
    sub(root, "responseDate", dates.now())
    errors = body if isinstance(body, list) else []
    request = sub(root, "request", base_url)
    if not any(e.code in ARGUMENTS_UNTRUSTED for e in errors):
        for name, value in arguments.items():
            request.set(name, value)
    if isinstance(body, list):
        for error in body:
            sub(root, "error", error.message, code=error.code.value)
    elif isinstance(body, str):
        sub(root, PLACEHOLDER)
        whole = bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
        return whole.replace(f"<{PLACEHOLDER}/>".encode(), body.encode(), 1)
    else:
        root.append(body)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def verb_element(verb: str) -> etree._Element:
    return etree.Element(q(verb), nsmap={None: OAI_NS})
