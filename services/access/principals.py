"""Who is calling: the principal a request acts as, with the grants it holds right now.

A principal is made once per request (services/access/resolve.py) from its API key, or is the
anonymous public. It carries everything the policy needs (institution, department and its
names, region, role, scopes) and the grants in force at that moment, so a revoked key or grant
stops working on the next request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from schemas.access import (
    PUBLIC_SCOPES,
    GranteeKind,
    GrantScope,
    PrincipalKind,
    Purpose,
    Role,
    Scope,
    Tier,
)


@dataclass(frozen=True)
class ActiveGrant:
    """A grant in force: `grantor` lets the principal see `scope` of its assets at `tier`."""

    id: str
    grantor: str  # institution id
    grantee_kind: GranteeKind
    grantee: str
    tier: Tier
    scope: GrantScope
    value: dict[str, Any]  # {"batch_id": …} | {"category": …} | {"q": …, "filters": {…}}
    purpose: Purpose
    valid_until: datetime | None

    @property
    def name(self) -> str:
        """The name of its clause in a query (Elasticsearch reports it in `matched_queries`)."""
        return f"grant:{self.id}"


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    id: str | None = None  # staff member, partner app or operator id
    name: str = "the public"
    institution: str | None = None
    department: str | None = None
    # The ways an asset's `department` cell may name the principal's department: id and names.
    department_names: tuple[str, ...] = ()
    region: str | None = None  # the region of the principal's institution
    role: Role | None = None
    scopes: frozenset[Scope] = PUBLIC_SCOPES
    key_prefix: str | None = None
    rate_limit_per_min: int | None = None
    grants: tuple[ActiveGrant, ...] = field(default_factory=tuple)

    @property
    def is_staff(self) -> bool:
        return self.kind is PrincipalKind.STAFF

    def can(self, scope: Scope) -> bool:
        return scope in self.scopes

    def describe(self) -> dict[str, Any]:
        """Who it is, as the audit log and `GET /v1/me` write it."""
        return {"kind": self.kind.value, "id": self.id, "name": self.name, "institution": self.institution,
                "department": self.department, "region": self.region,
                "role": self.role.value if self.role else None, "key": self.key_prefix}

    def fingerprint(self) -> str:
        """Changes whenever what the principal may see could change (cursors are bound to it)."""
        grants = ",".join(sorted(g.id for g in self.grants))
        return f"{self.kind}:{self.id}:{self.institution}:{self.department}:{self.region}:{grants}"


ANONYMOUS = Principal(kind=PrincipalKind.ANONYMOUS)
