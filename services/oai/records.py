"""One asset as `oai_dc` (Dublin Core) or `edm` (Europeana Data Model), with lxml.

oai_dc: titles and descriptions in both languages (`xml:lang`), creator, the category labels as
subjects, the institution as publisher, period and date texts and the normalised years as dates,
`PhysicalObject` (DCMI Type) as type, materials and dimensions as format, the accession number and
the record's URL as identifiers, and the licence URI as rights (its name for a policy without one).

edm: an `edm:ProvidedCHO` (the object: the same fields in EDM's DC and DCTERMS properties, then
`edm:type`) and an `ore:Aggregation` (what is delivered of it: `edm:dataProvider` the holder,
`edm:isShownAt` the record, `edm:isShownBy` / `edm:hasView` / `edm:object` the media links the
harvester's tier allows and no others, `edm:provider` this repository, `dc:rights` the credit line,
`edm:rights` the licence URI). Element order follows Europeana's EDM schema. Europeana writes
Creative Commons URIs with `http:`, so edm:rights does too; the statement is the same.

Both are written as XML text (services/oai/xmltext.py) from a record's public view
(services/record_view.stored_view), for the envelope to splice in: a harvest page is a hundred of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from schemas.access import MEDIA_TIERS, Tier
from services.access.policy import Decision
from services.oai.formats import EDM_NS, OAI_DC_NS
from services.oai.sets import Names, category_names
from services.oai.xmltext import attribute, text
from services.record_view import attribution_of, media_href

DC_NS = "http://purl.org/dc/elements/1.1/"
DCTERMS_NS = "http://purl.org/dc/terms/"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
ORE_NS = "http://www.openarchives.org/ore/terms/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
DCMI_PHYSICAL_OBJECT = "PhysicalObject"
OAI_DC_OPEN = (f'<oai_dc:dc xmlns:oai_dc="{OAI_DC_NS}" xmlns:dc="{DC_NS}" xmlns:xsi="{XSI_NS}" '
               f'xsi:schemaLocation="{OAI_DC_NS} http://www.openarchives.org/OAI/2.0/oai_dc.xsd">')
EDM_OPEN = (f'<rdf:RDF xmlns:rdf="{RDF_NS}" xmlns:dc="{DC_NS}" xmlns:dcterms="{DCTERMS_NS}" xmlns:edm="{EDM_NS}" '
            f'xmlns:ore="{ORE_NS}">')

Texts = list[tuple[str, str | None]]  # (text, language or None)
Record = Mapping[str, Any]  # a record's public view


def record_url(base: str, asset_id: str) -> str:
    return f"{base}/v1/assets/{asset_id}"


def _add(out: list[str], tag: str, texts: Texts) -> None:
    for value, lang in texts:  # the languages are this module's own ("zh", "en"): nothing to escape
        if value:
            out.append(f'<{tag} xml:lang="{lang}">{text(value)}</{tag}>' if lang else f"<{tag}>{text(value)}</{tag}>")


def _bilingual(zh: str | None, en: str | None) -> Texts:
    return [(t, lang) for t, lang in ((zh, "zh"), (en, "en")) if t]


def _plain(*values: str | None) -> Texts:
    return [(v, None) for v in values if v]


def _category_labels(record: Record) -> Texts:
    out: Texts = []
    for cid in record["category_ids"]:
        names = category_names(cid)
        out += _bilingual(names.zh, names.en)
    if not out and record["category"]:
        out = _plain(record["category"])
    return out


def _years(record: Record) -> str | None:
    norm = record["period_norm"]
    if norm is None or not norm["parsed"] or norm["start"] is None:
        return None
    start, end = norm["start"], norm["end"]
    return f"{start}/{end}" if end is not None and end != start else str(start)


def _title(record: Record) -> Texts:
    return _bilingual(record["title_zh"], record["title_en"]) or _plain(record["object_id"])


def oai_dc(record: Record, holder: Names, base: str) -> str:
    licence = record["licence"]
    out = [OAI_DC_OPEN]
    _add(out, "dc:title", _title(record))
    _add(out, "dc:creator", _plain(record["creator"]))
    _add(out, "dc:subject", _category_labels(record))
    _add(out, "dc:description", _bilingual(record["description_zh"], record["description_en"]))
    _add(out, "dc:publisher", _bilingual(holder.zh, holder.en) or _plain(record["institution"]))
    _add(out, "dc:date", _plain(record["period"], record["date"], _years(record)))
    _add(out, "dc:type", _plain(DCMI_PHYSICAL_OBJECT))
    _add(out, "dc:format", _plain(*record["materials"], record["dimensions"]))
    _add(out, "dc:identifier", _plain(record["object_id"], record_url(base, record["asset_id"])))
    _add(out, "dc:rights", _plain(licence["uri"] or licence["label"]))
    out.append("</oai_dc:dc>")
    return "".join(out)


def oai_dc_titles(names: Names) -> etree._Element:
    """A set's names, each with its language (a setDescription)."""
    root = etree.Element(f"{{{OAI_DC_NS}}}dc", nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS})
    for value, lang in _bilingual(names.zh, names.en):
        etree.SubElement(root, f"{{{DC_NS}}}title", {"{http://www.w3.org/XML/1998/namespace}lang": str(lang)}
                         ).text = value
    return root


def europeana_rights(uri: str) -> str:
    return uri.replace("https://creativecommons.org/", "http://creativecommons.org/", 1)


def best_links(base: str, record: Record, decision: Decision | None) -> list[str | None]:
    """Per image, the link of the highest tier the caller receives (None: not even the thumbnail)."""
    tier = (decision.tier if decision else None) or Tier.METADATA
    allowed = [t for t in MEDIA_TIERS if tier.includes(t)]
    asset_id = record["asset_id"]
    return [media_href(base, asset_id, n, allowed[-1]) if allowed else None for n in range(len(record["images"]))]


def _resource(out: list[str], tag: str, uri: str | None) -> None:
    if uri:
        out.append(f'<{tag} rdf:resource="{attribute(uri)}"/>')


def edm(record: Record, decision: Decision | None, holder: Names, base: str, provider: str) -> str:
    """The record as EDM; only for licences formats.EDM accepts (the caller checks)."""
    licence = record["licence"]
    if licence["uri"] is None:
        raise ValueError(f"{record['asset_id']}: EDM needs a rights URI")
    cho_uri = record_url(base, record["asset_id"])
    out = [EDM_OPEN, f'<edm:ProvidedCHO rdf:about="{attribute(cho_uri)}">']
    _add(out, "dc:title", _title(record))
    _add(out, "dc:description", _bilingual(record["description_zh"], record["description_en"]))
    _add(out, "dc:creator", _plain(record["creator"]))
    _add(out, "dc:identifier", _plain(record["object_id"]))
    _add(out, "dc:type", _category_labels(record))
    _add(out, "dcterms:created", _plain(record["date"]))
    _add(out, "dcterms:temporal", _plain(record["period"], _years(record)))
    _add(out, "dcterms:medium", _plain(*record["materials"]))
    _add(out, "dcterms:extent", _plain(record["dimensions"]))
    _add(out, "dcterms:spatial", _plain(record["provenance"]))
    _add(out, "dcterms:provenance", _plain(record["acquisition"]))
    _add(out, "edm:type", _plain("IMAGE"))  # the object as Europeana shows it: photographs of it
    out.append("</edm:ProvidedCHO>")

    out.append(f'<ore:Aggregation rdf:about="{attribute(cho_uri)}#aggregation">')
    _resource(out, "edm:aggregatedCHO", cho_uri)
    _add(out, "edm:dataProvider", _plain(holder.en or holder.zh or record["institution"]))
    links = best_links(base, record, decision)
    for link in links[1:]:
        _resource(out, "edm:hasView", link)
    _resource(out, "edm:isShownAt", cho_uri)
    _resource(out, "edm:isShownBy", links[0] if links else None)
    tier = (decision.tier if decision else None) or Tier.METADATA
    if record["images"] and tier.includes(Tier.THUMBNAIL):
        _resource(out, "edm:object", media_href(base, record["asset_id"], 0, Tier.THUMBNAIL))
    _add(out, "edm:provider", _plain(provider))
    _add(out, "dc:rights", _plain(attribution_of(record)))
    _resource(out, "edm:rights", europeana_rights(licence["uri"]))
    out.append("</ore:Aggregation></rdf:RDF>")
    return "".join(out)
