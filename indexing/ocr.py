"""OCR of images where the text matters (calligraphy, rubbings, documents, inscriptions): RapidOCR.

RapidOCR runs PP-OCRv4 (Chinese and English) through ONNX Runtime with the weights in its wheel.
Which categories are read is configured in Settings.models.ocr_categories; the text goes to the
asset's `ai.ocr_text`, searchable in Chinese, and is kept apart from curator fields.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from importlib.metadata import version
from typing import Protocol

from PIL import Image

from services.settings import ModelSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OcrResult:
    text: str  # lines in reading order (top to bottom, then left to right), joined by newlines
    confidence: float  # mean recognition score of the kept lines; 0.0 when nothing was read


class OcrEngine(Protocol):
    name: str
    version: str

    def read(self, image: Image.Image) -> OcrResult: ...


class RapidOcrEngine:
    name = "rapidocr-ppocrv4"

    def __init__(self, threads: int = 2, min_score: float = 0.5) -> None:
        from rapidocr_onnxruntime import RapidOCR

        self.version = f"rapidocr-onnxruntime-{version('rapidocr-onnxruntime')}"
        self._engine = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1, text_score=min_score)

    def read(self, image: Image.Image) -> OcrResult:
        found, _ = self._engine(image.convert("RGB"))
        if not found:
            return OcrResult("", 0.0)
        # Each line is [box (4 points), text, score]; order by the box's top edge, then its left edge.
        lines = sorted(found, key=lambda line: (round(min(p[1] for p in line[0]) / 10), min(p[0] for p in line[0])))
        texts = [str(line[1]) for line in lines]
        return OcrResult("\n".join(texts), sum(float(line[2]) for line in lines) / len(lines))


_lock = threading.Lock()
_engines: dict[tuple[str, int], OcrEngine] = {}


def ocr_engine(models: ModelSettings) -> OcrEngine | None:
    """The configured engine, loaded once per process (under a lock); None when OCR is turned off (`none`)."""
    if models.ocr_engine == "none":
        return None
    if models.ocr_engine != "rapidocr":
        raise ValueError(f"unknown OCR engine {models.ocr_engine!r}: use rapidocr or none")
    key = (models.ocr_engine, models.threads)
    if (engine := _engines.get(key)) is None:
        with _lock:
            if (engine := _engines.get(key)) is None:
                engine = _engines[key] = RapidOcrEngine(models.threads)
    return engine
