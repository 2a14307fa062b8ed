"""Enrichment: what Wenyuan derives from the curator's data, on ingestion and on every reindex.

Two stages:

- `derive` (cheap, no models; run by the store step): the normalised period, and the curator's
  category and materials mapped onto the taxonomy (`category_ids`, `material_ids`);
- `Enricher.enrich` (models; the DAG's enrich step and the reindex DAG): the text vector, one vector
  per image, AI labels (indexing/classify.py), OCR text for categories where text matters
  (indexing/ocr.py), then the curators' decisions on labels (indexing/labels.py).

Every vector and label records the model and version that made it (`ai.*`). A reindex reuses a
stored vector only when it was made by the encoder configured now; otherwise it re-embeds.
Failures of one item's image (missing or unreadable derivative) leave that vector empty and are
logged; they never fail the chunk.
"""

from __future__ import annotations

import io
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch
from minio import Minio
from PIL import Image

from indexing.aliases import assets_alias
from indexing.classify import Classifier, Subject
from indexing.encoders import Encoder, image_encoder, text_encoder
from indexing.encoders.base import info
from indexing.labels import apply_decisions, decisions_for
from indexing.ocr import OcrEngine, ocr_engine
from indexing.pages import EMBEDDED_CHARS, page_text, read_pages
from indexing.period_labels import is_dated
from indexing.periods import period_record
from indexing.terms import default_analyzer
from schemas.asset import AIRecord, AssetRecord, EncoderInfo, ImageRecord, LabelKind, SearchTerms
from schemas.taxonomy import category_for, material_ids
from services.settings import Settings
from services.storage import get_bytes

log = logging.getLogger(__name__)

# The text a text vector is made of. The category is left out on purpose: it is what the
# classifier predicts, and it is a facet anyway.
TEXT_FIELDS = ("title_zh", "title_en", "original_title", "description_zh", "description_en", "creator", "period")
TITLE_FIELDS = ("title_zh", "title_en", "original_title")  # the title vector and the title tokens
# The rest of the searchable text, for the text tokens (materials are added as a list).
TERM_TEXT_FIELDS = ("description_zh", "description_en", "creator", "period", "provenance")
OCR_MIN_CONFIDENCE = 0.5  # an AI category label must be at least this sure to send an asset to OCR


def derive(asset: AssetRecord) -> AssetRecord:
    """Fields derived from curator data by vocabularies and text analysis alone (no models)."""
    category = category_for(asset.category)
    return asset.model_copy(update={
        "period_norm": period_record(asset.period, asset.date),
        "category_ids": [category] if category else [],
        "material_ids": material_ids(asset.materials),
        "terms": search_terms(asset),
    })


def search_terms(asset: AssetRecord) -> SearchTerms:
    analyzer = default_analyzer()
    titles = [getattr(asset, name) for name in TITLE_FIELDS]
    texts = [getattr(asset, name) for name in TERM_TEXT_FIELDS] + list(asset.materials) + [page_text(asset)]
    keys = [k for t in titles for k in (analyzer.title_key(t), analyzer.literal_key(t)) if k]
    return SearchTerms(title=analyzer.field(*titles), text=analyzer.field(*texts), title_keys=list(dict.fromkeys(keys)))


def embedding_text(asset: AssetRecord) -> str:
    parts = [getattr(asset, name) for name in TEXT_FIELDS]
    parts.append(" ".join(asset.materials))
    parts.append(page_text(asset, EMBEDDED_CHARS))
    return "\n".join(p for p in parts if p)


def title_text(asset: AssetRecord) -> str:
    """What the title vector is made of: the titles, each on its line ('' when the record has none)."""
    return "\n".join(dict.fromkeys(t for name in TITLE_FIELDS if (t := getattr(asset, name))))


def _load_image(s3: Minio, bucket: str, key: str) -> Image.Image | None:
    try:
        image = Image.open(io.BytesIO(get_bytes(s3, bucket, key)))
        image.load()
        return image
    except Exception as exc:  # one unreadable derivative must not fail the chunk
        log.warning("image not readable for enrichment", extra={"key": key, "error": str(exc)})
        return None


class Enricher:
    """Models and clients of one process; `enrich` takes a chunk of assets at a time."""

    def __init__(self, settings: Settings, es: Elasticsearch | None, s3: Minio | None, *,
                 text: Encoder | None = None, image: Encoder | None = None, ocr: OcrEngine | None = None,
                 use_ocr: bool = True) -> None:
        self.settings = settings
        self.es = es
        self.s3 = s3
        self.text = text or text_encoder(settings.models)
        self.image = image if image is not None else image_encoder(settings.models)
        self._ocr = ocr
        self.use_ocr = use_ocr and settings.models.ocr_engine != "none"
        index = assets_alias(settings.es) if es is not None and es.indices.exists_alias(
            name=assets_alias(settings.es)) else None
        self.classifier = Classifier(self.text, settings.models, settings.search, es, index)
        self.timings: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])  # stage → [seconds, items]

    @contextmanager
    def timed(self, stage: str, items: int) -> Iterator[None]:
        """Accumulate time and item counts per stage (text, image, classify, ocr) for the benchmarks."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage][0] += time.perf_counter() - started
            self.timings[stage][1] += items

    @property
    def encoders(self) -> dict[str, EncoderInfo | None]:
        return {"text": info(self.text), "image": info(self.image) if self.image else None}

    def ocr(self) -> OcrEngine | None:
        if self._ocr is None and self.use_ocr:
            self._ocr = ocr_engine(self.settings.models)
        return self._ocr

    def enrich(self, assets: Sequence[AssetRecord]) -> list[AssetRecord]:
        assets = [derive(self._read_pages(a)) for a in assets]
        if not assets:
            return []
        text_info, image_info = self.encoders["text"], self.encoders["image"]
        text_vectors = [v or [] for v in self._text_vectors(assets, text_info, "text_vector", embedding_text,
                                                            skip_empty=False)]
        title_vectors = self._text_vectors(assets, text_info, "title_vector", title_text)
        images = self._image_vectors(assets, image_info)
        subjects = [Subject(a.asset_id, tv, next((im.vector for im in ims if im.vector), None), is_dated(a.period_norm))
                    for a, tv, ims in zip(assets, text_vectors, images, strict=True)]
        with self.timed("classify", len(subjects)):
            labels = self.classifier.labels(subjects)
        now = datetime.now(UTC)
        out = []
        for asset, vector, title_vector, ims, asset_labels in zip(assets, text_vectors, title_vectors, images, labels,
                                                                  strict=True):
            previous = asset.ai or AIRecord()
            ai = AIRecord(text_encoder=text_info, image_encoder=image_info, labels=asset_labels, enriched_at=now,
                          ocr_text=previous.ocr_text, ocr_engine=previous.ocr_engine,
                          ocr_confidence=previous.ocr_confidence)
            enriched = asset.model_copy(update={"text_vector": vector, "title_vector": title_vector, "images": ims,
                                                "ai": ai})
            out.append(self._read_text(enriched))
        return self._apply_decisions(out)

    def _text_vectors(self, assets: Sequence[AssetRecord], encoder: EncoderInfo | None, field: str,
                      text: Callable[[AssetRecord], str], *, skip_empty: bool = True) -> list[list[float] | None]:
        """One vector of `field` per asset: reused when the same encoder made it, else encoded from `text`
        (None for an asset with no such text, e.g. no title, when `skip_empty`)."""
        same = [bool(a.ai and a.ai.text_encoder == encoder) for a in assets]
        out: list[list[float] | None] = [getattr(a, field) if s and getattr(a, field) else None
                                         for a, s in zip(assets, same, strict=True)]
        todo = [i for i, v in enumerate(out) if v is None and (text(assets[i]) or not skip_empty)]
        with self.timed("text", len(todo)):
            fresh = self.text.encode([text(assets[i]) for i in todo], batch_size=self.settings.models.batch_size)
        for i, vector in zip(todo, fresh, strict=True):
            out[i] = [round(float(x), 6) for x in vector]
        return out

    def _image_vectors(self, assets: Sequence[AssetRecord], encoder: EncoderInfo | None) -> list[list[ImageRecord]]:
        """Each asset's images with their vectors: reused when the same encoder made them, else encoded from the
        preview, `models.batch_size` images per encoder call across the chunk, each group's previews read
        concurrently (`ingest.fetch_threads`)."""
        if self.image is None:  # image vectors turned off
            return [[im.model_copy(update={"vector": None}) for im in a.images] for a in assets]
        out = [list(a.images) for a in assets]
        if self.s3 is None:  # no object storage to read from (tests, tools): keep what the images carry
            return out
        todo = [(i, j) for i, a in enumerate(assets) for j, im in enumerate(a.images)
                if not (im.vector and a.ai is not None and a.ai.image_encoder == encoder)]
        size, s3, bucket = max(1, self.settings.models.batch_size), self.s3, self.settings.s3.bucket_assets
        with ThreadPoolExecutor(max(1, self.settings.ingest.fetch_threads)) as pool:
            for start in range(0, len(todo), size):
                group = todo[start:start + size]
                # The preview (1600 px), not the thumbnail: the same file searched by upload then gives the vector
                # stored here within cosine 0.99 (tests/unit/indexing/test_pixels.py; issue 13).
                loaded = list(pool.map(lambda ij: _load_image(s3, bucket, out[ij[0]][ij[1]].preview_key), group))
                ready = [(ij, image) for ij, image in zip(group, loaded, strict=True) if image is not None]
                for (i, j), image in zip(group, loaded, strict=True):
                    if image is None:
                        out[i][j] = out[i][j].model_copy(update={"vector": None})
                if not ready:
                    continue
                with self.timed("image", len(ready)):
                    vectors = self.image.encode([image for _, image in ready], batch_size=size)
                for ((i, j), _), vector in zip(ready, vectors, strict=True):
                    out[i][j] = out[i][j].model_copy(update={"vector": [round(float(x), 6) for x in vector]})
        return out

    def wants_ocr(self, asset: AssetRecord) -> bool:
        wanted = set(self.settings.models.ocr_categories)
        if wanted & set(asset.category_ids):
            return True
        labels = asset.ai.labels if asset.ai else []
        return any(label.kind is LabelKind.CATEGORY and label.id in wanted and label.confidence >= OCR_MIN_CONFIDENCE
                   for label in labels)

    def _read_pages(self, asset: AssetRecord) -> AssetRecord:
        """OCR of the document pages that have no text layer (indexing/pages.py), before the text is analysed."""
        if not self.use_ocr or self.s3 is None or not any(im.page is not None and im.text is None
                                                            for im in asset.images):
            return asset
        if (engine := self.ocr()) is None:
            return asset
        s3, bucket = self.s3, self.settings.s3.bucket_assets
        return read_pages(asset, engine, lambda key: _load_image(s3, bucket, key), self.settings.models.ocr_max_pages,
                          self.timed)

    def _read_text(self, asset: AssetRecord) -> AssetRecord:
        ai = asset.ai
        if ai is None or not asset.images or not self.use_ocr or not self.wants_ocr(asset):
            return asset
        engine = self.ocr()
        if engine is None or self.s3 is None:
            return asset
        engine_id = f"{engine.name}@{engine.version}"
        if ai.ocr_engine == engine_id and ai.ocr_text is not None:
            return asset  # read before by the same engine: the images are content-addressed, so unchanged
        texts, scores = [], []
        for im in asset.images[: self.settings.models.ocr_max_images]:
            if (image := _load_image(self.s3, self.settings.s3.bucket_assets, im.preview_key)) is not None:
                with self.timed("ocr", 1):
                    result = engine.read(image)
                if result.text:
                    texts.append(result.text)
                    scores.append(result.confidence)
        update: dict[str, Any] = {"ocr_text": "\n".join(texts) or None, "ocr_engine": engine_id,
                                  "ocr_confidence": round(sum(scores) / len(scores), 4) if scores else None}
        return asset.model_copy(update={"ai": ai.model_copy(update=update)})

    def _apply_decisions(self, assets: list[AssetRecord]) -> list[AssetRecord]:
        if self.es is None:
            return assets
        decisions = decisions_for(self.es, self.settings.es, [a.asset_id for a in assets])
        return [apply_decisions(a, decisions.get(a.asset_id, [])) for a in assets]

    def enrich_documents(self, docs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """The transform of a reindex: stored documents, validated against today's schema and re-enriched."""
        assets = self.enrich([AssetRecord.model_validate(d) for d in docs])
        return [a.model_dump(mode="json") for a in assets]
