"""The admin API: regions, institutions, departments, staff, partner apps and API keys.

Who may do what is checked where the change is made (services/access/orgs.py, keys.py): operators
run the platform, an institution's admins their institution. Every change is in the audit log.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from schemas.access import PrincipalKind
from schemas.organisations import (
    AppIn,
    AppOut,
    DepartmentIn,
    DepartmentOut,
    InstitutionIn,
    InstitutionOut,
    KeyCreated,
    KeyIn,
    KeyOut,
    RegionIn,
    RegionOut,
    StaffIn,
    StaffOut,
)
from services.access import keys, orgs
from services.gateway.deps import DbDep, PrincipalDep, SettingsDep

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.get("/regions")
def list_regions(db: DbDep) -> list[RegionOut]:
    with db.session() as session:
        return orgs.list_regions(session)


@router.post("/regions", status_code=status.HTTP_201_CREATED)
def create_region(body: RegionIn, db: DbDep, principal: PrincipalDep) -> RegionOut:
    """Operators: a region (ISO 3166 code, names in Chinese and English)."""
    with db.session() as session:
        return orgs.create_region(session, principal, body)


@router.get("/institutions")
def list_institutions(db: DbDep) -> list[InstitutionOut]:
    with db.session() as session:
        return orgs.list_institutions(session)


@router.post("/institutions", status_code=status.HTTP_201_CREATED)
def create_institution(body: InstitutionIn, db: DbDep, principal: PrincipalDep) -> InstitutionOut:
    """Operators: an institution in a region."""
    with db.session() as session:
        return orgs.create_institution(session, principal, body)


@router.get("/institutions/{institution_id}")
def read_institution(institution_id: str, db: DbDep) -> InstitutionOut:
    with db.session() as session:
        return orgs.institution_out(orgs.institution(session, institution_id))


@router.post("/institutions/{institution_id}/departments", status_code=status.HTTP_201_CREATED)
def create_department(institution_id: str, body: DepartmentIn, db: DbDep, principal: PrincipalDep) -> DepartmentOut:
    """The institution's admins: a department."""
    with db.session() as session:
        return orgs.create_department(session, principal, institution_id, body)


@router.get("/institutions/{institution_id}/staff")
def list_staff(institution_id: str, db: DbDep, principal: PrincipalDep) -> list[StaffOut]:
    with db.session() as session:
        return orgs.list_staff(session, principal, institution_id)


@router.post("/institutions/{institution_id}/staff", status_code=status.HTTP_201_CREATED)
def create_staff(institution_id: str, body: StaffIn, db: DbDep, principal: PrincipalDep) -> StaffOut:
    """The institution's admins: a staff member with a role (viewer, curator, admin)."""
    with db.session() as session:
        return orgs.create_staff(session, principal, institution_id, body)


@router.get("/apps")
def list_apps(db: DbDep, principal: PrincipalDep) -> list[AppOut]:
    """Partner apps; their contact (a person's e-mail, often) only to operators, who run the platform."""
    with db.session() as session:
        apps = orgs.list_apps(session)
    if principal.kind is PrincipalKind.OPERATOR:
        return apps
    return [a.model_copy(update={"contact": None}) for a in apps]


@router.post("/apps", status_code=status.HTTP_201_CREATED)
def create_app(body: AppIn, db: DbDep, principal: PrincipalDep) -> AppOut:
    """Operators: a partner application."""
    with db.session() as session:
        return orgs.create_app(session, principal, body)


@router.post("/keys", status_code=status.HTTP_201_CREATED)
def create_key(body: KeyIn, db: DbDep, principal: PrincipalDep, settings: SettingsDep) -> KeyCreated:
    """A key for a staff member (the institution's admins), a partner app or an operator (operators).
    The answer holds the key itself, this once; only its hash is kept."""
    with db.session() as session:
        return keys.create_key(session, principal, body, settings.access.key_rate_per_min)


@router.get("/keys")
def list_keys(db: DbDep, principal: PrincipalDep, institution: str | None = None) -> list[KeyOut]:
    """Operators: every key (or one institution's); admins: their staff's keys. Never the keys themselves."""
    with db.session() as session:
        return keys.list_keys(session, principal, institution)


@router.delete("/keys/{prefix}")
def revoke_key(prefix: str, db: DbDep, principal: PrincipalDep) -> KeyOut:
    """Revoke a key: refused from the next request on."""
    with db.session() as session:
        return keys.revoke_key(session, principal, prefix)
