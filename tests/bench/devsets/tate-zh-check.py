#!/usr/bin/env python3
"""Validate the tate-zh dev set (standard library only).

Usage: python3 tate-zh-check.py [DIR]   (DIR defaults to this file's folder)

Checks tate-zh.records.jsonl and tate-zh.queries.jsonl:
  * every line parses, with exactly the expected keys;
  * no duplicate q, no empty relevant list, every relevant id is in the corpus;
  * "title" queries: relevant == every corpus record whose title equals the
    query's "en" after lowercasing and stripping punctuation (norm_title);
  * "term" queries: relevant == the term rule below, recomputed over the corpus,
    and 2 <= len(relevant) <= 40.

Term rule. A title is split into words: lowercased, apostrophes dropped (so a
possessive "King's" is the word "kings"), every other non-letter/digit character,
hyphens included, separates words ("Self-Portrait" -> "self portrait",
"Light-house" -> "light house"). A record is relevant to a term when its title
contains one of the term's forms (below) as a whole word or, for a two-word
form, as consecutive words. The forms are the English word and its plural,
possessive and, for "ruin"/"wreck", the participle "ruined"/"wrecked". Closed
compounds are not the simple word: "windmill" and "watermill" do not match
"mill" and have their own terms; no synonyms are added ("loch" is not "lake",
"minster" is not "cathedral"). The matches were then read by eye and the few
where the word does not name the thing are left out; they are listed in
EXCLUDE with the reason.
"""
import json
import os
import re
import sys
from collections import Counter

# en -> forms (lowercase words; a form with a space is a word sequence)
TERMS = {
    "horse": ["horse", "horses"],
    "cow": ["cow", "cows"],
    "cattle": ["cattle"],
    "sheep": ["sheep"],
    "lamb": ["lamb", "lambs"],
    "goat": ["goat", "goats"],
    "dog": ["dog", "dogs"],
    "hound": ["hound", "hounds"],
    "deer": ["deer"],
    "bird": ["bird", "birds"],
    "swan": ["swan", "swans"],
    "fish": ["fish", "fishes"],
    "lion": ["lion", "lions"],
    "mule": ["mule", "mules"],
    "dragon": ["dragon", "dragons"],
    "cathedral": ["cathedral", "cathedrals"],
    "abbey": ["abbey", "abbeys"],
    "chapel": ["chapel", "chapels"],
    "palace": ["palace", "palaces"],
    "temple": ["temple", "temples"],
    "mosque": ["mosque", "mosques"],
    "mill": ["mill", "mills"],
    "windmill": ["windmill", "windmills"],
    "watermill": ["watermill", "watermills", "water mill", "water mills"],
    "cottage": ["cottage", "cottages"],
    "villa": ["villa", "villas"],
    "monument": ["monument", "monuments"],
    "fortress": ["fortress", "fortresses"],
    "lighthouse": ["lighthouse", "lighthouses", "light house", "light houses"],
    "gate": ["gate", "gates"],
    "ruin": ["ruin", "ruins", "ruined"],
    "harbour": ["harbour", "harbours", "harbor", "harbors"],
    "lock": ["lock", "locks"],
    "aqueduct": ["aqueduct", "aqueducts"],
    "fountain": ["fountain", "fountains"],
    "spire": ["spire", "spires"],
    "arch": ["arch", "arches"],
    "statue": ["statue", "statues"],
    "garden": ["garden", "gardens"],
    "canal": ["canal", "canals"],
    "valley": ["valley", "valleys"],
    "cliff": ["cliff", "cliffs"],
    "rock": ["rock", "rocks"],
    "cave": ["cave", "caves"],
    "shore": ["shore", "shores"],
    "beach": ["beach", "beaches"],
    "bay": ["bay", "bays"],
    "gorge": ["gorge", "gorges"],
    "glacier": ["glacier", "glaciers"],
    "sea": ["sea", "seas"],
    "island": ["island", "islands", "isle", "isles"],
    "sky": ["sky", "skies"],
    "cloud": ["cloud", "clouds"],
    "rainbow": ["rainbow", "rainbows"],
    "storm": ["storm", "storms"],
    "wave": ["wave", "waves"],
    "sun": ["sun", "suns"],
    "sunset": ["sunset", "sunsets"],
    "sunrise": ["sunrise", "sunrises"],
    "morning": ["morning", "mornings"],
    "evening": ["evening", "evenings"],
    "night": ["night", "nights"],
    "autumn": ["autumn", "autumns"],
    "barge": ["barge", "barges"],
    "fishing boat": ["fishing boat", "fishing boats"],
    "sailing boat": ["sailing boat", "sailing boats"],
    "man-of-war": ["man of war", "men of war"],
    "steamer": ["steamer", "steamers"],
    "wreck": ["wreck", "wrecks", "wrecked"],
    "shipwreck": ["shipwreck", "shipwrecks"],
    "nude": ["nude", "nudes"],
    "woman": ["woman", "women"],
    "man": ["man", "men"],
    "girl": ["girl", "girls"],
    "boy": ["boy", "boys"],
    "child": ["child", "children"],
    "baby": ["baby", "babies"],
    "mother": ["mother", "mothers"],
    "fisherman": ["fisherman", "fishermen"],
    "artist": ["artist", "artists"],
    "poet": ["poet", "poets"],
    "lady": ["lady", "ladies"],
    "angel": ["angel", "angels"],
    "nymph": ["nymph", "nymphs"],
    "cupid": ["cupid", "cupids"],
    "acrobat": ["acrobat", "acrobats"],
    "doctor": ["doctor", "doctors"],
    "portrait": ["portrait", "portraits"],
    "self-portrait": ["self portrait", "self portraits"],
    "still life": ["still life", "still lifes"],
    "bed": ["bed", "beds"],
    "helmet": ["helmet", "helmets"],
    "apple": ["apple", "apples"],
    "leaf": ["leaf", "leaves"],
    "flower": ["flower", "flowers"],
    "window": ["window", "windows"],
    "battle": ["battle", "battles"],
    "Thames": ["thames"],
    "Rhine": ["rhine"],
    "Venice": ["venice"],
    "Rome": ["rome"],
    "Naples": ["naples"],
    "Tivoli": ["tivoli"],
    "Florence": ["florence"],
    "Edinburgh": ["edinburgh"],
    "London": ["london"],
    "Oxford": ["oxford"],
    "Windsor": ["windsor"],
    "Geneva": ["geneva"],
    "Cologne": ["cologne"],
    "Salzburg": ["salzburg"],
    "Prague": ["prague"],
    "Vesuvius": ["vesuvius"],
    "Stonehenge": ["stonehenge", "stone henge"],
}

# en -> {object_id: why the word there does not name the thing}
EXCLUDE = {
    "dog": {"D27383": "'Dog Fish' is a fish (dogfish)"},
    "bird": {"AR00032": "'Mrs Bird' is a surname"},
    "fish": {"T01633": "'The Shell-Fish' is shellfish"},
    "sky": {
        "D30866": "'(in Sky Above)': a note on the layout of the sheet",
        "D31013": "'(the Bridge Continued in the Sky)': layout note",
        "D31046": "'(Continued in the Sky)': layout note",
        "D31484": "'(Continued in Sky)': layout note",
        "P02040": "'Sky Scraper' is a building",
    },
    "cloud": {
        "D14001": "St-Cloud, a place", "D14004": "St-Cloud, a place",
        "D23903": "St Cloud, a place", "D24335": "St Cloud, a place",
        "D24447": "St Cloud, a place", "D24689": "St-Cloud, a place",
    },
    "man": {
        "D04036": "'Man of War' is a warship",
        "D05417": "'Man-of-War' is a warship",
        "D06524": "'Men-of-War' are warships",
        "D17160": "'Man-of-War's Hulk' is a warship",
        "D40612": "'Man-of-War' is a warship",
    },
    "morning": {"N01592": "'Morning Glory' is a flower"},
    "night": {"N04156": "'The Arabian Nights' is a book title"},
    "autumn": {"T03766": "'The Autumn Crocus' is a plant name"},
    "Oxford": {"N04550": "'Earl of Oxford' is a peerage title"},
}

RECORD_KEYS = {"object_id", "title_en", "creator", "date", "materials", "category", "licence"}
QUERY_KEYS = {"q", "relevant", "kind", "en"}


def words(title):
    t = title.lower().replace("\u2019", "").replace("'", "")
    return re.findall(r"[^\W_]+", t)


def norm_title(title):
    return " ".join(words(title))


def term_matches(records, forms):
    seqs = [f.split() for f in forms]
    out = []
    for r in records:
        w = words(r["title_en"])
        for s in seqs:
            n = len(s)
            if any(w[i:i + n] == s for i in range(len(w) - n + 1)):
                out.append(r["object_id"])
                break
    return out


def term_relevant(records, en):
    excl = EXCLUDE.get(en, {})
    return sorted(i for i in term_matches(records, TERMS[en]) if i not in excl)


def title_relevant(records, en):
    n = norm_title(en)
    return sorted(r["object_id"] for r in records if norm_title(r["title_en"]) == n)


def load(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for k, line in enumerate(f, 1):
            try:
                rows.append(json.loads(line))
            except ValueError as e:
                raise SystemExit("%s:%d: %s" % (path, k, e))
    return rows


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    records = load(os.path.join(d, "tate-zh.records.jsonl"))
    queries = load(os.path.join(d, "tate-zh.queries.jsonl"))
    errors = []
    ids = [r.get("object_id") for r in records]
    if ids != sorted(ids) or len(set(ids)) != len(ids):
        errors.append("records not sorted by object_id or ids repeated")
    for r in records:
        if set(r) != RECORD_KEYS:
            errors.append("record keys {}: {}".format(r.get("object_id"), sorted(r)))
        if not (r.get("title_en") or "").strip():
            errors.append("empty title: {}".format(r.get("object_id")))
    idset = set(ids)
    seen = set()
    for k, q in enumerate(queries, 1):
        where = "query %d (%s)" % (k, q.get("q"))
        if set(q) != QUERY_KEYS:
            errors.append(f"{where}: keys {sorted(q)}")
            continue
        if q["q"] in seen:
            errors.append(f"{where}: duplicate q")
        seen.add(q["q"])
        if not re.search(r"[\u4e00-\u9fff]", q["q"]):
            errors.append(f"{where}: no Chinese characters")
        rel = q["relevant"]
        if not rel:
            errors.append(f"{where}: empty relevant")
        if len(set(rel)) != len(rel):
            errors.append(f"{where}: repeated relevant id")
        missing = [i for i in rel if i not in idset]
        if missing:
            errors.append(f"{where}: ids not in corpus {missing}")
        if q["kind"] == "title":
            want = title_relevant(records, q["en"])
        elif q["kind"] == "term":
            if q["en"] not in TERMS:
                errors.append("{}: unknown term {!r}".format(where, q["en"]))
                continue
            want = term_relevant(records, q["en"])
            if not 2 <= len(want) <= 40:
                errors.append("%s: %d relevant, outside 2..40" % (where, len(want)))
        else:
            errors.append("{}: bad kind {!r}".format(where, q["kind"]))
            continue
        if sorted(rel) != want:
            errors.append(f"{where}: relevant {sorted(rel)} != rule {want}")
    kinds = Counter(q.get("kind") for q in queries)
    print("records: %d" % len(records))
    print("queries: %d (%s)" % (len(queries), ", ".join("%s %d" % kv for kv in sorted(kinds.items()))))
    print("relevant ids per query: title mean {:.2f}, term mean {:.2f}".format(*tuple(
        (sum(len(q["relevant"]) for q in queries if q.get("kind") == k) / max(1, kinds[k]))
        for k in ("title", "term"))))
    if errors:
        for e in errors:
            print("ERROR", e)
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
