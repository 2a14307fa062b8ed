"""The access policy, twice: as one decision for one asset, and as the Elasticsearch filter of a search.

- `decide(principal, asset, matched_grants)` is the **one function** that decides what a caller
  receives of an asset: invisible, or visible at a delivery tier, and on what basis (the
  licence and the caller's audience, or a grant). Every delivery goes through it.
- `visibility_filter(principal)` is the same rules as a query clause that every search carries
  (keyword, `knn.filter`, facets, image search, similar items, dumps), so nothing the caller may
  not see is ever counted or returned, and nothing is filtered afterwards.

Both read the table of schemas/access.json. Whether a grant's scope covers an asset is decided by
Elasticsearch (a saved query is a query): its clause is named `grant:<id>`, and the hit's
`matched_queries` says which grants matched. The matrix test checks the two agree on every
combination of principal, policy and licence.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from indexing.query import Filters, keyword_query
from schemas.access import (
    AccessPolicy,
    Audience,
    GrantScope,
    PrincipalKind,
    Tier,
    access_table,
    embargo_lifted,
)
from services.access.errors import NotAllowed
from services.access.principals import ActiveGrant, Principal
from services.messages import Message, Named

GRANT_PREFIX = "grant:"


@dataclass(frozen=True)
class AssetFacts:
    """What the policy reads of an asset record."""

    asset_id: str
    institution: str
    department: str | None
    region: str | None
    licence: str  # licence code
    access: AccessPolicy
    embargo_until: date | None
    withdrawn: bool = False

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> AssetFacts:
        embargo = record.get("embargo_until")
        return cls(asset_id=str(record["asset_id"]), institution=str(record["institution"]),
                   department=record.get("department"), region=record.get("region"),
                   licence=str(record["licence"]["code"]),
                   access=AccessPolicy(record.get("access") or AccessPolicy.PUBLIC),
                   embargo_until=date.fromisoformat(embargo) if isinstance(embargo, str) else embargo,
                   withdrawn=record.get("deleted_at") is not None)


@dataclass(frozen=True)
class Decision:
    visible: bool
    tier: Tier | None  # None when invisible
    audience: Audience
    basis: str  # "licence InC (audience: public)" or "grant <id>", a Message (said in zh too)
    grant: ActiveGrant | None = None

    @property
    def licence_basis(self) -> bool:
        return self.grant is None


INVISIBLE = Message("basis.invisible")


def audience(principal: Principal, asset: AssetFacts) -> Audience:
    if principal.is_staff and principal.institution == asset.institution:
        if asset.department is not None and asset.department in principal.department_names:
            return Audience.DEPARTMENT
        return Audience.INSTITUTION
    if principal.is_staff and principal.region is not None and principal.region == asset.region:
        return Audience.REGION
    return Audience.PUBLIC


def effective_policy(asset: AssetFacts, today: date) -> AccessPolicy:
    """An embargo that has ended makes the asset public."""
    return AccessPolicy.PUBLIC if embargo_lifted(asset.access, asset.embargo_until, today) else asset.access


def today_utc() -> date:
    return datetime.now(UTC).date()


def decide(principal: Principal, asset: AssetFacts, matched_grants: Collection[str] = (),
           today: date | None = None) -> Decision:
    """What `principal` receives of `asset`: the licence's tier for its audience if the policy lets that
    audience see it, raised by any grant whose scope matched (names from `matched_queries`)."""
    table = access_table()
    who = audience(principal, asset)
    if asset.withdrawn:
        return Decision(False, None, who, INVISIBLE)
    options: list[Decision] = []
    if table.sees(effective_policy(asset, today or today_utc()), who):
        basis = Message("basis.licence", licence=asset.licence, audience=Message(f"audience.{who.value}"))
        options.append(Decision(True, table.tier(asset.licence, who), who, basis))
    for grant in principal.grants:
        if grant.grantor == asset.institution and grant.name in matched_grants:
            options.append(Decision(True, grant.tier, who, Message("basis.grant", grant=grant.id), grant))
    if not options:
        return Decision(False, None, who, INVISIBLE)
    # The highest tier wins; on a tie the licence is the basis (it needs no grant to stay true).
    return max(options, key=lambda d: (d.tier.rank if d.tier else -1, d.grant is None))


def would_allow(asset: AssetFacts, wanted: Tier, today: date | None = None) -> list[str]:
    """Who receives `wanted` of this asset by its licence and policy, in words (Messages), for a 403's detail."""
    table = access_table()
    policy = effective_policy(asset, today or today_utc())
    holder = Named("institution", asset.institution)
    department = (Message("allow.department", department=Named("department", asset.department, asset.institution))
                  if asset.department else Message("allow.department-any"))
    names = {Audience.DEPARTMENT: department,
             Audience.INSTITUTION: Message("allow.institution", institution=holder),
             Audience.REGION: Message("allow.region", region=Named("region", asset.region)) if asset.region else None,
             Audience.PUBLIC: Message("allow.public")}
    # The audiences are nested, so the widest one that receives the tier says it all.
    out: list[str] = []
    out += [name for who, name in reversed(names.items())
            if name and table.sees(policy, who) and table.tier(asset.licence, who).includes(wanted)][:1]
    return [*out, Message("allow.grant", institution=holder, tier=Message(f"tier.{wanted.value}"))]


# -- the same rules as an Elasticsearch filter ------------------------------------------------------

def _audience_conditions(principal: Principal) -> dict[Audience, list[dict[str, Any]]]:
    """For each audience the principal can be in, the clauses that select the assets it is that audience of.

    The conditions are disjoint and cover every asset, exactly as `audience()` decides."""
    own = {"term": {"institution": principal.institution}} if principal.is_staff and principal.institution else None
    dept = ({"terms": {"department": list(principal.department_names)}}
            if own is not None and principal.department_names else None)
    region = ({"term": {"region": principal.region}} if principal.is_staff and principal.region else None)
    out: dict[Audience, list[dict[str, Any]]] = {}
    if own is not None:
        if dept is not None:
            out[Audience.DEPARTMENT] = [own, dept]
            out[Audience.INSTITUTION] = [own, {"bool": {"must_not": [dept]}}]
        else:
            out[Audience.INSTITUTION] = [own]
    not_own = [{"bool": {"must_not": [own]}}] if own is not None else []
    if region is not None:
        out[Audience.REGION] = [region, *not_own]
        out[Audience.PUBLIC] = [{"bool": {"must_not": [region]}}, *not_own]
    else:
        out[Audience.PUBLIC] = not_own
    return out


EMBARGO_LIFTED = {"bool": {"filter": [{"term": {"access": AccessPolicy.EMBARGOED.value}},
                                      {"range": {"embargo_until": {"lte": "now/d"}}}]}}


def grant_clause(grant: ActiveGrant) -> dict[str, Any]:
    """The assets a grant covers: the grantor's, within its scope; named so a hit says it matched."""
    if grant.scope is GrantScope.BATCH:
        scope: dict[str, Any] = {"term": {"batch_id": grant.value["batch_id"]}}
    elif grant.scope is GrantScope.CATEGORY:
        scope = {"term": {"category_ids": grant.value["category"]}}
    else:
        query = keyword_query(grant.value.get("q"), Filters.model_validate(grant.value.get("filters") or {}), None)
        scope = {"bool": {"filter": [query]}}  # filter context: a saved query selects, it does not score
    return {"bool": {"filter": [{"term": {"institution": grant.grantor}}, scope], "_name": grant.name}}


WITHDRAWN = {"exists": {"field": "deleted_at"}}


def visibility_filter(principal: Principal, *, withdrawn: bool = False) -> dict[str, Any]:
    """The assets `principal` may see, as one clause to AND into every search.

    Withdrawn records (tombstones) are left out, unless `withdrawn` (OAI-PMH reports them deleted)."""
    table = access_table()
    should: list[dict[str, Any]] = []
    for who, conditions in _audience_conditions(principal).items():
        policies = sorted(p.value for p in AccessPolicy if table.sees(p, who))
        seen: list[dict[str, Any]] = [{"terms": {"access": policies}}]
        if table.sees(AccessPolicy.PUBLIC, who):
            seen.append(EMBARGO_LIFTED)
        should.append({"bool": {"filter": [*conditions, {"bool": {"should": seen, "minimum_should_match": 1}}]}})
    should += [grant_clause(g) for g in principal.grants]
    out: dict[str, Any] = {"bool": {"should": should, "minimum_should_match": 1}}
    if not withdrawn:
        out["bool"]["must_not"] = [WITHDRAWN]
    return out


def matched_grants(hit: Mapping[str, Any]) -> list[str]:
    names: list[str] = hit.get("matched_queries") or []
    return [n for n in names if n.startswith(GRANT_PREFIX)]


# -- who manages an institution's batches and assets -------------------------------------------------

def may_see_batch(principal: Principal, institution: str) -> bool:
    """A batch is its institution's staff's business (and the operators'); to anyone else it does not exist."""
    return principal.kind is PrincipalKind.OPERATOR or (principal.is_staff and principal.institution == institution)


def require_curator_of(principal: Principal, institution: str, doing: str) -> None:
    """Only curators of the holding institution change its records (`doing`: "withdraw its records")."""
    if principal.institution != institution:
        raise NotAllowed(f"only curators of {institution} {doing}")
