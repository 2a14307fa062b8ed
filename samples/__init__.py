"""Sample batches for demos and tests: a bilingual Chinese set, a Tate set and a mixed-media set, with generated
files.

`samples/bilingual` is a hand-written manifest of Chinese cultural objects (zh, en or both);
`samples/tate` is a selection of Tate collection records (CC0 metadata); `samples/media` holds documents,
recordings and 3D models. None ships its files: `python -m samples build` renders deterministic stand-in pictures
(`samples.images`) into each image batch's `images/` folder and makes the media batch's files (`samples.media`)
in its `files/` folder, which git ignores.
"""

from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parent

__all__ = ["SAMPLES_DIR", "build_sample"]


def build_sample(batch_dir: Path, workers: int | None = None) -> tuple[int, int]:
    """Make the files a sample batch's manifest lists → (files listed, files made now)."""
    if Path(batch_dir).resolve() == SAMPLES_DIR / "media" / "batch":
        from samples.media import build_batch as build_media

        return build_media(Path(batch_dir))
    from samples.images import build_batch

    return build_batch(batch_dir, workers=workers)
