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


def make_inscription(path: Path, text: str, *, size: int = 72) -> Path:
    """Black characters on paper-white: an image whose text OCR should read back."""
    from samples._paint import font

    im = Image.new("RGB", (size * (len(text) + 2), size * 3), (245, 240, 225))
    ImageDraw.Draw(im).text((size, size), text, font=font(size), fill=(10, 10, 10))
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path)
    return path


def build_tiny_clip(folder: Path) -> Path:
    """A CLIP model small enough to build in a test (random weights, 16-d, byte-level vocabulary), saved
    as a transformers folder that sentence-transformers loads like any hub CLIP."""
    import json

    import torch
    from transformers import CLIPConfig, CLIPModel, CLIPProcessor, CLIPTokenizer
    from transformers.models.clip import CLIPImageProcessorPil

    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars = [chr(b) for b in printable] + [chr(256 + n) for n in range(256 - len(printable))]  # GPT-2 byte map
    vocab = {c: i for i, c in enumerate(chars)} | {c + "</w>": 256 + i for i, c in enumerate(chars)}
    bos, eos = len(vocab), len(vocab) + 1
    vocab |= {"<|startoftext|>": bos, "<|endoftext|>": eos}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    tokenizer = CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))
    images = CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    torch.manual_seed(0)
    layers = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2}
    config = CLIPConfig(text_config=layers | {"vocab_size": len(vocab), "max_position_embeddings": 77,
                                              "bos_token_id": bos, "eos_token_id": eos, "pad_token_id": eos},
                        vision_config=layers | {"image_size": 32, "patch_size": 8}, projection_dim=16)
    CLIPModel(config).save_pretrained(folder)
    CLIPProcessor(image_processor=images, tokenizer=tokenizer).save_pretrained(folder)
    return folder


def image_record(path: Path, vector: list[float] | None) -> dict[str, object]:
    """An ImageRecord (JSON) for a local picture, as if stored: for tests that index assets directly."""
    import imagehash

    im = Image.open(path)
    return {"sha256": path.stem.ljust(64, "0"), "key": f"k/{path.name}", "path": path.name, "format": im.format,
            "mime": Image.MIME.get(im.format or "", "image/jpeg"), "width": im.width, "height": im.height,
            "mode": im.mode, "size_bytes": path.stat().st_size, "phash": str(imagehash.phash(im.convert("RGB"))),
            "thumbnail_key": f"t/{path.name}", "preview_key": f"p/{path.name}", "vector": vector}


def stored_image(n: int, **overrides: object) -> dict[str, object]:
    """An ImageRecord (JSON) of an image that is indexed but not stored: for tests about records, not files."""
    record: dict[str, object] = {"sha256": f"{n:064x}", "key": f"o/{n}", "path": f"{n}.jpg", "format": "JPEG",
                                 "mime": "image/jpeg", "width": 800, "height": 600, "mode": "RGB", "size_bytes": 1000,
                                 "phash": "0" * 16, "thumbnail_key": f"t/{n}", "preview_key": f"p/{n}"}
    return record | overrides
