"""indexing/encoders/efficientnet.py: the recipe is the version, ReLU6 is kept, pooling, concurrent ONNX exports."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import onnxruntime as ort

from indexing.encoders.efficientnet import (
    DEFAULT_RECIPE,
    EfficientNetLite0Encoder,
    Pooling,
    Recipe,
    export_onnx,
    pool,
    torch_features_model,
    weights_path,
)
from indexing.encoders.pixels import Fit, Scaling


def test_the_version_names_the_weights_the_graph_and_the_recipe() -> None:
    weights = weights_path().stem.removeprefix("efficientnet-lite0-")
    old = Recipe(Fit.LETTERBOX, Scaling.TF, Pooling.GAP)

    default, before = EfficientNetLite0Encoder("torch"), EfficientNetLite0Encoder("torch", recipe=old)

    assert default.version == f"{weights}-relu6-map-{DEFAULT_RECIPE.tag}"
    assert before.version != default.version  # another recipe, another vector space: the index re-embeds


def test_the_network_keeps_the_relu6_its_weights_were_trained_with() -> None:
    import torch

    model = torch_features_model()

    activations = {type(m) for m in model.modules() if "swish" in type(m).__name__.lower() or
                   isinstance(m, torch.nn.ReLU6)}
    assert activations == {torch.nn.ReLU6}


def test_gem_pooling_leans_towards_the_strongest_responses_and_gap_is_the_mean() -> None:
    feature_map = np.zeros((1, 2, 2, 2), np.float32)
    feature_map[0, 0] = [[4, 0], [0, 0]]
    feature_map[0, 1] = 1

    gap, gem = pool(feature_map, Pooling.GAP), pool(feature_map, Pooling.GEM)

    assert np.allclose(gap, [[1, 1]])
    assert np.allclose(gem, [[4 / 4 ** (1 / 3), 1]], atol=1e-4)  # (4³ / 4)^(1/3) = 4^(2/3) ≈ 2.52 > the mean 1


def test_two_threads_exporting_at_once_each_write_their_own_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "model.onnx"
    errors: list[BaseException] = []

    def export() -> None:
        try:
            export_onnx(target)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=export) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert not errors
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]  # no temporary file left behind
    outputs = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"]).get_outputs()
    assert [o.name for o in outputs] == ["map"]
