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
"""

from __future__ import annotations

from lxml import etree

from schemas.access import MEDIA_TIERS, Tier
from schemas.asset import AssetRecord
from services import assets
from services.access.policy import Decision
from services.oai.formats import EDM_NS, OAI_DC_NS
from services.oai.sets import Names, category_names
from services.record_view import media_href

DC_NS = "http://purl.org/dc/elements/1.1/"
DCTERMS_NS = "http://purl.org/dc/terms/"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
ORE_NS = "http://www.openarchives.org/ore/terms/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
RDF_ABOUT, RDF_RESOURCE = f"{{{RDF_NS}}}about", f"{{{RDF_NS}}}resource"
DCMI_PHYSICAL_OBJECT = "PhysicalObject"

Texts = list[tuple[str, str | None]]  # (text, language or None)


def record_url(base: str, asset_id: str) -> str:
    return f"{base}/v1/assets/{asset_id}"


def _add(parent: etree._Element, ns: str, tag: str, texts: Texts) -> None:
    for text, lang in texts:
        if text:
            el = etree.SubElement(parent, f"{{{ns}}}{tag}", {XML_LANG: lang} if lang else {})
            el.text = text


def _bilingual(zh: str | None, en: str | None) -> Texts:
    return [(t, lang) for t, lang in ((zh, "zh"), (en, "en")) if t]


def _plain(*values: str | None) -> Texts:
    return [(v, None) for v in values if v]


def _category_labels(asset: AssetRecord) -> Texts:
    out: Texts = []
    for cid in asset.category_ids:
        names = category_names(cid)
        out += _bilingual(names.zh, names.en)
    if not out and asset.category:
        out = _plain(asset.category)
    return out


def _years(asset: AssetRecord) -> str | None:
    norm = asset.period_norm
    if norm is None or not norm.parsed or norm.start is None:
        return None
    return f"{norm.start}/{norm.end}" if norm.end is not None and norm.end != norm.start else str(norm.start)


def oai_dc(asset: AssetRecord, holder: Names, base: str) -> etree._Element:
    root = etree.Element(f"{{{OAI_DC_NS}}}dc", nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_DC_NS} http://www.openarchives.org/OAI/2.0/oai_dc.xsd")
    _add(root, DC_NS, "title", _bilingual(asset.title_zh, asset.title_en) or _plain(asset.object_id))
    _add(root, DC_NS, "creator", _plain(asset.creator))
    _add(root, DC_NS, "subject", _category_labels(asset))
    _add(root, DC_NS, "description", _bilingual(asset.description_zh, asset.description_en))
    _add(root, DC_NS, "publisher", _bilingual(holder.zh, holder.en) or _plain(asset.institution))
    _add(root, DC_NS, "date", _plain(asset.period, asset.date, _years(asset)))
    _add(root, DC_NS, "type", _plain(DCMI_PHYSICAL_OBJECT))
    _add(root, DC_NS, "format", _plain(*asset.materials, asset.dimensions))
    _add(root, DC_NS, "identifier", _plain(asset.object_id, record_url(base, asset.asset_id)))
    _add(root, DC_NS, "rights", _plain(asset.licence.uri or asset.licence.label))
    return root


def oai_dc_titles(names: Names) -> etree._Element:
    """A set's names, each with its language (a setDescription)."""
    root = etree.Element(f"{{{OAI_DC_NS}}}dc", nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS})
    _add(root, DC_NS, "title", _bilingual(names.zh, names.en))
    return root


def europeana_rights(uri: str) -> str:
    return uri.replace("https://creativecommons.org/", "http://creativecommons.org/", 1)


def best_links(base: str, asset: AssetRecord, decision: Decision | None) -> list[str | None]:
    """Per image, the link of the highest tier the caller receives (None: not even the thumbnail)."""
    tier = (decision.tier if decision else None) or Tier.METADATA
    allowed = [t for t in MEDIA_TIERS if tier.includes(t)]
    return [media_href(base, asset.asset_id, n, allowed[-1]) if allowed else None for n in range(len(asset.images))]


def _resource(parent: etree._Element, ns: str, tag: str, uri: str | None) -> None:
    if uri:
        etree.SubElement(parent, f"{{{ns}}}{tag}", {RDF_RESOURCE: uri})


def edm(asset: AssetRecord, decision: Decision | None, holder: Names, base: str, provider: str) -> etree._Element:
    """The record as EDM; only for licences formats.EDM accepts (the caller checks)."""
    if asset.licence.uri is None:
        raise ValueError(f"{asset.asset_id}: EDM needs a rights URI")
    root = etree.Element(f"{{{RDF_NS}}}RDF", nsmap={"rdf": RDF_NS, "dc": DC_NS, "dcterms": DCTERMS_NS,
                                                     "edm": EDM_NS, "ore": ORE_NS})
    cho_uri = record_url(base, asset.asset_id)
    cho = etree.SubElement(root, f"{{{EDM_NS}}}ProvidedCHO", {RDF_ABOUT: cho_uri})
    _add(cho, DC_NS, "title", _bilingual(asset.title_zh, asset.title_en) or _plain(asset.object_id))
    _add(cho, DC_NS, "description", _bilingual(asset.description_zh, asset.description_en))
    _add(cho, DC_NS, "creator", _plain(asset.creator))
    _add(cho, DC_NS, "identifier", _plain(asset.object_id))
    _add(cho, DC_NS, "type", _category_labels(asset))
    _add(cho, DCTERMS_NS, "created", _plain(asset.date))
    _add(cho, DCTERMS_NS, "temporal", _plain(asset.period, _years(asset)))
    _add(cho, DCTERMS_NS, "medium", _plain(*asset.materials))
    _add(cho, DCTERMS_NS, "extent", _plain(asset.dimensions))
    _add(cho, DCTERMS_NS, "spatial", _plain(asset.provenance))
    _add(cho, DCTERMS_NS, "provenance", _plain(asset.acquisition))
    _add(cho, EDM_NS, "type", _plain("IMAGE"))  # the object as Europeana shows it: photographs of it

    aggregation = etree.SubElement(root, f"{{{ORE_NS}}}Aggregation", {RDF_ABOUT: f"{cho_uri}#aggregation"})
    _resource(aggregation, EDM_NS, "aggregatedCHO", cho_uri)
    _add(aggregation, EDM_NS, "dataProvider", _plain(holder.en or holder.zh or asset.institution))
    links = best_links(base, asset, decision)
    for link in links[1:]:
        _resource(aggregation, EDM_NS, "hasView", link)
    _resource(aggregation, EDM_NS, "isShownAt", cho_uri)
    _resource(aggregation, EDM_NS, "isShownBy", links[0] if links else None)
    tier = (decision.tier if decision else None) or Tier.METADATA
    if asset.images and tier.includes(Tier.THUMBNAIL):
        _resource(aggregation, EDM_NS, "object", media_href(base, asset.asset_id, 0, Tier.THUMBNAIL))
    _add(aggregation, EDM_NS, "provider", _plain(provider))
    _add(aggregation, DC_NS, "rights", _plain(assets.attribution(asset)))
    _resource(aggregation, EDM_NS, "rights", europeana_rights(asset.licence.uri))
    return root
