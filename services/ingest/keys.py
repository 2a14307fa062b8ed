"""Every object key of a batch, in one naming scheme.

A batch's objects live in three buckets: what the museum uploaded (staging: `<batch>/manifest/…`,
`<batch>/files/<path>`), the pipeline's own records (reports: `batches/<batch>/…`) and the files it
refused (quarantine: `<batch>/…`). Within the work folder each chunk `n` has one key per step:

    chunk-00001.jsonl         prepare: the valid rows of the chunk
    result-00001.jsonl        store: per row, the stored document or the rejection
    enriched-00001.jsonl      enrich: the enriched documents
    enriched-00001.encoders.json   enrich: the encoders that made their vectors
    indexed-00001.json        index: what was indexed and what failed
    models/00001.json         enrich: seconds per model stage
    progress/00001.json       each step: the chunk's stored, enriched, indexed counts

Keys are built here and nowhere else; a task receives a chunk's key through XCom and finds the
chunk's other keys with `ChunkKeys.of(key)`.
"""

from __future__ import annotations

from dataclasses import dataclass

_STEPS = ("chunk", "result", "enriched", "indexed")


@dataclass(frozen=True)
class BatchKeys:
    """The keys of one batch that are not a chunk's."""

    batch_id: str

    @property
    def record(self) -> str:
        return f"batches/{self.batch_id}/batch.json"

    def work(self, name: str = "") -> str:
        return f"batches/{self.batch_id}/work/{name}"

    def report(self, fmt: str = "json") -> str:
        return f"batches/{self.batch_id}/report.{fmt}"

    @property
    def rejected(self) -> str:
        """Rows and files refused by prepare."""
        return self.work("rejected.jsonl")

    @property
    def warnings(self) -> str:
        """Valid rows' warnings (a date not understood), by row; finalize adds them to the report."""
        return self.work("warnings.jsonl")

    @property
    def chunk_prefix(self) -> str:
        return self.work("chunk-")

    def progress(self, part: str = "") -> str:
        """A chunk's per-stage counts (services/ingest/progress.py); without `part`, their prefix."""
        return self.work(f"progress/{part}.json" if part else "progress/")

    def stats(self, step: str, name: str) -> str:
        return self.work(f"stats/{step}-{name}.json")

    def manifest(self, name: str = "") -> str:
        return f"{self.batch_id}/manifest/{name}"

    def staged(self, path: str = "") -> str:
        return f"{self.batch_id}/files/{path}"

    @property
    def quarantine_report(self) -> str:
        return f"{self.batch_id}/report.json"

    def chunk(self, number: int) -> ChunkKeys:
        return ChunkKeys(self.batch_id, f"{number:05d}")


@dataclass(frozen=True)
class ChunkKeys:
    """The keys of one chunk of a batch, one per step; `part` is its zero-padded number."""

    batch_id: str
    part: str

    @classmethod
    def of(cls, key: str) -> ChunkKeys:
        """The chunk that any of its step keys belongs to (`batches/<b>/work/result-00042.jsonl` → 00042)."""
        prefix, _, name = key.rpartition("/")
        step, _, rest = name.partition("-")
        batch_id = prefix.removeprefix("batches/").removesuffix("/work")
        if step not in _STEPS or not prefix.startswith("batches/") or not prefix.endswith("/work"):
            raise ValueError(f"not a chunk key: {key!r}")
        return cls(batch_id, rest.split(".", 1)[0])

    @property
    def batch(self) -> BatchKeys:
        return BatchKeys(self.batch_id)

    def _work(self, step: str, ext: str = "jsonl") -> str:
        return self.batch.work(f"{step}-{self.part}.{ext}")

    @property
    def chunk(self) -> str:
        return self._work("chunk")

    @property
    def result(self) -> str:
        return self._work("result")

    @property
    def enriched(self) -> str:
        return self._work("enriched")

    @property
    def encoders(self) -> str:
        return self._work("enriched", "encoders.json")

    @property
    def indexed(self) -> str:
        return self._work("indexed", "json")

    @property
    def models(self) -> str:
        return self.batch.work(f"models/{self.part}.json")


EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "TIFF": ".tif", "WEBP": ".webp", "GIF": ".gif", "BMP": ".bmp",
              "JPEG2000": ".jp2", "PDF": ".pdf", "MP4": ".mp4", "MOV": ".mov", "WEBM": ".webm", "MKV": ".mkv",
              "AVI": ".avi", "MP3": ".mp3", "WAV": ".wav", "FLAC": ".flac", "OGG": ".ogg", "M4A": ".m4a",
              "GLB": ".glb", "GLTF": ".gltf", "OBJ": ".obj", "PLY": ".ply", "STL": ".stl"}


@dataclass(frozen=True)
class AssetKeys:
    """Where a batch's files end up in the assets bucket: content-addressed under the institution, so an
    identical file is stored once whichever batch brings it, and a rerun writes nothing new."""

    institution: str

    def original(self, sha256: str, image_format: str) -> str:
        return f"{self.institution}/originals/{sha256[:2]}/{sha256}{EXTENSIONS.get(image_format, '')}"

    def derivative(self, sha256: str, name: str) -> str:
        return f"{self.institution}/derivatives/{sha256}/{name}.jpg"

    def media_derivative(self, sha256: str, name: str, suffix: str) -> str:
        """A document's, recording's or 3D model's web file: poster.jpg, rendition.mp4, model.glb, text.txt…"""
        return f"{self.institution}/derivatives/{sha256}/{name}{suffix}"
