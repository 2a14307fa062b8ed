"""Does a query read as words? A linear probe over the text encoder's query vector decides the gate.

Why: a gate on the best fused score (FusionSettings.gate) turned nonsense away, but also real queries whose
best match is weak — on the Tate subjects dev set it cost 0.2 of hit@10 against the raw model — and no score
of the legs separates the two (docs/BENCHMARKS.md, "It is the gate"). What does separate them is the query
itself: a query that matched no term of the collection in either language (its keyword and bridge legs are
empty) and that reads as a non-word ("xqzv blorf", keyboard runs, digit strings) answers nothing; every other
query is ranked down to the floor. Where the configured text encoder has no probe, the fused-score gate
applies as before.

The probe is a logistic regression on the encoder's (L2-normalised) vectors, built by
`python -m indexing.query_sense` for the configured text encoder: 4,000 simplified headwords and 4,000 short
English glosses of CC-CEDICT (words) against 8,000 generated non-words (pseudo-syllables, random letters,
keyboard runs, one character repeated, digit strings, katakana runs), seed fixed. Its weights are kept in
indexing/vocab/nonword-probe.<encoder>.json with the encoder's name and version; being derived from CC-CEDICT
they are under its licence (CC BY-SA 4.0, indexing/vocab/CC-CEDICT-LICENCE.txt).
"""

from __future__ import annotations

import gzip
import json
import math
import random
import string
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from schemas.asset import EncoderInfo

if TYPE_CHECKING:
    from indexing.encoders.base import Encoder
    from indexing.fusion import LegHit
    from services.settings import FusionSettings

VOCAB = Path(__file__).parent / "vocab"
CEDICT = VOCAB / "cc-cedict.txt.gz"
LEXICAL_LEGS = ("keyword", "bridge")
SEED = 20261202
PER_CLASS = 4000  # words per language; non-words are twice as many


@dataclass(frozen=True)
class NonwordProbe:
    encoder: str
    version: str
    weights: np.ndarray
    bias: float

    def probability(self, vector: Sequence[float] | np.ndarray) -> float:
        """How likely the query whose vector this is is a non-word (0–1)."""
        z = float(np.dot(self.weights, np.asarray(vector, dtype=np.float64))) + self.bias
        return 1.0 / (1.0 + math.exp(-z))


def probe_path(encoder: str) -> Path:
    return VOCAB / f"nonword-probe.{encoder.replace(':', '_').replace('/', '_')}.json"


def probe_for(encoder: EncoderInfo) -> NonwordProbe | None:
    """The probe built for this encoder's name and version, if there is one (read once per process)."""
    return _probe(encoder.name, encoder.version, encoder.dimension)


@cache
def _probe(name: str, version: str, dimension: int) -> NonwordProbe | None:
    path = probe_path(name)
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    if data["version"] != version or len(data["weights"]) != dimension:
        return None
    return NonwordProbe(data["encoder"], data["version"], np.array(data["weights"], dtype=np.float64),
                        float(data["bias"]))


def gate(legs: Mapping[str, Sequence[LegHit]], vector: Sequence[float] | np.ndarray, encoder: EncoderInfo,
         fusion: FusionSettings) -> float | None:
    """The gate fusion applies to this query: None (the floor) when a term matched or the query reads as words,
    infinity (nothing) when it reads as a non-word, the fused-score gate when the encoder has no probe."""
    if any(legs.get(leg) for leg in LEXICAL_LEGS):
        return None
    probe = probe_for(encoder)
    if probe is None:
        return fusion.gate
    return math.inf if probe.probability(vector) >= fusion.nonword else None


# -- building the probe ------------------------------------------------------------------------------

def _words(rng: random.Random) -> list[str]:
    zh, en = set(), set()
    with gzip.open(CEDICT, "rt", encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            _, simplified, rest = line.split(" ", 2)
            if 1 <= len(simplified) <= 6:
                zh.add(simplified)
            for gloss in rest.split("/")[1:-1]:
                gloss = gloss.split("(")[0].strip()
                if (gloss.isascii() and 1 <= len(gloss.split()) <= 4
                        and not gloss.startswith(("CL:", "variant", "old variant", "surname", "see "))):
                    en.add(gloss)
    return rng.sample(sorted(zh), PER_CLASS) + rng.sample(sorted(en), PER_CLASS)


def _nonwords(rng: random.Random) -> list[str]:
    vowels, consonants = "aeiou", "bcdfghjklmnpqrstvwxyz"
    rows = ["qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890"]
    han = [chr(c) for c in range(0x4E00, 0x9FA5)]

    def several(make: Callable[[], str]) -> str:
        return " ".join(make() for _ in range(rng.randint(1, 3)))

    def syllables() -> str:
        return "".join(rng.choice(consonants) + rng.choice(vowels) + (rng.choice(consonants) if rng.random() < .5
                                                                         else "") for _ in range(rng.randint(1, 3)))

    def letters() -> str:
        return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 10)))

    def keyboard() -> str:
        row = rng.choice(rows)
        start = rng.randint(0, len(row) - 3)
        return row[start:start + rng.randint(3, len(row) - start)]

    def repeated() -> str:
        return rng.choice(han + list(string.ascii_lowercase)) * rng.randint(3, 7)

    def digits() -> str:
        return " ".join(str(rng.randint(0, 10 ** rng.randint(1, 6))) for _ in range(rng.randint(1, 3)))

    def katakana() -> str:
        return "".join(chr(rng.randint(0x30A1, 0x30F6)) for _ in range(rng.randint(2, 6)))

    makers: list[Callable[[], str]] = [lambda: several(syllables), lambda: several(letters), keyboard, repeated,
                                       digits, katakana]
    return [rng.choice(makers)() for _ in range(2 * PER_CLASS)]


def build(encoder: Encoder, about: EncoderInfo) -> dict[str, object]:
    """Train the probe for an encoder (words vs generated non-words) and return what probe_for reads."""
    from sklearn.linear_model import LogisticRegression  # at build time only

    rng = random.Random(SEED)
    words, nonwords = _words(rng), _nonwords(rng)
    x = np.asarray(encoder.encode(words + nonwords, batch_size=256), dtype=np.float64)
    y = np.r_[np.zeros(len(words)), np.ones(len(nonwords))]
    model = LogisticRegression(C=1.0, max_iter=3000).fit(x, y)
    return {"encoder": about.name, "version": about.version, "dimension": about.dimension,
            "bias": round(float(model.intercept_[0]), 6), "weights": [round(float(w), 6) for w in model.coef_[0]],
            "training": {"words": len(words), "nonwords": len(nonwords), "seed": SEED, "C": 1.0,
                         "accuracy": round(float(model.score(x, y)), 4)},
            "licence": "Derived from CC-CEDICT (CC BY-SA 4.0, https://cc-cedict.org/): see CC-CEDICT-LICENCE.txt"}


def main() -> None:
    from indexing.encoders import text_encoder
    from indexing.encoders.base import info
    from services.settings import get_settings

    encoder = text_encoder(get_settings().models)
    about = info(encoder)
    data = build(encoder, about)
    path = probe_path(about.name)
    path.write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{path}: {data['training']}", file=sys.stderr)


if __name__ == "__main__":
    main()
