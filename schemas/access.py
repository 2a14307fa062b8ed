"""Access: who may see an asset (its policy) and how much of it they receive (the delivery tier).

Two things decide what a caller gets of an asset:

- the **access policy** (who sees it at all): public, region, institution, department,
  granted-only, or embargoed until a date (then public);
- the **licence** (how much of it is delivered to each audience): the default tier for each
  licence class and audience is one table, `schemas/access.json`, rendered in docs/ACCESS.md.

The caller's **audience** is its relation to the asset's holder: the holding department, the
holding institution, an institution of the same region, or the public (anyone else, partner
apps included). Grants (services/access/grants) add visibility and raise the tier on top of this
table; they never lower it.

Tiers are ordered: metadata < thumbnail < preview < original; a tier includes those below it.
"""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from schemas.licences import LICENCES, Licence, RestrictedPolicy

TABLE_PATH = Path(__file__).resolve().parent / "access.json"


class Tier(StrEnum):
    METADATA = "metadata"  # the record only
    THUMBNAIL = "thumbnail"  # + the thumbnail (longest side ingest.thumbnail_px)
    PREVIEW = "preview"  # + the preview (longest side ingest.preview_px)
    ORIGINAL = "original"  # + the original file

    @property
    def rank(self) -> int:
        return _TIER_ORDER.index(self)

    def includes(self, other: Tier) -> bool:
        return self.rank >= other.rank


_TIER_ORDER = list(Tier)
MEDIA_TIERS = (Tier.THUMBNAIL, Tier.PREVIEW, Tier.ORIGINAL)


def highest(tiers: list[Tier]) -> Tier | None:
    return max(tiers, key=lambda t: t.rank) if tiers else None


class AccessPolicy(StrEnum):
    PUBLIC = "public"  # everyone
    REGION = "region"  # institutions of the holder's region, and the holder
    INSTITUTION = "institution"  # the holding institution
    DEPARTMENT = "department"  # the holding department only
    GRANTED = "granted"  # the holder, and whoever it grants
    EMBARGOED = "embargoed"  # the holder until embargo_until, then everyone


class Audience(StrEnum):
    """The caller's relation to an asset's holder, closest first."""

    DEPARTMENT = "department"
    INSTITUTION = "institution"
    REGION = "region"
    PUBLIC = "public"


def default_policy(licence: Licence) -> AccessPolicy:
    """A restricted licence names its policy; every other licence is public unless the row says otherwise."""
    return AccessPolicy(licence.policy.value) if licence.policy else AccessPolicy.PUBLIC


POLICY_OF_RESTRICTION = {p: AccessPolicy(p.value) for p in RestrictedPolicy}


class LicenceClass(BaseModel):
    id: str
    label: str
    licences: list[str] = Field(description="Licence codes of schemas/licences.py in this class.")
    tiers: dict[Audience, Tier] = Field(description="Default tier per audience.")
    why: str = Field(description="The reasoning, shown in docs/ACCESS.md.")


class AccessTable(BaseModel):
    """schemas/access.json: which audiences see each policy, and each licence class's tier per audience."""

    policies: dict[AccessPolicy, list[Audience]]
    classes: list[LicenceClass]

    def licence_class(self, code: str) -> LicenceClass:
        for cls in self.classes:
            if code in cls.licences:
                return cls
        raise KeyError(code)

    def tier(self, licence_code: str, audience: Audience) -> Tier:
        return self.licence_class(licence_code).tiers[audience]

    def sees(self, policy: AccessPolicy, audience: Audience) -> bool:
        return audience in self.policies[policy]


@cache
def access_table() -> AccessTable:
    table = AccessTable.model_validate(json.loads(TABLE_PATH.read_text(encoding="utf-8")))
    listed = [code for cls in table.classes for code in cls.licences]
    if sorted(listed) != sorted(LICENCES) or len(listed) != len(set(listed)):
        raise ValueError("schemas/access.json must put every licence of schemas/licences.py in exactly one class")
    return table


class Role(StrEnum):
    VIEWER = "viewer"  # sees and receives what the institution may
    CURATOR = "curator"  # + uploads batches, decides AI labels
    ADMIN = "admin"  # + grants, keys of its staff, departments, the audit of its assets


class Scope(StrEnum):
    """What an API key may do; a key holds a subset of what its owner's kind allows."""

    SEARCH = "search"  # search, read records
    DELIVER = "deliver"  # media (thumbnails, previews, originals)
    UPLOAD = "upload"  # batches
    CURATE = "curate"  # decisions on AI labels
    ADMIN = "admin"  # grants, staff keys, departments, audit — of one's own institution
    OPERATE = "operate"  # the platform: regions, institutions, partner apps, any key


ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.VIEWER: frozenset({Scope.SEARCH, Scope.DELIVER}),
    Role.CURATOR: frozenset({Scope.SEARCH, Scope.DELIVER, Scope.UPLOAD, Scope.CURATE}),
    Role.ADMIN: frozenset({Scope.SEARCH, Scope.DELIVER, Scope.UPLOAD, Scope.CURATE, Scope.ADMIN}),
}
APP_SCOPES = frozenset({Scope.SEARCH, Scope.DELIVER})
OPERATOR_SCOPES = frozenset({Scope.SEARCH, Scope.DELIVER, Scope.OPERATE})
PUBLIC_SCOPES = frozenset({Scope.SEARCH, Scope.DELIVER})


class PrincipalKind(StrEnum):
    ANONYMOUS = "anonymous"
    STAFF = "staff"  # a member of an institution's staff, with a role
    APP = "app"  # a partner application
    OPERATOR = "operator"  # runs the platform; sees content as the public does


class GranteeKind(StrEnum):
    INSTITUTION = "institution"
    REGION = "region"
    APP = "app"


class GrantScope(StrEnum):
    BATCH = "batch"  # the assets a batch wrote
    CATEGORY = "category"  # a taxonomy category id
    QUERY = "query"  # a saved search: words and/or filters


class Purpose(StrEnum):
    RESEARCH = "research"
    EDUCATION = "education"
    COMMERCIAL = "commercial"


def table_rows() -> list[dict[str, Any]]:
    """The tier table flattened for docs and the API (`GET /v1/access/table`)."""
    table = access_table()
    return [{"class": c.id, "label": c.label, "licences": c.licences,
             "tiers": {a.value: c.tiers[a].value for a in Audience}, "why": c.why} for c in table.classes]


def embargo_lifted(policy: AccessPolicy, embargo_until: date | None, today: date) -> bool:
    return policy is AccessPolicy.EMBARGOED and embargo_until is not None and embargo_until <= today
