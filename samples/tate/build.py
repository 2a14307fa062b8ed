"""One-off builder of samples/tate/batch/manifest.jsonl from the Tate collection metadata (CC0).

Run once, from the repository root, and commit the output (the project never reads ../shared
at run time):

    .venv/bin/python samples/tate/build.py [path/to/tate-artworks.jsonl.gz]

The selection is deterministic: records sorted by accession number, every `classification`
value covered (small classes in full, large ones by the square root of their size), each class
spread over the centuries of its `dateRange`, and within a century records with subject tags
preferred, taken at even steps through the accession numbers.
"""

from __future__ import annotations

import gzip
import json
import math
import shutil
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parents[2] / "shared" / "data" / "tate-artworks.jsonl.gz"
LICENCE = SOURCE.with_name("tate-LICENCE.txt")
TARGET = 500
MIN_PER_CLASS = 6
UNCLASSIFIED_QUOTA = 4


def leaf_subjects(node: dict[str, Any] | None) -> list[str]:
    """Names of the leaves of the 3-level subject tree, in order, without repeats."""
    out: list[str] = []

    def walk(n: dict[str, Any]) -> None:
        children = n.get("children") or []
        name = str(n.get("name") or "").replace(";", ",")  # "; " separates the names
        if not children and name and name != "subject" and name not in out:
            out.append(name)
        for child in children:
            walk(child)

    if node:
        walk(node)
    return out


def century(record: dict[str, Any]) -> int | None:
    start = (record.get("dateRange") or {}).get("startYear")
    return start // 100 if isinstance(start, int) else None


def spaced(items: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    """k items at even steps through the list (deterministic)."""
    n = len(items)
    return [items[int((i + 0.5) * n / k)] for i in range(k)] if k < n else list(items)


def quotas(sizes: dict[str | None, int]) -> dict[str | None, int]:
    named = {c: n for c, n in sizes.items() if c is not None}
    root = {c: math.sqrt(n) for c, n in named.items()}
    budget = TARGET - min(UNCLASSIFIED_QUOTA, sizes.get(None, 0))
    out: dict[str | None, int] = {c: min(n, max(MIN_PER_CLASS, round(budget * root[c] / sum(root.values()))))
                                  for c, n in named.items()}
    largest = max(named, key=lambda c: named[c])
    out[largest] += budget - sum(out.values())
    if None in sizes:
        out[None] = min(UNCLASSIFIED_QUOTA, sizes[None])
    return out


def pick_class(records: list[dict[str, Any]], quota: int) -> list[dict[str, Any]]:
    """Spread a class's quota over its centuries (round robin), preferring records with subjects."""
    buckets: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        buckets[century(r)].append(r)
    order = sorted(buckets, key=lambda c: (c is None, c or 0))
    share = dict.fromkeys(order, 0)
    while sum(share.values()) < min(quota, len(records)):
        for c in order:
            if share[c] < len(buckets[c]) and sum(share.values()) < quota:
                share[c] += 1
    chosen: list[dict[str, Any]] = []
    for c in order:
        tagged = [r for r in buckets[c] if r.get("subjects")]
        untagged = [r for r in buckets[c] if not r.get("subjects")]
        k = share[c]
        chosen += spaced(tagged, min(k, len(tagged))) + spaced(untagged, max(0, k - len(tagged)))
    return chosen


def row(r: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "object_id": r["acno"],
        "title_en": r.get("title"),
        "creator": r.get("all_artists"),
        "date": r.get("dateText"),
        "materials": r.get("medium"),
        "dimensions": r.get("dimensions"),
        "category": r.get("classification"),
        "acquisition": r.get("creditLine"),
        "licence": "CC0",
        "media": [{"path": f"images/{r['acno']}.png", "label": "main"}],
        "subjects": "; ".join(leaf_subjects(r.get("subjects"))),
        "tate_url": r.get("url"),
    }
    return {k: v for k, v in out.items() if v not in (None, "")}


def main(source: Path = SOURCE) -> None:
    with gzip.open(source, "rt", encoding="utf-8") as f:
        records = sorted((json.loads(line) for line in f if line.strip()), key=lambda r: r["acno"])
    by_class: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        by_class[r.get("classification") or None].append(r)
    quota = quotas({c: len(rs) for c, rs in by_class.items()})
    chosen = sorted((r for c, rs in by_class.items() for r in pick_class(rs, quota[c])), key=lambda r: r["acno"])
    with (HERE / "batch" / "manifest.jsonl").open("w", encoding="utf-8", newline="\n") as out:
        for r in chosen:
            out.write(json.dumps(row(r), ensure_ascii=False) + "\n")
    shutil.copyfile(source.with_name(LICENCE.name), HERE / "LICENCE.txt")
    tagged = sum(1 for r in chosen if r.get("subjects"))
    print(f"{len(chosen)} records ({tagged} with subjects) from {len(records)}; per class: "
          + ", ".join(f"{c}={sum(1 for r in chosen if (r.get('classification') or None) == c)}" for c in quota))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
