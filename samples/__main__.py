"""Command line: `python -m samples build [BATCH_DIR ...]` renders the sample batches' images.

Without arguments it builds both sample batches (samples/bilingual and samples/tate) in place;
files already present with the right content are skipped.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from samples.images import build_batch

SAMPLES = Path(__file__).resolve().parent
BATCHES = (SAMPLES / "bilingual" / "batch", SAMPLES / "tate" / "batch")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m samples", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("build", help="render the images the sample manifests list")
    cmd.add_argument("batches", nargs="*", type=Path, help="batch folders (default: both sample batches)")
    cmd.add_argument("--workers", type=int, default=None, help="processes (default: the CPU count, at most 8)")
    args = parser.parse_args(argv)
    for batch in args.batches or BATCHES:
        started = time.perf_counter()
        listed, written = build_batch(batch, workers=args.workers)
        images = batch / "images"
        size = sum(p.stat().st_size for p in images.rglob("*") if p.is_file()) if images.is_dir() else 0
        print(f"{batch.name}: {listed} files listed, {written} drawn, {listed - written} already right; "
              f"images/ holds {size / 1e6:.1f} MB; {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
