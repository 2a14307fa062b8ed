"""Media inspection and derivatives, on images the tests draw themselves with Pillow."""

from __future__ import annotations

import hashlib
import pickle
import struct
import zlib
from pathlib import Path
from typing import Any

import imagehash
import pytest
from PIL import ExifTags, Image, ImageCms, ImageDraw, ImageFile, JpegImagePlugin, features
from PIL.ExifTags import Base as Tag

from services.ingest.media import (
    MediaInfo,
    MediaRejected,
    RejectReason,
    inspect_image,
    make_derivatives,
    sha256_file,
)

MAX_BYTES = 50 * 1024 * 1024
MAX_PIXELS = 100_000_000
RED = (255, 0, 0)


def scene(seed: int, size: tuple[int, int] = (600, 300)) -> Image.Image:
    """A picture with structure (shapes on a gradient), so perceptual hashes have something to see."""
    im = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(im)
    for i in range(12):
        x, y = (seed * 97 + i * 53) % size[0], (seed * 61 + i * 37) % size[1]
        colour = ((seed * 40 + i * 70) % 256, (seed * 90 + i * 30) % 256, (i * 110) % 256)
        draw.ellipse((x, y, x + size[0] // 4, y + size[1] // 3), fill=colour)
    return im


def camera_exif(**overrides: Any) -> Image.Exif:
    exif = Image.Exif()
    exif[Tag.Make] = "Hasselblad"
    exif[Tag.Model] = "H6D-400c MS"
    exif[Tag.XResolution] = 300.0
    exif[ExifTags.IFD.Exif] = {Tag.DateTimeOriginal: "2024:05:01 10:00:00"}
    for name, value in overrides.items():
        exif[Tag[name]] = value
    return exif


def save(im: Image.Image, path: Path, **params: Any) -> Path:
    im.save(path, **params)
    return path


def inspect(path: Path, **overrides: int) -> MediaInfo:
    return inspect_image(path, **{"max_bytes": MAX_BYTES, "max_pixels": MAX_PIXELS, **overrides})


def rejection(path: Path, **overrides: int) -> MediaRejected:
    with pytest.raises(MediaRejected) as caught:
        inspect(path, **overrides)
    return caught.value


def png_bomb(path: Path, width: int, height: int) -> Path:
    """A 1-bit all-black PNG written row by row, so the test never holds the pixels either."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row, compressor = b"\x00" * (1 + (width + 7) // 8), zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


def derivative_pixel(path: Path, xy: tuple[int, int]) -> tuple[int, ...]:
    with Image.open(path) as im:
        return tuple(im.convert("RGB").getpixel(xy))  # type: ignore[arg-type]


def distance(a: str, b: str) -> int:
    return int(imagehash.hex_to_hash(a) - imagehash.hex_to_hash(b))


def close_to(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


# --- what inspect_image reports ---------------------------------------------------------------------------------


def test_jpeg_is_reported_with_its_hash_size_format_and_dimensions(tmp_path: Path) -> None:
    path = save(scene(1), tmp_path / "photo.jpg", quality=90, exif=camera_exif())

    info = inspect(path)

    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() == sha256_file(path)
    assert info.size_bytes == path.stat().st_size
    assert (info.format, info.mime, info.width, info.height, info.mode) == ("JPEG", "image/jpeg", 600, 300, "RGB")


def test_readable_exif_subset_is_reported_as_strings(tmp_path: Path) -> None:
    path = save(scene(1), tmp_path / "photo.jpg", exif=camera_exif(Orientation=6))

    exif = inspect(path).exif

    assert exif == {
        "Make": "Hasselblad",
        "Model": "H6D-400c MS",
        "XResolution": "300",
        "Orientation": "6",
        "DateTimeOriginal": "2024:05:01 10:00:00",
    }


def test_exif_keeps_utf8_chinese_and_drops_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    exif = camera_exif(Artist="故宫博物院".encode(), Copyright=b"\xa9\xff Palace Museum")
    path = save(scene(1), tmp_path / "photo.jpg", exif=exif)

    info = inspect(path)

    assert info.exif["Artist"] == "故宫博物院"
    assert info.exif["Copyright"] == "Palace Museum"


def test_gps_position_is_not_part_of_the_reported_exif(tmp_path: Path) -> None:
    exif = camera_exif()
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (39.0, 54.0, 0.0)}
    path = save(scene(1), tmp_path / "photo.jpg", exif=exif)

    info = inspect(path)

    assert not any(key.startswith("GPS") for key in info.exif)


def test_sideways_exif_orientation_swaps_the_display_size_only(tmp_path: Path) -> None:
    path = save(scene(1), tmp_path / "photo.jpg", exif=camera_exif(Orientation=6))

    info = inspect(path)

    assert (info.width, info.height) == (600, 300)
    assert info.display_size == (300, 600)


def test_perceptual_hashes_are_64_bit_hex(tmp_path: Path) -> None:
    path = save(scene(1), tmp_path / "photo.jpg")

    info = inspect(path)

    assert len(info.phash) == len(info.dhash) == 16
    int(info.phash, 16), int(info.dhash, 16)


@pytest.mark.parametrize(
    ("suffix", "params", "fmt", "mime"),
    [
        (".tif", {"compression": "tiff_lzw"}, "TIFF", "image/tiff"),
        (".webp", {"quality": 90}, "WEBP", "image/webp"),
        (".gif", {}, "GIF", "image/gif"),
        (".bmp", {}, "BMP", "image/bmp"),
        pytest.param(
            ".jp2", {}, "JPEG2000", "image/jp2",
            marks=pytest.mark.skipif(not features.check("jpg_2000"), reason="Pillow built without OpenJPEG"),
        ),
    ],
)  # fmt: skip
def test_each_accepted_format_is_reported_with_its_mime_type(
    tmp_path: Path, suffix: str, params: dict[str, Any], fmt: str, mime: str
) -> None:
    path = save(scene(2), tmp_path / f"scan{suffix}", **params)

    info = inspect(path)

    assert (info.format, info.mime, info.width, info.height) == (fmt, mime, 600, 300)


def test_real_image_with_a_wrong_extension_is_accepted_as_its_real_format(tmp_path: Path) -> None:
    path = save(scene(3), tmp_path / "photo.jpg", format="PNG")

    info = inspect(path)

    assert (info.format, info.mime) == ("PNG", "image/png")


def test_modes_are_reported_as_stored(tmp_path: Path) -> None:
    cmyk = save(Image.new("CMYK", (40, 30), (0, 255, 255, 0)), tmp_path / "print.jpg")
    deep = save(Image.new("I;16", (40, 30), 40000), tmp_path / "deep.png")

    assert inspect(cmyk).mode == "CMYK"
    assert inspect(deep).mode == "I;16"


def test_same_pixels_saved_twice_have_the_same_phash(tmp_path: Path) -> None:
    png = save(scene(4), tmp_path / "a.png")
    tiff = save(scene(4), tmp_path / "b.tif")

    assert inspect(png).phash == inspect(tiff).phash
    assert inspect(png).sha256 != inspect(tiff).sha256


def test_resized_and_recompressed_copy_has_a_close_phash(tmp_path: Path) -> None:
    original = save(scene(5), tmp_path / "original.png")
    copy = save(scene(5).resize((540, 270), Image.Resampling.BILINEAR), tmp_path / "copy.jpg", quality=70)

    assert distance(inspect(original).phash, inspect(copy).phash) <= 6


def test_unrelated_image_has_a_distant_phash(tmp_path: Path) -> None:
    one = save(scene(5), tmp_path / "one.png")
    other = save(scene(11), tmp_path / "other.png")

    assert distance(inspect(one).phash, inspect(other).phash) > 10


# --- what inspect_image rejects ---------------------------------------------------------------------------------


def test_zero_byte_file_is_rejected_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.touch()

    error = rejection(path)

    assert error.reason == RejectReason.EMPTY_FILE
    assert "empty" in error.message


def test_file_over_the_byte_limit_is_rejected_as_too_large_naming_the_limit(tmp_path: Path) -> None:
    path = save(scene(1), tmp_path / "photo.png")

    error = rejection(path, max_bytes=1024)

    assert error.reason == RejectReason.TOO_LARGE
    assert "limit of 1.0 KiB (1,024 bytes)" in error.message


def test_text_file_named_jpg_is_rejected_as_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_text("object_id,title\nGM-001,青花瓷瓶\n", encoding="utf-8")

    error = rejection(path)

    assert error.reason == RejectReason.NOT_AN_IMAGE
    assert "photo.jpg" in error.message and "not an image" in error.message


def test_truncated_jpeg_is_rejected_as_truncated(tmp_path: Path) -> None:
    data = save(scene(1), tmp_path / "whole.jpg", quality=95).read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])

    error = rejection(path)

    assert error.reason == RejectReason.TRUNCATED
    assert "incomplete" in error.message and "truncated" in error.message


def test_truncated_png_is_rejected_as_truncated(tmp_path: Path) -> None:
    data = save(scene(1), tmp_path / "whole.png").read_bytes()
    path = tmp_path / "cut.png"
    path.write_bytes(data[: len(data) // 2])

    error = rejection(path)

    assert error.reason == RejectReason.TRUNCATED
    assert "incomplete" in error.message


def test_truncated_file_is_rejected_even_when_pillow_is_told_to_load_truncated_images(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = save(scene(1), tmp_path / "whole.jpg").read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)

    error = rejection(path)

    assert error.reason == RejectReason.TRUNCATED
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True


def test_decompression_bomb_is_rejected_from_its_header_without_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = png_bomb(tmp_path / "bomb.png", 20_000, 20_000)
    assert path.stat().st_size < 200_000

    def refuse_to_decode(self: ImageFile.ImageFile) -> None:
        raise AssertionError("the bomb was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse_to_decode)

    error = rejection(path, max_pixels=100_000_000)

    assert error.reason == RejectReason.DECOMPRESSION_BOMB
    assert "limit of 100,000,000 pixels" in error.message


def test_image_one_pixel_over_the_limit_is_rejected_with_its_dimensions(tmp_path: Path) -> None:
    path = save(Image.new("L", (1000, 1)), tmp_path / "strip.png")

    error = rejection(path, max_pixels=999)

    assert error.reason == RejectReason.DECOMPRESSION_BOMB
    assert "1,000 × 1" in error.message and "limit of 999 pixels" in error.message


@pytest.mark.parametrize("size", [(1000, 1), (999, 1)])
def test_image_exactly_at_the_pixel_limit_is_accepted(tmp_path: Path, size: tuple[int, int]) -> None:
    path = save(Image.new("L", size), tmp_path / "strip.png")

    info = inspect(path, max_pixels=size[0])

    assert info.width == size[0]


def test_our_pixel_limit_applies_instead_of_pillows_global_one_and_leaves_it_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save(scene(1), tmp_path / "photo.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)

    info = inspect(path, max_pixels=1_000_000)

    assert info.width == 600
    assert Image.MAX_IMAGE_PIXELS == 1000


def test_format_outside_the_accepted_list_is_rejected_as_unsupported(tmp_path: Path) -> None:
    path = save(scene(1, (64, 64)), tmp_path / "icon.ico")

    error = rejection(path)

    assert error.reason == RejectReason.UNSUPPORTED_FORMAT
    assert "Windows Icon files are not accepted" in error.message and "JPEG" in error.message


def test_rejection_survives_pickling_with_its_reason() -> None:
    error = MediaRejected(RejectReason.TRUNCATED, "The image data is incomplete.")

    copy = pickle.loads(pickle.dumps(error))

    assert (copy.reason, copy.message, str(copy)) == (RejectReason.TRUNCATED, error.message, error.message)


# --- derivatives ------------------------------------------------------------------------------------------------


def test_derivatives_fit_their_bounds_as_progressive_jpegs(tmp_path: Path) -> None:
    path = save(scene(6, (3000, 2000)), tmp_path / "scan.tif")

    thumbnail, preview = make_derivatives(path, tmp_path / "out")

    assert (thumbnail.name, thumbnail.width, thumbnail.height) == ("thumbnail", 400, 267)
    assert (preview.name, preview.width, preview.height) == ("preview", 1600, 1067)
    for derivative in (thumbnail, preview):
        assert derivative.mime == "image/jpeg" and derivative.size_bytes == derivative.path.stat().st_size
        with Image.open(derivative.path) as im:
            assert (im.format, im.size, im.mode) == ("JPEG", (derivative.width, derivative.height), "RGB")
            assert im.info.get("progressive")


def test_bounds_are_parameters(tmp_path: Path) -> None:
    path = save(scene(6, (1000, 500)), tmp_path / "scan.png")

    thumbnail, preview = make_derivatives(path, tmp_path, thumbnail_px=100, preview_px=250)

    assert (thumbnail.width, thumbnail.height, preview.width, preview.height) == (100, 50, 250, 125)


def test_exif_orientation_6_gives_portrait_derivatives_rotated_clockwise(tmp_path: Path) -> None:
    im = scene(1)
    im.paste(RED, (0, 0, 60, 60))  # stored top-left; a quarter turn clockwise brings it to the top-right
    path = save(im, tmp_path / "photo.jpg", quality=95, exif=camera_exif(Orientation=6))

    thumbnail, _ = make_derivatives(path, tmp_path / "out")

    assert (thumbnail.width, thumbnail.height) == (200, 400)
    assert close_to(derivative_pixel(thumbnail.path, (thumbnail.width - 10, 10)), RED, tolerance=40)


def test_derivatives_carry_no_exif(tmp_path: Path) -> None:
    exif = camera_exif()
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (39.0, 54.0, 0.0)}
    path = save(scene(1), tmp_path / "photo.jpg", exif=exif)

    for derivative in make_derivatives(path, tmp_path / "out"):
        with Image.open(derivative.path) as im:
            assert "exif" not in im.info and len(im.getexif()) == 0


def test_image_smaller_than_the_bounds_is_not_upscaled(tmp_path: Path) -> None:
    path = save(scene(1, (50, 30)), tmp_path / "tiny.png")

    derivatives = make_derivatives(path, tmp_path / "out")

    assert [(d.width, d.height) for d in derivatives] == [(50, 30), (50, 30)]


def test_palette_png_transparency_is_flattened_onto_white(tmp_path: Path) -> None:
    im = Image.new("P", (80, 40), 1)
    im.putpalette([0, 0, 0, *RED])
    im.paste(0, (0, 0, 40, 40))  # the transparent index
    path = save(im, tmp_path / "seal.png", transparency=0)

    thumbnail, _ = make_derivatives(path, tmp_path / "out")

    assert close_to(derivative_pixel(thumbnail.path, (10, 20)), (255, 255, 255))
    assert close_to(derivative_pixel(thumbnail.path, (70, 20)), RED)


def test_rgba_png_is_flattened_onto_white(tmp_path: Path) -> None:
    im = Image.new("RGBA", (80, 40), (0, 0, 0, 0))
    im.paste((*RED, 255), (40, 0, 80, 40))
    path = save(im, tmp_path / "cutout.png")

    thumbnail, _ = make_derivatives(path, tmp_path / "out")

    assert close_to(derivative_pixel(thumbnail.path, (10, 20)), (255, 255, 255))
    assert close_to(derivative_pixel(thumbnail.path, (70, 20)), RED)


def test_cmyk_jpeg_becomes_an_rgb_derivative(tmp_path: Path) -> None:
    path = save(Image.new("CMYK", (80, 40), (0, 255, 255, 0)), tmp_path / "print.jpg")

    thumbnail, _ = make_derivatives(path, tmp_path / "out")

    assert close_to(derivative_pixel(thumbnail.path, (40, 20)), RED)


def test_sixteen_bit_png_is_scaled_to_eight_bits_not_clipped_to_white(tmp_path: Path) -> None:
    path = save(Image.new("I;16", (80, 40), 32768), tmp_path / "deep.png")

    thumbnail, _ = make_derivatives(path, tmp_path / "out")

    assert close_to(derivative_pixel(thumbnail.path, (40, 20)), (128, 128, 128), tolerance=3)


def test_embedded_srgb_profile_keeps_colours(tmp_path: Path) -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = save(Image.new("RGB", (80, 40), (200, 120, 40)), tmp_path / "tagged.png", icc_profile=srgb)

    thumbnail, _ = make_derivatives(path, tmp_path / "out")

    assert close_to(derivative_pixel(thumbnail.path, (40, 20)), (200, 120, 40), tolerance=4)


def test_unusable_colour_profile_is_ignored(tmp_path: Path) -> None:
    path = save(Image.new("RGB", (80, 40), (200, 120, 40)), tmp_path / "broken.png", icc_profile=b"not a profile")

    thumbnail, _ = make_derivatives(path, tmp_path / "out")

    assert close_to(derivative_pixel(thumbnail.path, (40, 20)), (200, 120, 40), tolerance=4)


def test_large_jpeg_is_decoded_at_reduced_scale_for_derivatives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save(scene(7, (4000, 3000)), tmp_path / "big.jpg")
    decoded_sizes: list[tuple[int, int]] = []
    original_draft = JpegImagePlugin.JpegImageFile.draft

    def recording_draft(self: JpegImagePlugin.JpegImageFile, mode: str | None, size: tuple[int, int] | None) -> Any:
        result = original_draft(self, mode, size)
        decoded_sizes.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", recording_draft)

    _, preview = make_derivatives(path, tmp_path / "out")

    assert decoded_sizes == [(2000, 1500)]
    assert (preview.width, preview.height) == (1600, 1200)


def test_derivatives_refuse_an_image_over_a_given_pixel_limit(tmp_path: Path) -> None:
    path = png_bomb(tmp_path / "bomb.png", 20_000, 20_000)

    with pytest.raises(MediaRejected) as caught:
        make_derivatives(path, tmp_path / "out", max_pixels=MAX_PIXELS)

    assert caught.value.reason == RejectReason.DECOMPRESSION_BOMB
