"""Organisations and what they hand out: regions → institutions → departments, staff, partner apps,
API keys, grants and audit events, as the admin API and the `wenyuan` CLI exchange them."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

from schemas.access import GranteeKind, GrantScope, PrincipalKind, Purpose, Role, Scope, Tier

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
REGION_CODE = r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$"


SLUG_SCHEMA: dict[str, JsonValue] = {"pattern": SLUG.pattern}  # in the OpenAPI too; the validator words refusals


def _slug(value: str) -> str:
    if not SLUG.fullmatch(value):
        raise ValueError("use 2–63 lower-case letters, digits or '-', starting with a letter or digit")
    return value


class RegionIn(BaseModel):
    code: str = Field(pattern=REGION_CODE, description="ISO 3166-1 or 3166-2 code: CN, CN-BJ, GB-LND.")
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)


class RegionOut(RegionIn):
    model_config = ConfigDict(from_attributes=True)
    created_at: datetime


class InstitutionIn(BaseModel):
    id: str = Field(description="Short id (lower-case letters, digits, '-'); assets carry it.",
                    json_schema_extra=SLUG_SCHEMA)
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    region: str = Field(pattern=REGION_CODE, description="Code of a region created before.")

    _id = field_validator("id")(_slug)


class DepartmentIn(BaseModel):
    id: str = Field(description="Short id within the institution; an asset's department cell may hold it or "
                                "either name.", json_schema_extra=SLUG_SCHEMA)
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)

    _id = field_validator("id")(_slug)


class DepartmentOut(DepartmentIn):
    institution: str


class InstitutionOut(BaseModel):
    id: str
    name_zh: str
    name_en: str
    region: str
    departments: list[DepartmentOut]
    created_at: datetime


class StaffIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(None, max_length=320)
    role: Role
    department: str | None = Field(None, description="Department id within the institution.")


class StaffOut(BaseModel):
    id: str
    institution: str
    department: str | None
    name: str
    email: str | None
    role: Role
    created_at: datetime


class AppIn(BaseModel):
    id: str = Field(json_schema_extra=SLUG_SCHEMA)
    name: str = Field(min_length=1, max_length=200)
    contact: str | None = Field(None, max_length=320)

    _id = field_validator("id")(_slug)


class AppOut(AppIn):
    model_config = ConfigDict(from_attributes=True)
    created_at: datetime


def _exactly_one(*fields: str) -> dict[str, Any]:
    """JSON schema: exactly one of `fields` is a string, the others absent or null."""
    return {"oneOf": [{"properties": {f: {"type": "string"}, **{o: {"type": "null"} for o in fields if o != f}},
                       "required": [f]} for f in fields]}


class KeyIn(BaseModel):
    """A key for a staff member, a partner app or an operator (exactly one)."""

    model_config = ConfigDict(json_schema_extra=_exactly_one("staff", "app", "operator"))

    staff: str | None = Field(None, description="Staff member id.")
    app: str | None = Field(None, description="Partner app id.")
    operator: str | None = Field(None, description="Operator id (operators only).")
    scopes: list[Scope] | None = Field(None, description="A subset of what the owner may do; default: all of it.")
    rate_limit_per_min: int | None = Field(None, ge=1, le=100_000, description="Default: access.key_rate_per_min.")
    label: str | None = Field(None, max_length=200, description="What the key is for, e.g. 'batch uploads'.")
    expires_at: datetime | None = None

    @model_validator(mode="after")
    def _one_owner(self) -> KeyIn:
        if sum(x is not None for x in (self.staff, self.app, self.operator)) != 1:
            raise ValueError("name exactly one owner: staff, app or operator")
        return self


class KeyOut(BaseModel):
    prefix: str = Field(description="Identifies the key in lists and the audit log; not a secret.")
    owner_kind: PrincipalKind
    owner: str
    institution: str | None
    scopes: list[Scope]
    rate_limit_per_min: int
    label: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class KeyCreated(KeyOut):
    key: str = Field(description="The key itself. Shown this once: only its hash is kept.")


class SavedQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    q: str | None = Field(None, max_length=1000, description="Words, as a keyword search matches them.")
    filters: dict[str, Any] = Field(default_factory=dict, description="Search filters (category, material, "
                                    "department, licence, year_from, year_to…), as GET /v1/search takes them.")


def _scope_fields() -> dict[str, Any]:
    """JSON schema: each scope with its own field given and the other two absent or null."""
    fields = {"batch": "batch_id", "category": "category", "query": "query"}
    given = {"batch_id": "string", "category": "string", "query": "object"}
    return {"oneOf": [{"properties": {"scope": {"const": scope}, own: {"type": given[own]},
                                      **{f: {"type": "null"} for f in fields.values() if f != own}},
                       "required": ["scope", own]} for scope, own in fields.items()]}


class GrantIn(BaseModel):
    model_config = ConfigDict(json_schema_extra=_scope_fields())

    grantee_kind: GranteeKind
    grantee: str = Field(description="Institution id, region code or partner app id.")
    tier: Tier
    scope: GrantScope
    batch_id: str | None = Field(None, min_length=1, description="scope batch: the batch whose assets are granted.")
    category: str | None = Field(None, min_length=1, description="scope category: a taxonomy category id.")
    query: SavedQuery | None = Field(None, description="scope query: a saved search.")
    purpose: Purpose
    valid_until: datetime | None = Field(None, description="Ends then (UTC); open-ended when absent.")
    note: str | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _scope_value(self) -> GrantIn:
        given = {GrantScope.BATCH: self.batch_id, GrantScope.CATEGORY: self.category, GrantScope.QUERY: self.query}
        if given[self.scope] is None or any(v is not None for s, v in given.items() if s is not self.scope):
            raise ValueError(f"scope {self.scope.value} takes exactly its own field: "
                             f"{ {'batch': 'batch_id', 'category': 'category', 'query': 'query'}[self.scope.value]} ")
        if self.scope is GrantScope.QUERY and self.query is not None and not (self.query.q or self.query.filters):
            raise ValueError("a saved query needs words (q) or at least one filter")
        return self

    def scope_value(self) -> dict[str, Any]:
        if self.scope is GrantScope.BATCH:
            return {"batch_id": self.batch_id}
        if self.scope is GrantScope.CATEGORY:
            return {"category": self.category}
        assert self.query is not None
        return self.query.model_dump(mode="json")


class GrantOut(BaseModel):
    id: str
    grantor: str
    grantee_kind: GranteeKind
    grantee: str
    tier: Tier
    scope: GrantScope
    scope_value: dict[str, Any]
    purpose: Purpose
    note: str | None
    valid_until: datetime | None
    created_at: datetime
    created_by: str | None
    revoked_at: datetime | None
    revoked_by: str | None
    active: bool


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    action: str
    outcome: str
    actor_kind: str
    actor_id: str | None
    actor_institution: str | None
    actor_key: str | None
    about_institution: str | None
    asset_id: str | None
    subject: str | None
    tier: str | None
    basis: str | None
    detail: dict[str, Any]


class AuditPage(BaseModel):
    events: list[AuditOut]
    next: str | None = Field(description="Cursor of older events; absent on the last page.")


class Me(BaseModel):
    kind: PrincipalKind
    id: str | None
    name: str
    institution: str | None
    department: str | None
    region: str | None
    role: Role | None
    scopes: list[Scope]
    key: str | None
    rate_limit_per_min: int | None
    grants: list[dict[str, Any]] = Field(description="Grants in force for this caller.")
