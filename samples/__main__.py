"""Command line: `python -m samples build [BATCH_DIR ...]` makes the files the sample batches list.

Without arguments it builds every sample batch (samples/bilingual, samples/tate, samples/media) in place;
files already present (with the right content, for the images) are skipped.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from samples import build_sample

SAMPLES = Path(__file__).resolve().parent
BATCHES = (SAMPLES / "bilingual" / "batch", SAMPLES / "tate" / "batch", SAMPLES / "media" / "batch")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m samples", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("build", help="make the files the sample manifests list")
    cmd.add_argument("batches", nargs="*", type=Path, help="batch folders (default: every sample batch)")
    cmd.add_argument("--workers", type=int, default=None, help="processes (default: the CPU count, at most 8)")
    args = parser.parse_args(argv)
    for batch in args.batches or BATCHES:
        started = time.perf_counter()
        listed, written = build_sample(batch, workers=args.workers)
        made = [batch / name for name in ("images", "files") if (batch / name).is_dir()]
        size = sum(p.stat().st_size for folder in made for p in folder.rglob("*") if p.is_file())
        print(f"{batch.parent.name}: {listed} files listed, {written} made, {listed - written} already there; "
              f"{size / 1e6:.1f} MB; {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
