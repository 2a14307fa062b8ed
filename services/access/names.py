"""The names of regions, institutions and departments, in Chinese and English, by the ids records carry.

Asset records name their holder by ids (`institution`, `region`) and their department by whatever the
manifest's cell held (its id, or its Chinese or English name: `Department.names`); people read names.
`OrgNames` holds every name of the access store; `names(db)` gives the current one, read again after
an access-store commit of this process (services/access/generation.py) or after `TTL_S` seconds (a change
made by another process), which is soon enough for names.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from services.access import generation
from services.access.db import Database
from services.access.models import Department, Institution, Region
from services.messages import Lang, Named, Resolver

log = logging.getLogger(__name__)

TTL_S = 60.0


@dataclass(frozen=True)
class Name:
    zh: str
    en: str

    def as_json(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


@dataclass(frozen=True)
class OrgNames:
    institutions: dict[str, Name] = field(default_factory=dict)
    regions: dict[str, Name] = field(default_factory=dict)
    # institution id -> each way a record may name the department (id, zh, en) -> (id, its name)
    departments: dict[str, dict[str, tuple[str, Name]]] = field(default_factory=dict)

    def institution(self, institution_id: str | None) -> Name | None:
        return self.institutions.get(institution_id or "")

    def region(self, code: str | None) -> Name | None:
        return self.regions.get(code or "")

    def department(self, institution_id: str | None, cell: str | None) -> Name | None:
        """The department a record's cell names, of its institution (of any, when it is not given)."""
        if not cell:
            return None
        if institution_id is not None:
            found = self.departments.get(institution_id, {}).get(cell)
            return found[1] if found else None
        return next((d[cell][1] for d in self.departments.values() if cell in d), None)

    def of_record(self, record: dict[str, Any]) -> dict[str, dict[str, str] | None]:
        """The names of a record's holder, department and region ({zh, en} each; None when unknown)."""
        found = {"institution": self.institution(record.get("institution")),
                 "department": self.department(record.get("institution"), record.get("department")),
                 "region": self.region(record.get("region"))}
        return {k: n.as_json() if n else None for k, n in found.items()}

    def as_json(self) -> dict[str, Any]:
        """Every name, for the web pages: {institutions: {id: [zh, en]}, regions: …, departments: {inst: {cell: [zh,
        en]}}}."""
        return {"institutions": {k: [n.zh, n.en] for k, n in self.institutions.items()},
                "regions": {k: [n.zh, n.en] for k, n in self.regions.items()},
                "departments": {inst: {cell: [n.zh, n.en] for cell, (_, n) in cells.items()}
                                for inst, cells in self.departments.items()}}


def resolver(found: OrgNames) -> Resolver:
    """Says the ids in a Message (services/messages.Named) by these names."""
    def resolve(named: Named, lang: Lang) -> str | None:
        name = (found.institution(named) if named.kind == "institution" else found.region(named)
                if named.kind == "region" else found.department(named.of, named))
        return (name.zh if lang == "zh" else name.en) if name else None
    return resolve


def load(session: Session) -> OrgNames:
    departments: dict[str, dict[str, tuple[str, Name]]] = {}
    for dept in session.scalars(select(Department)):
        name = Name(dept.name_zh, dept.name_en)
        departments.setdefault(dept.institution_id, {}).update({cell: (dept.slug, name) for cell in dept.names})
    return OrgNames(institutions={i.id: Name(i.name_zh, i.name_en)
                                  for i in session.scalars(select(Institution)).unique()},
                    regions={r.code: Name(r.name_zh, r.name_en) for r in session.scalars(select(Region))},
                    departments=departments)


_lock = threading.Lock()
_cache: dict[str, tuple[int, float, OrgNames]] = {}  # database URL -> (generation, read at, names)


def names(db: Database) -> OrgNames:
    """The names as the access store has them now (cached: see the module's docstring). Where the store cannot be
    read, the names last read (none before the first read): a search or a page never fails for want of names."""
    now, gen = time.monotonic(), generation.local()
    with _lock:
        cached = _cache.get(db.settings.url)
    if cached is not None and cached[0] == gen and now - cached[1] < TTL_S:
        return cached[2]
    try:
        with db.session() as session:
            fresh = load(session)
    except SQLAlchemyError as exc:
        log.warning("names of organisations not read: %s", exc)
        return cached[2] if cached is not None else OrgNames()
    with _lock:
        _cache[db.settings.url] = (gen, now, fresh)
    return fresh
