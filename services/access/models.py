"""The tables of organisations, principals, keys, grants and the audit log (SQLAlchemy 2).

    regions ─< institutions ─< departments
                     │  └────< staff ─┐
                     │                ├─< api_keys   (also of partner apps and operators)
    apps ────────────┼────────────────┘
                     └────< grants (grantor) → an institution, a region or an app
    audit_events (append-only: the database refuses UPDATE and DELETE, see the first migration;
                  a hash chain whose head is audit_chain, see the second)

The schema is made and changed by Alembic migrations only (services/access/migrations); a test
checks that these models and the migrations agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, also on SQLite (which keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}


class Region(Base):
    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)  # ISO 3166-1 or 3166-2
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Institution(Base):
    __tablename__ = "institutions"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    region: Mapped[Region] = relationship(lazy="joined")
    departments: Mapped[list[Department]] = relationship(back_populates="institution", order_by="Department.slug")


class Department(Base):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("institution_id", "slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    institution_id: Mapped[str] = mapped_column(ForeignKey("institutions.id"))
    slug: Mapped[str] = mapped_column(String(63))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    institution: Mapped[Institution] = relationship(back_populates="departments")

    @property
    def names(self) -> tuple[str, ...]:
        """How an asset's department cell may name it: its id, its Chinese or its English name."""
        return tuple(dict.fromkeys(n for n in (self.slug, self.name_zh, self.name_en) if n))


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    institution_id: Mapped[str] = mapped_column(ForeignKey("institutions.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))  # schemas.access.Role
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    institution: Mapped[Institution] = relationship(lazy="joined")
    department: Mapped[Department | None] = relationship(lazy="joined")


class App(Base):
    """A partner application: sees what the public sees, plus what institutions grant it."""

    __tablename__ = "apps"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Operator(Base):
    """Runs the platform (regions, institutions, apps, any key); sees content as the public does."""

    __tablename__ = "operators"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """A key is shown once; only its SHA-256 is kept. `prefix` names it in lists, logs and the audit."""

    __tablename__ = "api_keys"

    prefix: Mapped[str] = mapped_column(String(16), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    owner_kind: Mapped[str] = mapped_column(String(16))  # staff | app | operator
    staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    app_id: Mapped[str | None] = mapped_column(ForeignKey("apps.id"))
    operator_id: Mapped[str | None] = mapped_column(ForeignKey("operators.id"))
    label: Mapped[str | None] = mapped_column(String(200))
    scopes: Mapped[list[str]] = mapped_column()
    rate_limit_per_min: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoked_by: Mapped[str | None] = mapped_column(String(200))

    staff: Mapped[Staff | None] = relationship(lazy="joined")
    app: Mapped[App | None] = relationship(lazy="joined")
    operator: Mapped[Operator | None] = relationship(lazy="joined")


class Grant(Base):
    __tablename__ = "grants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    grantor_id: Mapped[str] = mapped_column(ForeignKey("institutions.id"))
    grantee_kind: Mapped[str] = mapped_column(String(16))  # schemas.access.GranteeKind
    grantee_id: Mapped[str] = mapped_column(String(63))
    tier: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(16))  # schemas.access.GrantScope
    scope_value: Mapped[dict[str, Any]] = mapped_column()
    purpose: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    valid_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoked_by: Mapped[str | None] = mapped_column(String(200))


class AuditEvent(Base):
    """One delivery, refusal or admin change. Rows are only ever inserted."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(40))  # deliver, deny, grant.create, key.revoke, …
    outcome: Mapped[str] = mapped_column(String(16))  # allowed | denied | done
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(63))
    actor_institution: Mapped[str | None] = mapped_column(String(63))
    actor_key: Mapped[str | None] = mapped_column(String(16))
    # The institution the event is about: the holder of the asset delivered, or the one changed.
    about_institution: Mapped[str | None] = mapped_column(String(63), index=True)
    asset_id: Mapped[str | None] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(200))  # e.g. "grant 3f…", "key wy_ab12…", "media 0 original"
    tier: Mapped[str | None] = mapped_column(String(16))
    basis: Mapped[str | None] = mapped_column(String(200))  # the licence or grant that allowed it
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The hash chain (services/access/audit.py): the previous event's hash and this one's; None before 0002.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class AuditChain(Base):
    """The head of the audit hash chain, one row (id 1): events in it, the last one's id and hash."""

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    length: Mapped[int] = mapped_column(Integer)
    head_id: Mapped[int | None] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
