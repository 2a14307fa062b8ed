"""The metadata formats: `oai_dc` for every record, `edm` for the records Europeana can take.

EDM requires `edm:rights` to be one of the rights statements Europeana accepts (CC0, the Public
Domain Mark, the six CC 4.0 licences, and six RightsStatements.org statements). A record under any
other licence (InC-RUU, NoC-US, UND, Apache-2.0, a restricted policy without a URI…) cannot be
disseminated as EDM: GetRecord answers cannotDisseminateFormat, ListMetadataFormats does not list
`edm` for it, and `edm` lists leave it out (the same rule as a query clause, so counts agree).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from schemas.licences import LICENCES, LicenceFamily

OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
EDM_NS = "http://www.europeana.eu/schemas/edm/"

EUROPEANA_STATEMENTS = ("InC", "InC-EDU", "InC-OW-EU", "NoC-NC", "NoC-OKLR", "CNE")
EDM_LICENCES = frozenset(code for code, lic in LICENCES.items()
                         if (lic.family is LicenceFamily.CREATIVE_COMMONS and lic.uri)
                         or code in EUROPEANA_STATEMENTS)


@dataclass(frozen=True)
class MetadataFormat:
    prefix: str
    schema: str
    namespace: str
    licences: frozenset[str] | None = None  # the licence codes it can carry; None: every licence

    def applies(self, record: Mapping[str, Any]) -> bool:
        return self.licences is None or str(record["licence"]["code"]) in self.licences

    def clause(self) -> dict[str, Any] | None:
        """The same rule as `applies`, as a filter for list queries."""
        return None if self.licences is None else {"terms": {"licence.code": sorted(self.licences)}}


OAI_DC = MetadataFormat("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC_NS)
EDM = MetadataFormat("edm", "http://www.europeana.eu/schemas/edm/EDM.xsd", EDM_NS, EDM_LICENCES)
FORMATS: dict[str, MetadataFormat] = {f.prefix: f for f in (OAI_DC, EDM)}


def formats_of(record: Mapping[str, Any], formats: Mapping[str, MetadataFormat] = FORMATS) -> list[MetadataFormat]:
    """The formats a record can be disseminated in (a withdrawn record: those its deletion is reported in)."""
    return [f for f in formats.values() if f.applies(record)]
