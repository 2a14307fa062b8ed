"""Sets: the holding institutions and the taxonomy's categories, as a two-branch hierarchy.

- `institution` (every record) with a child `institution:<id>` per holding institution;
- `category` (records with a category) with a child `category:<taxonomy id>` per category.

A record's header names the leaves it belongs to. Set names are bilingual: the institution's names
from the access store, the category's labels from schemas/taxonomy.json (the Chinese name first).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from schemas import taxonomy

INSTITUTION = "institution"
CATEGORY = "category"
FIELDS = {INSTITUTION: "institution", CATEGORY: "category_ids"}  # branch → the indexed field it selects on
BRANCH_NAMES = {INSTITUTION: "收藏机构 / Holding institutions", CATEGORY: "文物类别 / Categories"}

# setSpecType of OAI-PMH.xsd: unreserved URI characters, ':'-separated.
SPEC = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*")
SEGMENT = re.compile(r"[A-Za-z0-9\-_.!~*'()]+")


@dataclass(frozen=True)
class Names:
    """Names of a holding institution (None where the access store does not know it)."""

    zh: str | None = None
    en: str | None = None

    def joined(self, fallback: str) -> str:
        return " / ".join(n for n in (self.zh, self.en) if n) or fallback


class UnknownSet(ValueError):
    """A setSpec that is well-formed but no set of this repository (no record can match)."""


def clause(spec: str) -> dict[str, Any]:
    """The filter selecting a set's records; ValueError if the spec is malformed, UnknownSet if unknown."""
    if not SPEC.fullmatch(spec):
        raise ValueError(f"{spec!r} is not a setSpec")
    branch, _, leaf = spec.partition(":")
    if branch not in FIELDS or ":" in leaf:
        raise UnknownSet(spec)
    field = FIELDS[branch]
    return {"term": {field: leaf}} if leaf else {"exists": {"field": field}}


def specs_of(record: Mapping[str, Any]) -> list[str]:
    """The sets a record is in (leaves only; harvesters infer the branches)."""
    out = [f"{INSTITUTION}:{record['institution']}"]
    out += [f"{CATEGORY}:{c}" for c in record.get("category_ids") or []]
    return [s for s in out if SPEC.fullmatch(s)]


def category_names(category_id: str) -> Names:
    try:
        concept = taxonomy.concept(category_id)
    except KeyError:
        return Names()
    return Names(concept.zh, concept.en)


def listing(institutions: list[str], categories: list[str], names: Mapping[str, Names]
            ) -> list[tuple[str, str, Names]]:
    """(setSpec, setName, names for the description) of every set, branches first."""
    out: list[tuple[str, str, Names]] = [(b, n, Names(*n.split(" / "))) for b, n in BRANCH_NAMES.items()]
    for inst in sorted(i for i in institutions if SEGMENT.fullmatch(i)):
        inst_names = names.get(inst, Names())
        out.append((f"{INSTITUTION}:{inst}", inst_names.joined(inst), inst_names))
    for cat in sorted(c for c in categories if SEGMENT.fullmatch(c)):
        cat_names = category_names(cat)
        out.append((f"{CATEGORY}:{cat}", cat_names.joined(cat), cat_names))
    return out
