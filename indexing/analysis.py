"""Text analysis the Elasticsearch server really has.

The integ-test distribution of Elasticsearch ships without the analysis-common module, so the
language analyzers (`english`, `cjk`), `icu_*`, `smartcn`, stemmers and the `cjk_bigram` filter
are absent (tests/integration/test_elasticsearch.py records what exists). What remains: the
`standard` tokenizer (one token per CJK character, words elsewhere) and the `lowercase`, `stop`
and `shingle` filters. From them:

- `wenyuan_zh`: standard + lowercase + shingles of two → CJK unigrams and bigrams (清, 清乾, 乾,
  乾隆 …), a common substitute for a dictionary segmenter; ranking favours adjacent characters.
- `wenyuan_en`: standard + lowercase + English stop words (no stemming is available).
"""

from __future__ import annotations

from typing import Any

ZH_ANALYZER = "wenyuan_zh"
EN_ANALYZER = "wenyuan_en"

ANALYSIS_SETTINGS: dict[str, Any] = {
    "analyzer": {
        ZH_ANALYZER: {"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "wenyuan_bigrams"]},
        EN_ANALYZER: {"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "wenyuan_en_stop"]},
    },
    "filter": {
        "wenyuan_bigrams": {
            "type": "shingle",
            "min_shingle_size": 2,
            "max_shingle_size": 2,
            "output_unigrams": True,
            "token_separator": "",
        },
        "wenyuan_en_stop": {"type": "stop", "stopwords": "_english_"},
    },
}
