"""The mixed-media sample batch (samples/media/batch): a book with a text layer, a scanned receipt, an album as a
multi-page TIFF, an oral history, a performance recording and two 3D scans — made here, never downloaded.

`build_batch(batch_dir)` writes the files its manifest lists that are not there yet, with the same builders the
tests use (samples/mediafiles: PDFs in plain PDF syntax, TIFF pages with Pillow, audio and video encoded by PyAV,
meshes by trimesh). Files already present are kept: ingestion is content-addressed, so an identical rebuild and a
kept file ingest alike.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from samples.images import render
from samples.mediafiles import av, documents, models

BOOK = [
    "天工开物 卷上 乃粒 宋应星著 凡稻种最多 Tiangong Kaiwu, on grains: of rice there are many kinds",
    "天工开物 卷中 陶埏 凡白土曰垩土 为陶家精美器用 On pottery: white clay makes the finest wares",
    "天工开物 卷下 冶铸 凡铸钱每十斤 红铜居六七 On casting: copper and tin for coins and bells",
]

MAKERS: dict[str, Callable[[Path], Path]] = {
    "files/tiangong-kaiwu.pdf": lambda p: documents.pdf_with_text(p, BOOK),
    "files/receipt-scan.pdf": lambda p: documents.scanned_pdf(p, ["收据 大同商号 银圆叁拾元"]),
    "files/album.tif": lambda p: documents.multipage_tiff(p, ["山水 第一开", "花鸟 第二开", "书法 第三开"]),
    "files/oral-history.mp3": lambda p: av.mp3(p, 12.0),
    "files/kunqu.mp4": lambda p: av.mp4(p, 6.0, size=(640, 360)),
    "files/celadon-vase.glb": lambda p: models.vessel(p, "glb", sections=96),
    "files/bronze-ding.obj": lambda p: models.vessel(p, "obj", sections=64),
    "files/bronze-ding.jpg": lambda p: _photo(p, "WY-MM-0007", "铜鼎"),
}


def _photo(path: Path, record_id: str, title: str) -> Path:
    render(record_id, "bronze", title).convert("RGB").save(path, "JPEG", quality=85)
    return path


def build_batch(batch_dir: Path) -> tuple[int, int]:
    """(files listed, files written now)."""
    written = 0
    for name, make in MAKERS.items():
        target = batch_dir / name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".partial-{target.name}")  # a build cut short leaves no half file behind
            make(partial)
            partial.rename(target)
            written += 1
    return len(MAKERS), written
