"""Regions, institutions, departments, staff, partner apps and operators — and who may change them.

Who may do what is checked here, where the change is made, not only in the routes: operators
run the platform (regions, institutions, apps); an institution's admins run their institution
(departments, staff). Every change is written to the audit log in the same transaction.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from schemas.access import PrincipalKind, Role, Scope
from schemas.organisations import (
    AppIn,
    AppOut,
    DepartmentIn,
    DepartmentOut,
    InstitutionIn,
    InstitutionOut,
    RegionIn,
    RegionOut,
    StaffIn,
    StaffOut,
)
from services.access import audit
from services.access.errors import AlreadyExists, NotAllowed, UnknownEntity
from services.access.models import App, Department, Institution, Operator, Region, Staff
from services.access.principals import Principal


def require_operator(actor: Principal) -> None:
    if actor.kind is not PrincipalKind.OPERATOR or not actor.can(Scope.OPERATE):
        raise NotAllowed("only a platform operator may do this")


def require_admin_of(actor: Principal, institution: str) -> None:
    """An operator, or an admin of this institution whose key carries the admin scope."""
    if actor.kind is PrincipalKind.OPERATOR and actor.can(Scope.OPERATE):
        return
    if actor.is_staff and actor.institution == institution and actor.role is Role.ADMIN and actor.can(Scope.ADMIN):
        return
    raise NotAllowed(f"only an admin of {institution} (or an operator) may do this")


def _flush_new(session: Session, what: str) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        raise AlreadyExists(f"{what} already exists") from exc


def create_region(session: Session, actor: Principal, body: RegionIn) -> RegionOut:
    require_operator(actor)
    if session.get(Region, body.code) is not None:
        raise AlreadyExists(f"region {body.code} already exists")
    region = Region(code=body.code, name_zh=body.name_zh, name_en=body.name_en)
    session.add(region)
    _flush_new(session, f"region {body.code}")
    audit.record(session, actor, "region.create", subject=f"region {body.code}", **body.model_dump())
    return RegionOut.model_validate(region)


def list_regions(session: Session) -> list[RegionOut]:
    return [RegionOut.model_validate(r) for r in session.scalars(select(Region).order_by(Region.code))]


def institution(session: Session, institution_id: str) -> Institution:
    found = session.get(Institution, institution_id)
    if found is None:
        raise UnknownEntity(f"no institution {institution_id!r}")
    return found


def institution_out(inst: Institution) -> InstitutionOut:
    return InstitutionOut(id=inst.id, name_zh=inst.name_zh, name_en=inst.name_en, region=inst.region_code,
                          created_at=inst.created_at,
                          departments=[DepartmentOut(id=d.slug, name_zh=d.name_zh, name_en=d.name_en,
                                                     institution=inst.id) for d in inst.departments])


def create_institution(session: Session, actor: Principal, body: InstitutionIn) -> InstitutionOut:
    require_operator(actor)
    if session.get(Region, body.region) is None:
        raise UnknownEntity(f"no region {body.region!r}: create it first")
    if session.get(Institution, body.id) is not None:
        raise AlreadyExists(f"institution {body.id} already exists")
    inst = Institution(id=body.id, name_zh=body.name_zh, name_en=body.name_en, region_code=body.region)
    session.add(inst)
    _flush_new(session, f"institution {body.id}")
    audit.record(session, actor, "institution.create", about=body.id, subject=f"institution {body.id}",
                 **body.model_dump())
    session.refresh(inst)
    return institution_out(inst)


def list_institutions(session: Session) -> list[InstitutionOut]:
    return [institution_out(i) for i in session.scalars(select(Institution).order_by(Institution.id)).unique()]


def department(session: Session, institution_id: str, slug: str) -> Department:
    found = session.scalar(select(Department).where(Department.institution_id == institution_id,
                                                     Department.slug == slug))
    if found is None:
        raise UnknownEntity(f"{institution_id} has no department {slug!r}")
    return found


def create_department(session: Session, actor: Principal, institution_id: str, body: DepartmentIn) -> DepartmentOut:
    require_admin_of(actor, institution_id)
    institution(session, institution_id)
    session.add(Department(institution_id=institution_id, slug=body.id, name_zh=body.name_zh, name_en=body.name_en))
    _flush_new(session, f"department {body.id} of {institution_id}")
    audit.record(session, actor, "department.create", about=institution_id,
                 subject=f"department {institution_id}/{body.id}", **body.model_dump())
    return DepartmentOut(institution=institution_id, **body.model_dump())


def staff_out(member: Staff) -> StaffOut:
    return StaffOut(id=member.id, institution=member.institution_id,
                    department=member.department.slug if member.department else None, name=member.name,
                    email=member.email, role=Role(member.role), created_at=member.created_at)


def create_staff(session: Session, actor: Principal, institution_id: str, body: StaffIn) -> StaffOut:
    require_admin_of(actor, institution_id)
    institution(session, institution_id)
    dept = department(session, institution_id, body.department) if body.department else None
    member = Staff(id=uuid.uuid4().hex, institution_id=institution_id, department_id=dept.id if dept else None,
                   name=body.name, email=body.email, role=body.role.value)
    session.add(member)
    session.flush()
    session.refresh(member)
    audit.record(session, actor, "staff.create", about=institution_id, subject=f"staff {member.id}",
                 **body.model_dump(mode="json"))
    return staff_out(member)


def staff_member(session: Session, staff_id: str) -> Staff:
    found = session.get(Staff, staff_id)
    if found is None:
        raise UnknownEntity(f"no staff member {staff_id!r}")
    return found


def list_staff(session: Session, actor: Principal, institution_id: str) -> list[StaffOut]:
    require_admin_of(actor, institution_id)
    rows = session.scalars(select(Staff).where(Staff.institution_id == institution_id).order_by(Staff.created_at))
    return [staff_out(m) for m in rows.unique()]


def create_app(session: Session, actor: Principal, body: AppIn) -> AppOut:
    require_operator(actor)
    if session.get(App, body.id) is not None:
        raise AlreadyExists(f"app {body.id} already exists")
    app = App(id=body.id, name=body.name, contact=body.contact)
    session.add(app)
    _flush_new(session, f"app {body.id}")
    audit.record(session, actor, "app.create", subject=f"app {body.id}", **body.model_dump())
    return AppOut.model_validate(app)


def list_apps(session: Session) -> list[AppOut]:
    return [AppOut.model_validate(a) for a in session.scalars(select(App).order_by(App.id))]


def app(session: Session, app_id: str) -> App:
    found = session.get(App, app_id)
    if found is None:
        raise UnknownEntity(f"no partner app {app_id!r}")
    return found


def ensure_operator(session: Session, operator_id: str, name: str) -> Operator:
    """The platform's first operator (bootstrap, from the command line on the server itself)."""
    found = session.get(Operator, operator_id)
    if found is None:
        found = Operator(id=operator_id, name=name)
        session.add(found)
        session.flush()
    return found
