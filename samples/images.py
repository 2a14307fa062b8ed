"""Deterministic stand-in images for the sample batches.

`render(record_id, kind, title)` draws a plausible picture of an object kind (a vessel, a
landscape, a calligraphy sheet, a coin, a seal, …, or an abstract composition for Western art);
`build(batch_dir)` reads the batch's manifest and writes every media file it lists.

Determinism: the picture depends only on the record (id, kind, title, size), the media file
(path, label) and this package's source. The object is drawn by a random generator seeded from a
hash of the record, so every view of a record shows the same object; what differs between views
(crop, framing, light) is seeded from a hash of the record id and the media path. PNG files carry
no timestamp. Each written file holds a `wenyuan-sample` key (a PNG text chunk, a JPEG comment)
so `build` can skip a file that is already right without drawing it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import random
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import PIL
from PIL import Image, ImageEnhance, PngImagePlugin

from samples import _objects, _paint, _vessels, _western
from schemas.columns import field_for, is_empty

SIZE = (800, 600)
KEY_FIELD = "wenyuan-sample"
JPEG_QUALITY = 85
SUFFIXES = (".png", ".jpg", ".jpeg")

# 类别 (survey names, with or without 、) and Tate classifications → a renderer kind
CATEGORY_KINDS: dict[str, str] = {
    "瓷器": "porcelain", "陶器": "pottery", "铜器": "bronze", "玉石器宝石": "jade", "金银器": "gold-silver",
    "铁器其他金属器": "iron", "漆器": "lacquer", "雕塑造像": "figure", "石器石刻砖瓦": "figure",
    "书法绘画": "painting", "文具": "scholar", "甲骨": "oracle-bone", "玺印符牌": "seal", "钱币": "coin",
    "牙骨角器": "carving", "竹木雕": "carving", "家具": "furniture", "珐琅器": "enamel", "织绣": "textile",
    "古籍图书": "book", "碑帖拓本": "rubbing", "玻璃器": "glass", "乐器法器": "bronze", "武器": "iron",
    "档案文书": "calligraphy", "文件宣传品": "book",
    "painting": "western-painting", "on paper, unique": "western-drawing", "on paper, print": "western-print",
    "sculpture": "western-sculpture", "relief": "western-relief", "block for printing": "western-block",
    "installation": "western-installation", "time-based media": "western-installation",
    "supporting material": "western-drawing",
}
CALLIGRAPHY_TITLE = re.compile(r"书|帖|诗|对联|联|千字文|calligraphy|script|couplet|poem", re.IGNORECASE)
BACK_VIEWS = {"背面", "反面", "背", "back", "reverse", "verso", "底部", "底", "base"}
DETAIL_VIEWS = {"局部", "细部", "特写", "detail", "close-up", "closeup"}
MAIN_VIEWS = {"", "正面", "主图", "front", "main", "obverse", "recto"}

Renderer = Callable[..., Image.Image]
RENDERERS: dict[str, Renderer] = {
    "painting": _objects.render_painting, "calligraphy": _objects.render_calligraphy,
    "rubbing": _objects.render_rubbing, "book": _objects.render_book, "oracle-bone": _objects.render_oracle_bone,
    "coin": _objects.render_coin, "seal": _objects.render_seal, "textile": _objects.render_textile,
    "figure": _objects.render_figure, "furniture": _objects.render_furniture, "scholar": _objects.render_scholar,
}
VESSEL_KINDS = frozenset(_vessels.KIND_STYLES)
KINDS = tuple(sorted({*RENDERERS, *VESSEL_KINDS, *(k for k in CATEGORY_KINDS.values() if k.startswith("western-"))}))


def kind_for(category: str | None, title: str | None = None) -> str:
    """The renderer kind for a record's category (类别 or a Tate classification) and title."""
    key = re.sub(r"[、,，\s]+", "", category or "").casefold()
    kind = next((k for c, k in CATEGORY_KINDS.items() if re.sub(r"[、,，\s]+", "", c).casefold() == key), None)
    if kind == "painting" and title and CALLIGRAPHY_TITLE.search(title):
        return "calligraphy"
    if kind:
        return kind
    if title and re.search(r"[\u4e00-\u9fff]", title):
        return "figure"
    return "western-painting"


def _seed(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:8], "big")


def render(record_id: str, kind: str, title: str | None, size: tuple[int, int] = SIZE, view: str | None = None,
           path: str = "") -> Image.Image:
    """The stand-in picture of one object.

    The object (shape, colours, composition) is seeded by the record alone, so every view shows
    the same object; `view` is the media label and `path` the file: a back view (背面, back) is the
    object turned round, a detail (局部, detail) a close crop, and any other non-main view a slightly
    reframed, relit shot, seeded by the record id and the path."""
    label = (view or "").strip().casefold()
    if label in DETAIL_VIEWS:  # the object drawn at twice the size, a window of it at full resolution
        big = render(record_id, kind, title, (size[0] * 2, size[1] * 2))
        crop_rng = random.Random(_seed(record_id, path, label))
        x0 = round(crop_rng.uniform(size[0] * 0.3, size[0] * 0.7))
        y0 = round(crop_rng.uniform(size[1] * 0.3, size[1] * 0.7))
        return big.crop((x0, y0, x0 + size[0], y0 + size[1]))
    rng = random.Random(_seed(record_id, kind, title or ""))
    back = label in BACK_VIEWS
    if kind.startswith("western-"):
        image = _western.render_western(rng, size, kind.removeprefix("western-"), back=back)
    elif kind in VESSEL_KINDS:
        image = _vessels.render_vessel(rng, size, kind, title, back=back)
    else:
        image = RENDERERS.get(kind, _objects.render_figure)(rng, size, title, back=back)
    if label in MAIN_VIEWS or back:
        return image
    view_rng = random.Random(_seed(record_id, path, label))  # another shot: reframed and relit
    w, h = size
    zoom = view_rng.uniform(0.8, 0.92)
    x0, y0 = view_rng.uniform(0, w - w * zoom), view_rng.uniform(0, h - h * zoom)
    image = image.resize(size, Image.Resampling.BILINEAR, box=(x0, y0, x0 + w * zoom, y0 + h * zoom))
    return ImageEnhance.Brightness(image).enhance(view_rng.uniform(0.85, 1.1))


@lru_cache(maxsize=1)
def _code_version() -> str:
    digest = hashlib.sha256(PIL.__version__.encode())
    for module in (_paint, _objects, _vessels, _western):
        digest.update(Path(str(module.__file__)).read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:16]


def render_key(record_id: str, kind: str, title: str | None, path: str, view: str | None,
               size: tuple[int, int] = SIZE) -> str:
    """What a file's content depends on: the record, the view, the size and the generator's code."""
    parts = [_code_version(), record_id, kind, title or "", path, view or "", f"{size[0]}x{size[1]}"]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def encode(image: Image.Image, suffix: str, key: str | None = None) -> bytes:
    """PNG (no timestamp) or JPEG (quality 85) bytes, tagged with the render key."""
    out = io.BytesIO()
    if suffix.lower() in (".jpg", ".jpeg"):
        image.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY, optimize=True,
                                  comment=f"{KEY_FIELD}={key}" if key else "")
    else:
        info = PngImagePlugin.PngInfo()
        if key:
            info.add_text(KEY_FIELD, key)
        image.save(out, "PNG", pnginfo=info, compress_level=6)
    return out.getvalue()


def file_key(path: Path) -> str | None:
    """The render key a generated file carries, or None (missing, damaged or not ours)."""
    try:
        with Image.open(path) as im:
            if im.format == "PNG":
                key = im.info.get(KEY_FIELD)
            else:
                comment = im.info.get("comment", b"")
                text = comment.decode("ascii", "replace") if isinstance(comment, bytes) else str(comment)
                key = text.removeprefix(f"{KEY_FIELD}=") if text.startswith(f"{KEY_FIELD}=") else None
            im.verify()  # reads every chunk/segment: a truncated file fails here
        return key if isinstance(key, str) else None
    except (OSError, SyntaxError, ValueError):
        return None


@dataclass(frozen=True)
class Job:
    record_id: str
    kind: str
    title: str | None
    path: str
    view: str | None


def manifest_path(batch_dir: Path) -> Path:
    """The batch's manifest: manifest.csv / manifest.jsonl, else the only .csv or .jsonl file."""
    for name in ("manifest.csv", "manifest.jsonl"):
        if (batch_dir / name).is_file():
            return batch_dir / name
    found = sorted(p for p in batch_dir.iterdir() if p.suffix.lower() in (".csv", ".jsonl", ".ndjson"))
    if len(found) != 1:
        raise FileNotFoundError(f"{batch_dir}: expected one manifest (.csv or .jsonl), found {len(found)}")
    return found[0]


def _rows(manifest: Path) -> Iterator[dict[str, object]]:
    """Manifest rows with their headers mapped to field names (unknown columns dropped)."""
    if manifest.suffix.lower() == ".csv":
        with manifest.open(encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(f):
                yield {field: v for k, v in row.items() if (field := field_for(k or "")) and not is_empty(v)}
    else:
        with manifest.open(encoding="utf-8-sig") as f:
            for line in f:
                if line.strip():
                    obj = json.loads(line)
                    yield {field: v for k, v in obj.items() if (field := field_for(k)) and v not in (None, "")}


def _media(value: object) -> list[tuple[str, str | None]]:
    """(path, label) pairs from a media cell ('path|label; path|label') or a JSON list."""
    if isinstance(value, str):
        refs = []
        for part in value.split(";"):
            if part.strip():
                path, _, label = part.partition("|")
                refs.append((path.strip(), label.strip() or None))
        return refs
    if isinstance(value, list):
        return [(v, None) if isinstance(v, str) else (str(v["path"]), v.get("label")) for v in value]
    return []


def jobs(batch_dir: Path) -> list[Job]:
    """One job per media file the manifest lists (a path listed twice is drawn once, for its first row)."""
    out: dict[str, Job] = {}
    for row in _rows(manifest_path(batch_dir)):
        record_id = str(row.get("object_id", "")).strip()
        title = str(row.get("title_zh") or row.get("title_en") or "").strip() or None
        category = row.get("category")
        kind = kind_for(str(category) if category else None, title)
        for path, label in _media(row.get("media")):
            path = path.replace("\\", "/")
            if Path(path).suffix.lower() not in SUFFIXES:
                raise ValueError(f"{record_id}: cannot draw {path!r}; media files must end in {', '.join(SUFFIXES)}")
            out.setdefault(path, Job(record_id, kind, title, path, label))
    return list(out.values())


def _write(batch_dir: Path, job: Job) -> bool:
    """Render and write one file unless it is already there with the right key; True if written."""
    target = batch_dir / job.path
    key = render_key(job.record_id, job.kind, job.title, job.path, job.view)
    if target.is_file() and file_key(target) == key:
        return False
    image = render(job.record_id, job.kind, job.title, SIZE, view=job.view, path=job.path)
    data = encode(image, target.suffix, key)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(target)
    return True


def _write_many(batch_dir: Path, chunk: list[Job]) -> int:
    return sum(_write(batch_dir, job) for job in chunk)


def build(batch_dir: Path, workers: int | None = None) -> int:
    """Render every media file the batch's manifest lists; returns how many files the manifest lists.
    Files already present with the right content are left alone, so a rerun is cheap."""
    return build_batch(batch_dir, workers)[0]


def build_batch(batch_dir: Path, workers: int | None = None) -> tuple[int, int]:
    """`build`, returning (files listed, files written)."""
    batch_dir = Path(batch_dir)
    todo = jobs(batch_dir)
    for job in todo:
        resolved = (batch_dir / job.path).resolve()
        if not resolved.is_relative_to(batch_dir.resolve()):
            raise ValueError(f"media path {job.path!r} of {job.record_id} leaves the batch folder")
    workers = workers if workers is not None else min(os.cpu_count() or 1, 8)
    if workers <= 1 or len(todo) < 16:
        return len(todo), _write_many(batch_dir, todo)
    chunks = [todo[i::workers * 4] for i in range(workers * 4)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return len(todo), sum(pool.map(_write_many, [batch_dir] * len(chunks), chunks))
