"""Re-ranking image search's top k by local features and geometric verification, measured on the raw model's lists.

OpenCV (installed with RapidOCR): ORB key points (1,000 per picture, on the `viewable` picture in grey,
longest side 800 px), brute-force Hamming matches with Lowe's ratio test (0.8), then a RANSAC
homography (5 px); the score of a pair is its inlier count. The top k of a ranking are re-ordered:
candidates with at least `MIN_INLIERS` inliers first, by inliers, the others after them in their
first order. Used by tests/bench/quality_images.py to decide whether the service should do it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from indexing.encoders.pixels import viewable

LONG_SIDE = 800
RATIO = 0.8
MIN_MATCHES = 8
MIN_INLIERS = 15

Features = tuple[np.ndarray[Any, Any], np.ndarray[Any, Any] | None]  # key point coordinates, descriptors


def features(path: Path, orb: Any) -> Features:
    with Image.open(path) as im:
        im.load()
        grey = viewable(im).convert("L")
    grey.thumbnail((LONG_SIDE, LONG_SIDE))
    points, descriptors = orb.detectAndCompute(np.asarray(grey), None)
    return np.array([p.pt for p in points], np.float32), descriptors


def inliers(a: Features, b: Features, matcher: Any) -> int:
    if a[1] is None or b[1] is None or len(a[1]) < 2 or len(b[1]) < 2:
        return 0
    pairs = [m for m in matcher.knnMatch(a[1], b[1], k=2) if len(m) == 2 and m[0].distance < RATIO * m[1].distance]
    if len(pairs) < MIN_MATCHES:
        return 0
    src = a[0][[m[0].queryIdx for m in pairs]].reshape(-1, 1, 2)
    dst = b[0][[m[0].trainIdx for m in pairs]].reshape(-1, 1, 2)
    _, mask = cv2.findHomography(src, dst, cv2.RANSAC, 5.0)
    return int(mask.sum()) if mask is not None else 0


def rerank(ranked: Sequence[Sequence[str]], query_files: Sequence[Path], gallery: Sequence[tuple[str, Path]],
           k: int = 10) -> list[list[str]]:
    """Each ranking with its top k re-ordered by verified inliers (the rest unchanged)."""
    cv2.setNumThreads(1)
    orb = cv2.ORB.create(nfeatures=1000)
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    files = dict(gallery)
    cache: dict[str, Features] = {}
    out = []
    for ranking, query_file in zip(ranked, query_files, strict=True):
        query = features(query_file, orb)
        top = list(ranking[:k])
        counts = {}
        for object_id in top:
            if object_id not in cache:
                cache[object_id] = features(files[object_id], orb)
            counts[object_id] = inliers(query, cache[object_id], matcher)
        verified = sorted((x for x in top if counts[x] >= MIN_INLIERS), key=lambda x: -counts[x])
        out.append(verified + [x for x in top if counts[x] < MIN_INLIERS] + list(ranking[k:]))
    return out
