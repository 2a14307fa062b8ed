"""Sample batches for demos and tests: a bilingual Chinese set and a Tate set, with generated images.

`samples/bilingual` is a hand-written manifest of Chinese cultural objects (zh, en or both);
`samples/tate` is a selection of Tate collection records (CC0 metadata). Neither ships images:
`python -m samples build` renders deterministic stand-in pictures (`samples.images`) into each
batch's `images/` folder, which git ignores.
"""

from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parent

__all__ = ["SAMPLES_DIR"]
