"""How EfficientNet-Lite0 should see a picture: the raw model's same-object retrieval per preprocessing recipe.

Run by tests/bench/quality_images.py on its dev set (samples/views.py), outside the service: every
file is decoded once (`pixels.viewable`), every fit's squares are cut from it once, and the network
runs on them per input scaling; the feature map is pooled both ways. Search is exact (numpy cosine
over the indexed views). Compared:

- fit: letter-box onto grey / centre crop / multi-crop (three squares along the long side, averaged);
- scaling: (x − 127) / 128 / ImageNet mean and std;
- pooling: global average (GAP) / generalised mean (GeM, p = 3) of the 1280 × 7 × 7 map;
- activations: the ReLU6 the weights were trained with / the swish that `set_swish()` put in (the
  encoder before this study), for the old and the new recipe;
- the indexed picture: the original / the 1600 px preview / the 400 px thumbnail (derivatives made by
  services/ingest/media.make_derivatives, as ingestion stores them).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from indexing.encoders.base import normalise
from indexing.encoders.efficientnet import INPUT_PX, EfficientNetLite0Encoder, Pooling, Recipe, pool
from indexing.encoders.pixels import CROPS, Fit, Scaling, scale, squares, viewable
from services.ingest.media import make_derivatives

Squares = dict[Fit, list[np.ndarray[Any, Any]]]  # fit → the uint8 squares of one file
Embed = Callable[[Sequence[Path]], np.ndarray[Any, np.dtype[np.float32]]]


@dataclass(frozen=True)
class Task:
    """Same-object retrieval: each query's object must be found among the gallery's objects."""

    gallery: list[tuple[str, Path]]  # (object id, indexed file)
    queries: list[tuple[str, str, Path]]  # (object id, view, query file)


def cut(path: Path) -> Squares:
    with Image.open(path) as im:
        im.load()
        rgb = viewable(im)
    return {fit: [np.asarray(s) for s in squares(rgb, fit, INPUT_PX)] for fit in Fit}


def ranks(task: Task, gallery: np.ndarray[Any, Any], queries: np.ndarray[Any, Any]) -> list[list[str]]:
    """Exact cosine search: per query, the gallery's object ids best first (unit vectors in, so a dot product)."""
    ids = [g[0] for g in task.gallery]
    order = np.argsort(-(queries @ gallery.T), axis=1, kind="stable")
    return [[ids[j] for j in row] for row in order]


def _encode(encoder: Any, cuts: Sequence[Squares], recipe: Recipe, swish: bool = False) -> np.ndarray[Any, Any]:
    crops = CROPS[recipe.fit]
    batch = np.stack([scale(sq, recipe.scaling) for c in cuts for sq in c[recipe.fit]])
    maps = np.concatenate([_map(encoder, batch[i:i + 64], swish) for i in range(0, len(batch), 64)])
    vectors = normalise(pool(maps, recipe.pooling)).reshape(len(cuts), crops, -1).mean(axis=1)
    return normalise(vectors)


def _map(encoder: Any, pixels: np.ndarray[Any, Any], swish: bool) -> np.ndarray[Any, Any]:
    if not swish:
        return np.asarray(encoder.feature_map(pixels))
    import torch

    with torch.inference_mode():
        return np.asarray(encoder(torch.from_numpy(np.ascontiguousarray(pixels))).numpy())


def _swish_model() -> Any:
    from indexing.encoders.efficientnet import torch_features_model

    model = torch_features_model()
    model.net.set_swish(memory_efficient=False)  # what the encoder did before: ReLU6 replaced by swish
    return model


RECIPES = [Recipe(fit, scaling, pooling) for fit in Fit for scaling in Scaling for pooling in Pooling]
OLD = Recipe(Fit.LETTERBOX, Scaling.TF, Pooling.GAP)


def study(task: Task, encoder: EfficientNetLite0Encoder, score: Callable[[list[list[str]]], dict[str, float]],
          chosen: Recipe) -> list[tuple[str, dict[str, float]]]:
    """(variant, scores) rows: every recipe, the swish activations, and the indexed derivative."""
    gallery_cuts = [cut(p) for _, p in task.gallery]
    query_cuts = [cut(p) for _, _, p in task.queries]
    rows = []
    for recipe in RECIPES:
        vectors = _encode(encoder, gallery_cuts, recipe), _encode(encoder, query_cuts, recipe)
        rows.append((f"relu6 · {recipe.tag} · original", score(ranks(task, *vectors))))
    swish = _swish_model()
    for recipe in (OLD, chosen):
        vectors = _encode(swish, gallery_cuts, recipe, True), _encode(swish, query_cuts, recipe, True)
        rows.append((f"swish · {recipe.tag} · original", score(ranks(task, *vectors))))
    queries = _encode(encoder, query_cuts, chosen)
    with tempfile.TemporaryDirectory(prefix="bench-image-recipes-") as tmp:
        made = [make_derivatives(p, Path(tmp) / str(i)) for i, (_, p) in enumerate(task.gallery)]
        for name in ("preview", "thumbnail"):
            cuts = [cut(next(d.path for d in ds if d.name == name)) for ds in made]
            rows.append((f"relu6 · {chosen.tag} · indexed {name}", score(ranks(task, _encode(encoder, cuts, chosen),
                                                                             queries))))
            if chosen != OLD:
                rows.append((f"relu6 · {OLD.tag} · indexed {name}",
                              score(ranks(task, _encode(encoder, cuts, OLD), _encode(encoder, query_cuts, OLD)))))
            if name == "thumbnail":  # the encoder as it was: swish, letter-box, TF scaling, GAP, the thumbnail
                rows.append((f"swish · {OLD.tag} · indexed thumbnail (the encoder before)",
                              score(ranks(task, _encode(swish, cuts, OLD, True),
                                          _encode(swish, query_cuts, OLD, True)))))
    return rows
