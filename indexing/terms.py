"""Text analysis done in Python, the same way at index time and at query time.

The bare Elasticsearch server has no stemmer and no Chinese analyzer (indexing/analysis.py), and a
production cluster may have different plugins; analysing here makes both behave alike. Each record
gets pre-analysed fields (`AssetRecord.terms`, indexed with the `whitespace` analyzer), and a query is
analysed by the same function before it is matched against them:

- **Chinese** runs are folded to simplified script (OpenCC `t2s`, so 銅鏡 finds 铜镜 and back) and
  segmented into words by jieba (search mode at index time: a word and its dictionary sub-words, so a
  query word found by precise mode is always among the record's tokens). jieba's dictionary is
  extended with the glossary and vocabularies of indexing/bridge.py (梅瓶, 带扣, 汝窑 …).
- **Latin-script** runs are NFKD-folded (accents dropped), lowercased, split on non-alphanumerics,
  English stop words removed and stemmed by Snowball (PyStemmer), so "boat" matches "Boats".
- **Title keys**: each title normalised (folded, lowercased, punctuation and spaces removed) for
  exact known-item matching — a query that *is* a title ranks that record first.

Models load on first use, once, under the analyzer's lock, checked twice (jieba's dictionary takes
~2 s), as the encoders do (indexing/encoders/base.py).
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]+")
LATIN_WORD = re.compile(r"[a-z0-9]+")
PUNCT = re.compile(r"[\W_]+", re.UNICODE)

# Snowball's English stop list, minus words that are objects in a catalogue ("will", "can" are kept out).
EN_STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between
both but by could did do does doing down during each few for from further had has have having he her here
hers herself him himself his how i if in into is it its itself just me more most my myself no nor not of off
on once only or other our ours ourselves out over own same she should so some such than that the their theirs
them themselves then there these they this those through to too under until up very was we were what when
where which while who whom why with would you your yours yourself yourselves
""".split())  # noqa: SIM905
# Chinese function words that carry no meaning on their own in a query (的, 和 …); a query of only these is empty.
ZH_STOPWORDS = frozenset("的 之 和 与 及 或 在 是 了 着 也 其 以 于 为 而 等 把 被 从 对 就 都 很 吗 呢 啊 吧".split())  # noqa: SIM905

class Analyzer:
    """Folding, segmentation and stemming; cheap to construct, loads its models on first use."""

    def __init__(self, user_words: Iterable[str] = (), cache_dir: Path | None = None) -> None:
        self._user_words = tuple(user_words)
        self._cache_dir = cache_dir
        self._lock = threading.Lock()
        self._jieba: Any = None
        self._opencc: Any = None
        self._stemmer: Any = None

    def load(self) -> None:
        if self._jieba is not None:
            return
        with self._lock:
            if self._jieba is not None:
                return
            with warnings.catch_warnings():  # jieba 0.42's regexes have invalid escapes (fine at run time)
                warnings.simplefilter("ignore")
                import jieba
            import opencc
            import Stemmer

            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            if self._cache_dir is not None:
                self._cache_dir.mkdir(parents=True, exist_ok=True)
                tokenizer.tmp_dir = str(self._cache_dir)
            tokenizer.initialize()
            for word in self._user_words:
                # A frequency that makes jieba keep the word whole against its everyday neighbours.
                tokenizer.add_word(word, freq=max(tokenizer.suggest_freq(word, tune=False), 1000))
            self._opencc = opencc.OpenCC("t2s")
            self._stemmer = Stemmer.Stemmer("english")
            self._jieba = tokenizer

    # -- pieces ----------------------------------------------------------------------------------

    def fold(self, text: str) -> str:
        """Unicode NFKC and traditional → simplified."""
        self.load()
        return str(self._opencc.convert(unicodedata.normalize("NFKC", text)))

    def zh_words(self, text: str, *, search: bool = False) -> list[str]:
        """Words of the Chinese runs of `text` (already folded), without function words."""
        self.load()
        cut = self._jieba.cut_for_search if search else self._jieba.cut
        words: list[str] = []
        for run in CJK.findall(text):
            words += [w for w in cut(run, HMM=True) if w.strip() and w not in ZH_STOPWORDS]
        return words

    def en_words(self, text: str) -> list[str]:
        """Lowercased Latin-script words without accents, before stemming, stop words removed."""
        plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
        return [w for w in LATIN_WORD.findall(plain) if w not in EN_STOPWORDS]

    def frequency(self, word: str) -> int:
        """How common a word is in jieba's dictionary (0 when it is not there)."""
        self.load()
        return int(self._jieba.FREQ.get(word, 0) or 0)

    def stems(self, words: Sequence[str]) -> list[str]:
        self.load()
        return list(self._stemmer.stemWords(list(words)))

    # -- what fields and queries use -------------------------------------------------------------

    def tokens(self, text: str | None, *, search: bool = False) -> list[str]:
        """The analysed tokens of a text: Chinese words (simplified) and English stems, in order."""
        if not text:
            return []
        folded = self.fold(text)
        return self.zh_words(folded, search=search) + self.stems(self.en_words(CJK.sub(" ", folded)))

    def field(self, *texts: str | None) -> str | None:
        """A pre-analysed field value: the index-time tokens of the texts, space-separated."""
        tokens = [t for text in texts for t in self.tokens(text, search=True)]
        return " ".join(tokens) or None

    def title_key(self, title: str | None) -> str | None:
        """A title normalised for exact matching: folded, lowercased, without punctuation or spaces."""
        if not title:
            return None
        key = PUNCT.sub("", self.fold(title).lower())
        return key or None

    def literal_key(self, title: str | None) -> str | None:
        """A title as written (folded, lowercased, runs of spaces as one), `=`-prefixed so that it never equals a
        `title_key`: it tells a literal match ("Blank") from a match after normalisation ("[blank]")."""
        key = " ".join(self.fold(title).lower().split()) if title else ""
        return f"={key}" if key else None


_shared_lock = threading.Lock()
_shared: dict[Path | None, Analyzer] = {}


def default_analyzer(cache_dir: Path | None = None) -> Analyzer:
    """The process's analyzer, with the vocabulary bridge's words in jieba's dictionary: one instance even when
    threads ask at once (constructed under a lock; it loads on first use)."""
    from indexing.bridge import segmenter_words

    with _shared_lock:
        if (analyzer := _shared.get(cache_dir)) is None:
            analyzer = _shared[cache_dir] = Analyzer(segmenter_words(), cache_dir)
    return analyzer
