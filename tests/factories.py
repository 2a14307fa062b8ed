"""Small factories for tests: images, batch folders and manifests made on the spot."""

from __future__ import annotations

import csv
import random
import struct
import zlib
from pathlib import Path

from PIL import Image, ImageDraw

HEADER = ["文物编号", "名称", "英文名称", "许可", "图像", "年代", "类别"]


def make_image(path: Path, *, seed: int = 0, size: tuple[int, int] = (640, 480), fmt: str | None = None) -> Path:
    """A small picture that differs per seed (shapes and colours), so each has its own hash."""
    rng = random.Random(seed)
    im = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(im)
    for _ in range(6):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        draw.ellipse((x, y, x + rng.randrange(40, 300), y + rng.randrange(40, 300)),
                     fill=tuple(rng.randrange(256) for _ in range(3)))
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, format=fmt or ("JPEG" if path.suffix.lower() in {".jpg", ".jpeg"} else "PNG"))
    return path


def make_bomb_png(path: Path, width: int = 20_000, height: int = 20_000) -> Path:
    """A valid 1-bit PNG of width×height that compresses to a few kilobytes: a decompression bomb."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return path


def write_manifest(folder: Path, rows: list[list[str]], header: list[str] | None = None) -> Path:
    """A CSV manifest; the header defaults to as many columns of HEADER as the rows have."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "manifest.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header or HEADER[: len(rows[0]) if rows else len(HEADER)])
        writer.writerows(rows)
    return path


def good_rows(n: int, *, prefix: str = "OBJ", start: int = 0) -> list[list[str]]:
    return [[f"{prefix}-{i:04d}", f"青花瓷瓶{i}", f"Blue and white vase {i}", "CC0",
             f"images/{prefix}-{i:04d}.jpg|正面", "清乾隆", "瓷器"] for i in range(start, start + n)]


def make_good_batch(folder: Path, n: int, *, prefix: str = "OBJ", seed: int = 0) -> Path:
    rows = good_rows(n, prefix=prefix)
    for i, row in enumerate(rows):
        make_image(folder / row[4].split("|")[0], seed=seed * 100_000 + i)
    write_manifest(folder, rows)
    return folder


def make_asset(**overrides: object) -> dict[str, object]:
    """An asset document as the index stores it (schemas.asset.AssetRecord, JSON mode)."""
    from datetime import UTC, datetime

    from schemas.asset import AssetRecord, asset_id_for

    fields: dict[str, object] = {"object_id": "OBJ-1", "title_zh": "青花瓷瓶", "title_en": "Blue and white vase",
                                 "licence": "CC0", "institution": "test-museum", "batch_id": "b-1",
                                 "period": "清乾隆", "ingested_at": datetime.now(UTC)}
    fields |= overrides
    fields.setdefault("asset_id", asset_id_for(str(fields["institution"]), str(fields["object_id"])))
    return AssetRecord.model_validate(fields).model_dump(mode="json")
