"""Rights vocabulary: RightsStatements.org and Creative Commons URIs, short codes, restricted policies.

A manifest's licence cell may hold a URI (http or https, with or without the trailing slash),
a short code (CC0, CC-BY-4.0, PDM, InC, InC-EDU, …) or a named restricted policy
(`restricted`, `restricted:institution`, …). `parse_licence` turns any of them into one
`Licence`; anything else is an error, never a guess.

"Reusable" follows the field's sense (Europeana, DOMAIN.md): CC0, PDM, NoC-* and CC licences
without NC or ND allow reuse, commercial reuse included.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, Field


class LicenceFamily(StrEnum):
    CREATIVE_COMMONS = "creative-commons"
    RIGHTS_STATEMENT = "rights-statement"
    OPEN_SOURCE = "open-source"  # software licences some reference material comes under (e.g. test images)
    RESTRICTED = "restricted"


class RestrictedPolicy(StrEnum):
    """Named policies for material under no public licence (access is decided per caller)."""

    INSTITUTION = "institution"  # visible to the holding institution only
    DEPARTMENT = "department"  # visible to the holding department only
    GRANTED = "granted"  # visible only through an explicit grant
    EMBARGOED = "embargoed"  # hidden until an embargo date


class Licence(BaseModel):
    code: str = Field(description="Short code, e.g. CC0, CC-BY-4.0, InC-EDU, restricted:institution.")
    uri: str | None = Field(description="Canonical URI of the licence or statement; none for restricted policies.")
    label: str = Field(description="Human-readable name.")
    family: LicenceFamily
    reusable: bool = Field(description="Open for reuse, commercial included (CC0, PDM, NoC-*, CC BY, CC BY-SA).")
    policy: RestrictedPolicy | None = Field(None, description="The restricted policy, for restricted material.")


_RS = "http://rightsstatements.org/vocab/{code}/1.0/"
RIGHTS_STATEMENTS = {
    "InC": "In Copyright",
    "InC-OW-EU": "In Copyright - EU Orphan Work",
    "InC-EDU": "In Copyright - Educational Use Permitted",
    "InC-NC": "In Copyright - Non-Commercial Use Permitted",
    "InC-RUU": "In Copyright - Rights-holder(s) Unlocatable or Unidentifiable",
    "NoC-CR": "No Copyright - Contractual Restrictions",
    "NoC-NC": "No Copyright - Non-Commercial Use Only",
    "NoC-OKLR": "No Copyright - Other Known Legal Restrictions",
    "NoC-US": "No Copyright - United States",
    "CNE": "Copyright Not Evaluated",
    "UND": "Copyright Undetermined",
    "NKC": "No Known Copyright",
}
_CC_LICENCES = {"BY": "Attribution", "BY-SA": "Attribution-ShareAlike", "BY-NC": "Attribution-NonCommercial",
                "BY-NC-SA": "Attribution-NonCommercial-ShareAlike", "BY-ND": "Attribution-NoDerivatives",
                "BY-NC-ND": "Attribution-NonCommercial-NoDerivatives"}


def _catalogue() -> dict[str, Licence]:
    out: dict[str, Licence] = {
        "CC0": Licence(code="CC0", uri="https://creativecommons.org/publicdomain/zero/1.0/",
                       label="CC0 1.0 Universal Public Domain Dedication",
                       family=LicenceFamily.CREATIVE_COMMONS, reusable=True),
        "PDM": Licence(code="PDM", uri="https://creativecommons.org/publicdomain/mark/1.0/",
                       label="Public Domain Mark 1.0", family=LicenceFamily.CREATIVE_COMMONS, reusable=True),
    }
    for short, name in _CC_LICENCES.items():
        code = f"CC-{short}-4.0"
        out[code] = Licence(code=code, uri=f"https://creativecommons.org/licenses/{short.lower()}/4.0/",
                            label=f"Creative Commons {name} 4.0 International",
                            family=LicenceFamily.CREATIVE_COMMONS, reusable="NC" not in short and "ND" not in short)
    for code, label in RIGHTS_STATEMENTS.items():
        out[code] = Licence(code=code, uri=_RS.format(code=code), label=label,
                            family=LicenceFamily.RIGHTS_STATEMENT,
                            # NoC-* is reusable in the field's sense, except the non-commercial one.
                            reusable=code.startswith("NoC-") and code != "NoC-NC")
    # The IIIF validator's test image is under Apache-2.0: an open licence, but neither CC nor RS, so
    # Europeana-style aggregators will not take it (edm:rights needs one of those).
    out["Apache-2.0"] = Licence(code="Apache-2.0", uri="https://www.apache.org/licenses/LICENSE-2.0",
                                label="Apache License 2.0", family=LicenceFamily.OPEN_SOURCE, reusable=True)
    for policy in RestrictedPolicy:
        code = f"restricted:{policy.value}"
        out[code] = Licence(code=code, uri=None, label=f"Restricted ({policy.value})",
                            family=LicenceFamily.RESTRICTED, reusable=False, policy=policy)
    return out


LICENCES = _catalogue()
_BY_KEY = {code.casefold(): lic for code, lic in LICENCES.items()}
_BY_KEY |= {lic.uri.casefold().removeprefix("https://").removeprefix("http://").rstrip("/"): lic
            for lic in LICENCES.values() if lic.uri}
_ALIASES = {"cc-by": "CC-BY-4.0", "cc-by-sa": "CC-BY-SA-4.0", "cc-by-nc": "CC-BY-NC-4.0",
            "cc-by-nc-sa": "CC-BY-NC-SA-4.0", "cc-by-nd": "CC-BY-ND-4.0", "cc-by-nc-nd": "CC-BY-NC-ND-4.0",
            "cc0-1.0": "CC0", "apache-2.0": "Apache-2.0", "www.apache.org/licenses/license-2.0.html": "Apache-2.0",
            "public domain": "PDM", "pd": "PDM", "restricted": "restricted:institution",
            "受限": "restricted:institution", "内部": "restricted:institution", "公有领域": "PDM"}


class UnknownLicence(ValueError):
    pass


def parse_licence(text: str) -> Licence:
    key = re.sub(r"\s+", " ", text.strip()).casefold()
    key = key.removeprefix("https://").removeprefix("http://").rstrip("/") if "://" in key else key
    key = key.replace("_", "-")
    found = _BY_KEY.get(key) or (_BY_KEY.get(_ALIASES[key].casefold()) if key in _ALIASES else None)
    if found is None:
        raise UnknownLicence(
            f"unknown licence {text!r}: use a RightsStatements.org or Creative Commons URI, a code such as "
            "CC0, CC-BY-4.0, PDM, InC, InC-EDU, or restricted:institution|department|granted|embargoed"
        )
    return found
