"""The vocabulary bridge: a query translated both ways, as a leg of its own in hybrid search.

Sources, in order of trust:
1. indexing/vocab/glossary.tsv — the team's connoisseurship terms (ware names, forms, mounts, motifs)
   that CC-CEDICT lacks or glosses as no catalogue writes them (梅瓶 → meiping, 汝窑 → Ru ware);
2. the taxonomy (schemas/taxonomy.json) and period (schemas/periods.json) vocabularies, whose Chinese
   and English names and aliases are paired;
3. CC-CEDICT (indexing/vocab/cc-cedict.txt.gz, CC BY-SA 4.0, see CC-CEDICT-LICENCE.txt): 123,067
   headwords with English glosses, cleaned of classifiers, parentheticals, "surname", "variant of"…

zh → en: each Chinese query word (jieba) gives up to `MAX_GLOSSES` English phrases; a word the
dictionary lacks is split by forward maximum matching into words it has. en → zh: the longest runs
of the query's (stemmed) English words that are a whole gloss give their Chinese headwords, the most
specific first (glossary, then the gloss's position in its entry, then entries with fewer senses).
Each source word is one group of alternatives: the query builder requires most groups to match and
any one alternative within a group (indexing/query.py).
"""

from __future__ import annotations

import gzip
import json
import re
import threading
from collections import defaultdict
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from indexing.terms import ZH_STOPWORDS

if TYPE_CHECKING:
    from indexing.terms import Analyzer

VOCAB = Path(__file__).parent / "vocab"
SCHEMAS = Path(__file__).parent.parent / "schemas"
CEDICT = VOCAB / "cc-cedict.txt.gz"
GLOSSARY = VOCAB / "glossary.tsv"
MAX_GLOSSES = 4  # English phrases kept per Chinese word
MAX_HEADWORDS = 3  # Chinese words kept per English phrase
MAX_GLOSS_WORDS = 4  # longer glosses are definitions, not names
MAX_NGRAM = 4

_LINE = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/\s*$")
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_SKIP = re.compile(r"^(surname |variant of|old variant|see |see also|also written|abbr\. |used in |cl:|kangxi "
                   r"radical|japanese |\(tw\)|\(dialect\)|\(old\)|\(archaic\)|\(slang\)|\(coll\.\)|\(literary\))")
_HAS_CJK = re.compile(r"[\u3400-\u9fff]")

# Single-character locatives, measure words and verbs that a title uses as glue (日落时…河上的船只):
# translated, they are noise a query would have to match.
BRIDGE_STOPWORDS = frozenset(
    "时 上 下 中 里 内 外 前 后 边 旁 个 们 有 一 件 只 张 幅 位 座 对 副 其 所 此 该 被 由".split())  # noqa: SIM905

Phrase = tuple[str, ...]  # analysed tokens (English stems or Chinese words)
Group = list[Phrase]  # alternatives for one source word


def clean_gloss(gloss: str) -> str | None:
    """A CC-CEDICT gloss as a name a catalogue would use, or None when it is not one."""
    gloss = gloss.strip()
    if not gloss or _SKIP.match(gloss.lower()):
        return None
    gloss = _PAREN.sub("", gloss).strip(" ;,.")
    if _HAS_CJK.search(gloss):
        return None
    gloss = re.sub(r"^to ", "", gloss)
    gloss = re.sub(r"^(a|an|the) ", "", gloss)
    if not gloss or len(gloss.split()) > MAX_GLOSS_WORDS:
        return None
    return gloss


class Bridge:
    """The two dictionaries; built once per process (about a second) under a lock."""

    def __init__(self, analyzer: Analyzer) -> None:
        self._analyzer = analyzer
        self._lock = threading.Lock()
        self._zh_en: dict[str, list[str]] | None = None
        self._en_zh: dict[Phrase, list[str]] = {}
        self._longest_zh = 1

    def _key(self, english: str) -> Phrase:
        return tuple(self._analyzer.stems(self._analyzer.en_words(english)))

    def load(self) -> None:
        if self._zh_en is not None:
            return
        with self._lock:
            if self._zh_en is not None:
                return
            zh_en: dict[str, list[str]] = defaultdict(list)
            ranked: dict[Phrase, list[tuple[tuple[int, int, int], str]]] = defaultdict(list)
            freq = self._analyzer.frequency

            def add(zh: str, glosses: Sequence[str], trust: int) -> None:
                kept = [g for g in glosses if g and g not in zh_en[zh]][: MAX_GLOSSES - len(zh_en[zh])]
                zh_en[zh] += kept
                for position, gloss in enumerate(glosses):
                    if key := self._key(gloss):
                        # Most trusted source first, then the gloss's place in its entry, then the commoner word.
                        ranked[key].append(((trust, min(position, 2), -freq(zh)), zh))

            for zh, glosses in _glossary():
                add(zh, glosses, 0)
            for zh, glosses in _vocabularies():
                add(zh, glosses, 1)
            with gzip.open(CEDICT, "rt", encoding="utf-8") as f:
                for line in f:
                    if line.startswith("#") or not (m := _LINE.match(line)):
                        continue
                    senses = [part for sense in m.group(3).split("/") for part in sense.split(";")]
                    glosses = [g for g in (clean_gloss(x) for x in senses) if g]
                    if glosses and len(m.group(2)) <= MAX_NGRAM + 2:
                        add(m.group(2), glosses, 2)
            self._en_zh = {key: list(dict.fromkeys(zh for _, zh in sorted(cands)))[:MAX_HEADWORDS]
                           for key, cands in ranked.items()}
            self._longest_zh = max(len(w) for w in zh_en)
            self._zh_en = dict(zh_en)

    def glosses(self, word: str) -> list[str]:
        self.load()
        assert self._zh_en is not None
        return self._zh_en.get(word, [])

    def to_en(self, zh_words: Sequence[str]) -> list[Group]:
        """Per Chinese word, its English alternatives as stemmed phrases (words without any are dropped)."""
        groups: list[Group] = []
        for word in zh_words:
            if word in BRIDGE_STOPWORDS or word in ZH_STOPWORDS:
                continue
            glosses = self.glosses(word) or [g for part in self._split(word) for g in self.glosses(part)[:2]]
            phrases = list(dict.fromkeys(k for g in glosses if (k := self._key(g))))
            if phrases:
                groups.append(phrases[:MAX_GLOSSES])
        return groups

    def _split(self, word: str) -> list[str]:
        """Forward maximum matching of a word the dictionary lacks into words it has."""
        assert self._zh_en is not None
        parts, i = [], 0
        while i < len(word):
            for n in range(min(self._longest_zh, len(word) - i), 0, -1):
                if word[i:i + n] in self._zh_en:
                    parts.append(word[i:i + n])
                    i += n
                    break
            else:
                i += 1
        return parts

    def to_zh(self, stems: Sequence[str]) -> list[Group]:
        """The longest runs of English stems that are a whole gloss, each with its Chinese words."""
        self.load()
        groups: list[Group] = []
        i = 0
        while i < len(stems):
            for n in range(min(MAX_NGRAM, len(stems) - i), 0, -1):
                if words := self._en_zh.get(tuple(stems[i:i + n])):
                    groups.append([(w,) for w in words])
                    i += n
                    break
            else:
                i += 1
        return groups


@cache
def _glossary() -> list[tuple[str, list[str]]]:
    out = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            zh, en = line.split("\t", 1)
            out.append((zh.strip(), [e.strip() for e in en.split("|") if e.strip()]))
    return out


@cache
def _vocabularies() -> list[tuple[str, list[str]]]:
    """Chinese names and aliases paired with the English ones, from the taxonomy and the periods."""
    out: list[tuple[str, list[str]]] = []
    taxonomy = json.loads((SCHEMAS / "taxonomy.json").read_text(encoding="utf-8"))
    for concept in taxonomy["categories"] + taxonomy["materials"]:
        names = [concept["zh"], *concept.get("aliases", [])]
        zh = [n for n in names if _HAS_CJK.search(n)]
        en = [concept["en"], *(n for n in names if not _HAS_CJK.search(n))]
        out += [(z, en) for part in zh for z in part.split("、") if z]
    for period in json.loads((SCHEMAS / "periods.json").read_text(encoding="utf-8")):
        en = [period["en"], *period.get("en_aliases", [])]
        out += [(z, en) for z in [period["zh"], *period.get("zh_aliases", [])]]
    return out


def segmenter_words() -> list[str]:
    """The multi-character words of the glossary and vocabularies, for the segmenter's dictionary."""
    return [zh for zh, _ in [*_glossary(), *_vocabularies()] if len(zh) > 1]


_shared_lock = threading.Lock()
_shared: list[Bridge] = []


def default_bridge() -> Bridge:
    """The process's bridge: one instance even when threads ask at once (it loads on first use, under its lock)."""
    from indexing.terms import default_analyzer

    with _shared_lock:
        if not _shared:
            _shared.append(Bridge(default_analyzer()))
    return _shared[0]
