"""Names of holding institutions, from the access store (one query per page of records)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import select

from services.access.db import Database
from services.access.models import Institution
from services.oai.sets import Names

NamesLookup = Callable[[Iterable[str]], dict[str, Names]]


def names_from(db: Database) -> NamesLookup:
    """A lookup of institution names; an id the store does not know has no entry (it shows as itself)."""
    def lookup(ids: Iterable[str]) -> dict[str, Names]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        with db.session() as session:
            rows = session.scalars(select(Institution).where(Institution.id.in_(wanted)))
            return {i.id: Names(i.name_zh, i.name_en) for i in rows}
    return lookup


def no_names(ids: Iterable[str]) -> dict[str, Names]:
    return {}
