"""indexing/encoders/pixels.py: one preprocessing for ingestion and image search, so one file gives one vector.

The ingestion path is the derivative `services.ingest.media.make_derivatives` writes, read back and
encoded (as indexing/enrich.py does); the query path is the file's bytes decoded as
`POST /v1/search/image` decodes them (`_open_upload`) and encoded. Measured: the cosine between the
two vectors, per file kind, from the preview (what indexing/enrich.py encodes): 0.991 (CMYK) to
0.9995 (16-bit) with the default recipe. From the 400 px thumbnail the same files give 0.982–0.995:
one reason the enrichment reads the preview.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from indexing.encoders import Modality, build_encoder
from indexing.encoders.base import Encoder
from indexing.encoders.pixels import Fit, Scaling, model_input, squares, viewable
from samples import images as renders
from samples import views
from services.gateway.routers.search import _open_upload
from services.ingest.media import make_derivatives
from services.settings import ModelSettings

MAX_PIXELS = 50_000_000
SIZE = (900, 675)


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> Encoder:
    return build_encoder("efficientnet-lite0", Modality.IMAGE, ModelSettings(cache_dir=tmp_path_factory.mktemp("m")))


def _vessel(n: int = 3) -> Image.Image:
    return renders.render(f"pixels-{n}", "porcelain", None, SIZE)


def _png_with_alpha(path: Path) -> Path:
    obj, _ = views.cutout("pixels-alpha", "bronze", SIZE)
    obj.save(path, "PNG")
    return path


def _jpeg_with_exif_orientation(path: Path) -> Path:
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera held sideways: a viewer turns the stored pixels 90° clockwise
    _vessel().transpose(Image.Transpose.ROTATE_90).save(path, "JPEG", quality=90, exif=exif.tobytes())
    return path


def _cmyk_jpeg(path: Path) -> Path:
    _vessel(4).convert("CMYK").save(path, "JPEG", quality=92)
    return path


def _sixteen_bit_png(path: Path) -> Path:
    grey = np.asarray(_vessel(5).convert("L"), dtype=np.uint16) * 257
    Image.fromarray(grey).save(path, "PNG")  # uint16 → mode I;16
    return path


MAKERS = {"png-alpha": _png_with_alpha, "jpeg-exif-6": _jpeg_with_exif_orientation, "cmyk": _cmyk_jpeg,
          "16-bit": _sixteen_bit_png}


def _ingested_vector(encoder: Encoder, path: Path, derivative: str) -> np.ndarray:
    made = make_derivatives(path, path.parent / "derivatives")
    with Image.open(next(d.path for d in made if d.name == derivative)) as im:
        im.load()
        return encoder.encode([im])[0]


def _queried_vector(encoder: Encoder, path: Path) -> np.ndarray:
    return encoder.encode([_open_upload(path.read_bytes(), MAX_PIXELS)])[0]


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_the_same_file_gives_the_same_vector_ingested_and_uploaded(encoder: Encoder, tmp_path: Path,
                                                                   kind: str) -> None:
    path = MAKERS[kind](tmp_path / f"file.{'png' if 'png' in kind or kind == '16-bit' else 'jpg'}")

    cosine = float(_ingested_vector(encoder, path, "preview") @ _queried_vector(encoder, path))

    assert cosine >= 0.99, f"{kind}: cosine {cosine:.4f}"


def test_transparency_turned_black_would_give_another_vector(encoder: Encoder, tmp_path: Path) -> None:
    path = _png_with_alpha(tmp_path / "cutout.png")
    with Image.open(path) as im:
        black = im.convert("RGB")  # what image search did before: transparent pixels become black

    cosine = float(_ingested_vector(encoder, path, "preview") @ encoder.encode([black])[0])

    assert cosine < 0.95  # the check above is not vacuous: the flattening colour moves the vector


def test_viewable_flattens_transparency_onto_white_and_turns_the_picture_upright(tmp_path: Path) -> None:
    clear = Image.new("RGBA", (4, 2), (0, 0, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    Image.new("RGB", (40, 20), "red").save(buf, "JPEG", exif=exif.tobytes())

    flat, turned = viewable(clear), viewable(Image.open(buf))

    assert flat.mode == "RGB" and flat.getpixel((0, 0)) == (255, 255, 255)
    assert turned.size == (20, 40)


def test_viewable_leaves_an_rgb_derivative_as_it_is() -> None:
    picture = _vessel()

    assert viewable(picture).tobytes() == picture.tobytes()


@pytest.mark.parametrize("fit", list(Fit))
def test_every_fit_gives_square_inputs_of_the_model_size(fit: Fit) -> None:
    wide = Image.new("RGB", (300, 100), "blue")

    inputs = model_input([wide, wide.rotate(90, expand=True)], fit, Scaling.IMAGENET, 64)

    assert inputs.shape == (2 * len(squares(wide, fit, 64)), 3, 64, 64) and inputs.dtype == np.float32


def test_tf_scaling_maps_the_letterbox_grey_to_zero() -> None:
    grey = Image.new("RGB", (10, 10), (127, 127, 127))

    assert np.abs(model_input([grey], Fit.LETTERBOX, Scaling.TF, 16)).max() == 0
