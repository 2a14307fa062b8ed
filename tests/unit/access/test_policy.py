"""services/access/policy.py: the one decision per asset, and the same rules compiled into a query filter."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

import pytest

from schemas.access import (
    APP_SCOPES,
    AccessPolicy,
    Audience,
    GranteeKind,
    GrantScope,
    PrincipalKind,
    Purpose,
    Role,
    Tier,
    access_table,
)
from schemas.licences import LICENCES
from services.access.policy import AssetFacts, audience, decide, grant_clause, visibility_filter, would_allow
from services.access.principals import ANONYMOUS, ActiveGrant, Principal

TODAY = date(2026, 12, 1)


def asset(licence: str = "CC0", access: AccessPolicy = AccessPolicy.PUBLIC, *, institution: str = "palace",
          department: str | None = "陶瓷部", region: str | None = "CN-BJ", embargo: date | None = None,
          withdrawn: bool = False, **extra: Any) -> dict[str, Any]:
    """An asset record as the index holds it (the fields the policy reads, and those grants match on)."""
    return {"asset_id": f"{institution}-{licence}-{access}-{department}-{embargo}", "institution": institution,
            "department": department, "region": region, "licence": {"code": licence}, "access": access.value,
            "embargo_until": embargo.isoformat() if embargo else None,
            "deleted_at": "2026-11-30T00:00:00Z" if withdrawn else None,
            "batch_id": extra.get("batch_id", "b-1"), "category_ids": extra.get("category_ids", ["porcelain"])}


DEPARTMENTS = {"ceramics": ("ceramics", "陶瓷部", "Ceramics"), "bronzes": ("bronzes", "青铜器部", "Bronzes")}


def staff(institution: str = "palace", department: str | None = "ceramics", region: str = "CN-BJ",
          role: Role = Role.VIEWER, grants: tuple[ActiveGrant, ...] = ()) -> Principal:
    names = DEPARTMENTS[department] if department else ()
    return Principal(kind=PrincipalKind.STAFF, id="s-1", name="staff", institution=institution,
                     department=department, department_names=names, region=region, role=role, grants=grants)


def app_principal(grants: tuple[ActiveGrant, ...] = ()) -> Principal:
    return Principal(kind=PrincipalKind.APP, id="atlas", name="Atlas", scopes=APP_SCOPES, grants=grants)


def a_grant(tier: Tier = Tier.ORIGINAL, scope: GrantScope = GrantScope.CATEGORY,
            value: dict[str, Any] | None = None, grantor: str = "palace", gid: str = "g1") -> ActiveGrant:
    return ActiveGrant(id=gid, grantor=grantor, grantee_kind=GranteeKind.APP, grantee="atlas", tier=tier,
                       scope=scope, value=value or {"category": "porcelain"}, purpose=Purpose.RESEARCH,
                       valid_until=None)


def facts(record: dict[str, Any]) -> AssetFacts:
    return AssetFacts.of(record)


# -- the table's anchor cases (the examples) ------------------------------------------------

def test_cc0_is_delivered_in_the_original_to_everyone() -> None:
    for who in (ANONYMOUS, app_principal(), staff("elsewhere", region="GB-LND"), staff()):
        assert decide(who, facts(asset("CC0")), today=TODAY).tier is Tier.ORIGINAL


def test_in_copyright_is_metadata_and_thumbnail_for_the_public_and_the_original_for_the_holder() -> None:
    record = facts(asset("InC"))

    assert decide(ANONYMOUS, record, today=TODAY).tier is Tier.THUMBNAIL
    assert decide(staff(department="bronzes"), record, today=TODAY).tier is Tier.ORIGINAL


def test_department_restricted_is_invisible_outside_the_department() -> None:
    record = facts(asset("CC-BY-4.0", AccessPolicy.DEPARTMENT))

    assert decide(staff(), record, today=TODAY).tier is Tier.ORIGINAL  # ceramics names 陶瓷部
    for outsider in (staff(department="bronzes"), staff(department=None, role=Role.ADMIN), ANONYMOUS,
                     staff("elsewhere")):
        assert not decide(outsider, record, today=TODAY).visible


def test_region_policy_is_seen_by_the_region_and_the_holder_only() -> None:
    record = facts(asset("InC", AccessPolicy.REGION))

    assert decide(staff("neighbour", department=None), record, today=TODAY).tier is Tier.PREVIEW
    assert not decide(staff("far", region="GB-LND"), record, today=TODAY).visible
    assert not decide(ANONYMOUS, record, today=TODAY).visible
    assert audience(staff("neighbour"), record) is Audience.REGION


def test_an_embargo_hides_the_asset_until_its_date_then_it_is_public() -> None:
    until = TODAY + timedelta(days=10)
    record = facts(asset("CC0", AccessPolicy.EMBARGOED, embargo=until))

    assert not decide(ANONYMOUS, record, today=TODAY).visible
    assert decide(staff(), record, today=TODAY).tier is Tier.ORIGINAL
    assert decide(ANONYMOUS, record, today=until).tier is Tier.ORIGINAL


def test_a_withdrawn_record_is_invisible_to_everyone_even_its_holder() -> None:
    record = facts(asset("CC0", withdrawn=True))

    assert not decide(staff(), record, today=TODAY).visible
    assert not decide(ANONYMOUS, record, today=TODAY).visible


def test_a_grant_makes_a_granted_only_asset_visible_at_its_tier_and_says_so() -> None:
    record = facts(asset("restricted:granted", AccessPolicy.GRANTED))
    grantee = app_principal((a_grant(Tier.PREVIEW),))

    assert not decide(app_principal(), record, today=TODAY).visible
    decision = decide(grantee, record, ["grant:g1"], today=TODAY)
    assert (decision.tier, decision.basis) == (Tier.PREVIEW, "grant g1")
    assert decision.grant is not None and decision.grant.purpose is Purpose.RESEARCH


def test_a_grant_never_lowers_what_the_licence_gives_and_counts_only_when_it_matched() -> None:
    grantee = app_principal((a_grant(Tier.THUMBNAIL),))

    assert decide(grantee, facts(asset("CC0")), ["grant:g1"], today=TODAY).basis.startswith("licence CC0")
    assert decide(grantee, facts(asset("InC")), [], today=TODAY).tier is Tier.THUMBNAIL
    assert decide(grantee, facts(asset("restricted:granted", AccessPolicy.GRANTED)), [], today=TODAY).visible is False


def test_a_grant_of_another_institution_does_not_apply_even_if_a_name_matched() -> None:
    grantee = app_principal((a_grant(grantor="other-museum"),))

    assert not decide(grantee, facts(asset("restricted:granted", AccessPolicy.GRANTED)), ["grant:g1"],
                      today=TODAY).visible


def test_a_refusal_names_the_widest_audience_that_would_receive_the_tier_and_the_grant_route() -> None:
    who = would_allow(facts(asset("InC")), Tier.ORIGINAL, today=TODAY)

    assert who == ["staff of the holding institution (palace)", "a grant from palace of tier original or higher"]
    assert would_allow(facts(asset("InC")), Tier.PREVIEW, today=TODAY)[0] == "institutions of its region (CN-BJ)"


def test_every_licence_has_a_tier_for_every_audience() -> None:
    table = access_table()

    for code, who in itertools.product(LICENCES, Audience):
        assert table.tier(code, who) in Tier


# -- the compiled filter agrees with decide() -----------------------------------------------------------
#
# A small evaluator of the query clauses the filter uses (bool, term, terms, range on dates, exists, ids
# are not used), over the same records: for every principal × policy × licence × department × region ×
# embargo, "the filter matches" must equal "decide() says visible". Elasticsearch itself is checked by
# the integration matrix (tests/integration/test_access_matrix.py).

def _values(doc: dict[str, Any], path: str) -> list[Any]:
    value = doc.get(path)
    if path == "licence.code":
        value = doc["licence"]["code"]
    return value if isinstance(value, list) else ([] if value is None else [value])


def matches(clause: dict[str, Any], doc: dict[str, Any], today: date) -> bool:
    (kind, body), = ((k, v) for k, v in clause.items())
    if kind == "bool":
        ok = all(matches(c, doc, today) for c in body.get("filter", []) + body.get("must", []))
        ok = ok and not any(matches(c, doc, today) for c in body.get("must_not", []))
        if "should" in body:
            need = body.get("minimum_should_match", 0 if ("filter" in body or "must" in body) else 1)
            ok = ok and sum(matches(c, doc, today) for c in body["should"]) >= need
        return ok
    if kind == "term":
        (path, value), = ((p, v) for p, v in body.items())
        return (value["value"] if isinstance(value, dict) else value) in _values(doc, path)
    if kind == "terms":
        (path, values), = body.items()
        return any(v in values for v in _values(doc, path))
    if kind == "range":
        (path, bounds), = body.items()
        assert bounds == {"lte": "now/d"}
        return any(date.fromisoformat(v) <= today for v in _values(doc, path))
    if kind == "exists":
        return bool(_values(doc, body["field"]))
    raise AssertionError(f"unexpected clause {kind}")


PRINCIPALS = {
    "anonymous": ANONYMOUS,
    "app": app_principal(),
    "app with a batch grant": app_principal((a_grant(Tier.PREVIEW, GrantScope.BATCH, {"batch_id": "b-2"}),)),
    "app with a category grant": app_principal((a_grant(Tier.ORIGINAL),)),
    "department staff": staff(),
    "institution staff": staff(department="bronzes"),
    "institution admin without department": staff(department=None, role=Role.ADMIN),
    "region staff": staff("neighbour", department="ceramics"),
    "far staff": staff("far", region="GB-LND"),
}


@pytest.mark.parametrize("name", PRINCIPALS)
def test_the_compiled_filter_selects_exactly_what_decide_lets_the_principal_see(name: str) -> None:
    principal = PRINCIPALS[name]
    flt = visibility_filter(principal)
    grant_names = {g.name: grant_clause(g) for g in principal.grants}
    cases = 0
    for policy, licence, dept, region, embargo, batch, withdrawn in itertools.product(
            AccessPolicy, ("CC0", "InC", "InC-EDU", "restricted:granted"), ("陶瓷部", "青铜器部", None),
            ("CN-BJ", "GB-LND", None), (None, TODAY - timedelta(days=1), TODAY + timedelta(days=1)),
            ("b-1", "b-2"), (False, True)):
        if (policy is AccessPolicy.EMBARGOED) != (embargo is not None):
            continue
        record = asset(licence, policy, department=dept, region=region, embargo=embargo, batch_id=batch,
                       withdrawn=withdrawn)
        matched = [n for n, c in grant_names.items() if matches(c, record, TODAY)]

        assert matches(flt, record, TODAY) == decide(principal, facts(record), matched, today=TODAY).visible, record
        cases += 1
    assert cases == (5 + 2) * 4 * 3 * 3 * 2 * 2  # 5 policies without an embargo date, embargoed with 2


def test_a_saved_query_grant_compiles_to_its_words_and_filters_within_the_grantor() -> None:
    grant = a_grant(scope=GrantScope.QUERY, value={"q": "青花", "filters": {"category": ["porcelain"]}})

    clause = grant_clause(grant)

    assert clause["bool"]["_name"] == "grant:g1"
    assert {"term": {"institution": "palace"}} in clause["bool"]["filter"]
    text = str(clause)
    assert "青花" in text and "porcelain" in text
