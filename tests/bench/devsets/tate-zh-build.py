#!/usr/bin/env python3
"""Rebuild tests/bench/devsets/tate-zh.records.jsonl from the Tate collection dump.

Usage: python3 tate-zh-build.py /path/to/tate-artworks.jsonl.gz [out.jsonl]

Standard library only. The corpus is a seeded random sample (random.Random(13))
of 3,000 records with a non-empty title, taken in file order, plus the records in
EXTRA_IDS (targeted by hand-written queries), sorted by object_id. The queries
file (tate-zh.queries.jsonl) is hand-written and is not produced here.

Records: Tate collection, github.com/tategallery/collection, CC0 1.0.
"""
import gzip
import json
import os
import random
import sys

SEED = 13
SAMPLE_SIZE = 3000
MAX_TOTAL = 3300

# Records added on top of the random sample because a hand-written query targets
# them. Empty: every query of tate-zh.queries.jsonl targets records already drawn.
EXTRA_IDS = [
]


def row(rec):
    medium = (rec.get("medium") or "").strip()
    return {
        "object_id": rec["acno"],
        "title_en": rec["title"],
        "creator": rec.get("all_artists") or None,
        "date": rec.get("dateText") or None,
        "materials": [medium] if medium else [],
        "category": rec.get("classification") or None,
        "licence": "CC0",
    }


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    src = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "tate-zh.records.jsonl")
    titled = []
    by_id = {}
    with gzip.open(src, "rt", encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            rec = json.loads(line)
            if not (rec.get("title") or "").strip():
                continue
            titled.append(rec)
            by_id[rec["acno"]] = rec
    rng = random.Random(SEED)
    sample = rng.sample(titled, SAMPLE_SIZE)
    chosen = {r["acno"]: r for r in sample}
    for acno in EXTRA_IDS:
        if acno not in by_id:
            sys.exit(f"extra id not found (or untitled): {acno}")
        chosen.setdefault(acno, by_id[acno])
    if len(chosen) > MAX_TOTAL:
        sys.exit("corpus too large: %d" % len(chosen))
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        for acno in sorted(chosen):
            f.write(json.dumps(row(chosen[acno]), ensure_ascii=False) + "\n")
    print("wrote %d records to %s" % (len(chosen), out))


if __name__ == "__main__":
    main()
