"""3D models: inspection from what the file declares, the web GLB and the rendered views, on files the tests write."""

from __future__ import annotations

import json
import struct
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from samples.mediafiles import models
from schemas.access import Tier
from schemas.media import MediaType
from services.ingest.errors import ErrorCode
from services.ingest.media import MediaRejected, sha256_file
from services.ingest.media_kinds import DeriveParams, MediaFacts, MediaLimits
from services.ingest.media_model import derive_model, inspect_model
from services.ingest.model_render import render_view

LIMITS = MediaLimits(max_bytes=50 * 1024 * 1024, max_pixels=100_000_000, max_duration_s=3600, max_pages=100,
                     max_faces=1_000_000)
SMALL = DeriveParams(view_px=160)
EXTENSIONS = {"glb": ".glb", "gltf": ".gltf", "obj": ".obj", "ply": ".ply", "ply-ascii": ".ply", "stl": ".stl",
              "stl-ascii": ".stl"}
FORMAT_NAMES = {"glb": "GLB", "gltf": "GLTF", "obj": "OBJ", "ply": "PLY", "ply-ascii": "PLY", "stl": "STL",
                "stl-ascii": "STL"}
MIMES = {"glb": "model/gltf-binary", "gltf": "model/gltf+json", "obj": "model/obj", "ply": "application/octet-stream",
         "ply-ascii": "text/plain", "stl": "model/stl", "stl-ascii": "model/stl"}
BACKGROUND = np.array([245, 245, 242])


def vessel_file(tmp_path: Path, fmt: str) -> Path:
    return models.vessel(tmp_path / f"vessel{EXTENSIONS[fmt]}", fmt)


def rejection(path: Path, limits: MediaLimits = LIMITS) -> MediaRejected:
    with pytest.raises(MediaRejected) as caught:
        inspect_model(path, limits)
    return caught.value


def derived(path: Path, params: DeriveParams = SMALL) -> tuple[MediaFacts, list[Path], list[str | None], Path]:
    facts = inspect_model(path, LIMITS)
    result = derive_model(path, facts, path.parent / "out", params)
    return facts, [s.path for s in result.surrogates], [s.view for s in result.surrogates], result.files[0].path


def ink(picture: Image.Image) -> np.ndarray:
    """Where the picture is not background."""
    difference = np.abs(np.asarray(picture.convert("RGB"), dtype=np.int16) - BACKGROUND)
    return np.asarray(difference.sum(axis=2) > 12)


@pytest.mark.parametrize("fmt", models.FORMATS)
def test_vessel_facts_are_the_loaded_mesh_in_every_format(tmp_path: Path, fmt: str) -> None:
    path = vessel_file(tmp_path, fmt)
    expected = models.vessel_mesh()

    facts = inspect_model(path, LIMITS)

    assert (facts.media_type, facts.format, facts.mime) == (MediaType.MODEL, FORMAT_NAMES[fmt], MIMES[fmt])
    assert (facts.sha256, facts.size_bytes) == (sha256_file(path), path.stat().st_size)
    assert facts.technical["faces"] == len(expected.faces)
    assert facts.technical["vertices"] == len(expected.vertices)
    assert set(facts.technical) == {"vertices", "faces", "bounds_min", "bounds_max"}


@pytest.mark.parametrize("fmt", ["obj", "stl"])
def test_bounds_are_in_the_files_own_axes(tmp_path: Path, fmt: str) -> None:
    path = vessel_file(tmp_path, fmt)

    facts = inspect_model(path, LIMITS)

    height_axis = 2 if fmt == "stl" else 1  # STL is written Z-up, the others Y-up
    assert facts.technical["bounds_min"][height_axis] == pytest.approx(0.0, abs=1e-6)
    assert facts.technical["bounds_max"][height_axis] == pytest.approx(1.24, abs=1e-6)
    assert facts.technical["bounds_max"][0] == pytest.approx(0.5, abs=1e-6)


@pytest.mark.parametrize("fmt", models.FORMATS)
def test_web_glb_loads_back_with_the_same_triangles_upright(tmp_path: Path, fmt: str) -> None:
    path = vessel_file(tmp_path, fmt)

    facts = inspect_model(path, LIMITS)
    result = derive_model(path, facts, tmp_path / "out", SMALL)

    [glb] = result.files
    assert (glb.name, glb.mime, glb.tier) == ("glb", "model/gltf-binary", Tier.PREVIEW)
    assert glb.path.read_bytes()[:4] == b"glTF"
    mesh = trimesh.load_mesh(glb.path, file_type="glb")
    assert len(mesh.faces) == facts.technical["faces"]
    assert mesh.bounds[:, 1].tolist() == pytest.approx([0.0, 1.24], abs=1e-6)  # y is up in glTF, STL turned


def test_glb_upload_is_copied_unchanged(tmp_path: Path) -> None:
    path = vessel_file(tmp_path, "glb")

    _, _, _, glb = derived(path)

    assert glb.read_bytes() == path.read_bytes()


def test_one_square_png_per_view_in_the_order_asked(tmp_path: Path) -> None:
    params = DeriveParams(model_views=("three-quarter", "front", "top"), view_px=120)

    _, pictures, views, _ = derived(vessel_file(tmp_path, "obj"), params)

    assert views == ["three-quarter", "front", "top"]
    for picture in pictures:
        with Image.open(picture) as im:
            assert (im.format, im.size, im.mode) == ("PNG", (120, 120), "RGB")


def test_views_are_not_blank_and_differ_from_each_other(tmp_path: Path) -> None:
    _, pictures, views, _ = derived(vessel_file(tmp_path, "ply"))

    arrays = [np.asarray(Image.open(p).convert("L"), dtype=np.int16) for p in pictures]
    assert views == ["front", "side", "top", "three-quarter"]
    for array in arrays:
        assert array.std() > 20  # shaded object on background, not one flat colour
        assert len(np.unique(array)) > 30  # shading, not a silhouette
    for i in range(len(arrays)):
        for j in range(i + 1, len(arrays)):
            assert np.abs(arrays[i] - arrays[j]).mean() > 3, (views[i], views[j])


def test_object_is_centred_and_fills_the_frame_on_a_light_background(tmp_path: Path) -> None:
    _, pictures, _, _ = derived(vessel_file(tmp_path, "glb"), DeriveParams(view_px=200))

    for picture in pictures:
        with Image.open(picture) as im:
            covered = ink(im)
            corner = np.asarray(im)[0, 0]
        rows, cols = np.flatnonzero(covered.any(axis=1)), np.flatnonzero(covered.any(axis=0))
        assert min(corner) > 230  # light background
        assert abs((rows[0] + rows[-1]) / 2 - 99.5) <= 2 and abs((cols[0] + cols[-1]) / 2 - 99.5) <= 2
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 >= 0.85 * 200
        assert min(rows[0], cols[0]) >= 4  # a margin: nothing touches the edge


def test_z_up_stl_is_shown_like_the_same_model_in_y_up_formats(tmp_path: Path) -> None:
    _, from_stl, _, _ = derived(models.vessel(tmp_path / "stl" / "vessel.stl", "stl"))
    _, from_obj, _, _ = derived(models.vessel(tmp_path / "obj" / "vessel.obj", "obj"))

    for stl_view, obj_view in zip(from_stl, from_obj, strict=True):
        a, b = (np.asarray(Image.open(p).convert("L"), dtype=np.int16) for p in (stl_view, obj_view))
        assert np.abs(a - b).mean() < 2


def test_cube_front_is_a_square_and_three_quarter_shows_three_shades(tmp_path: Path) -> None:
    mesh = models.cube_mesh()

    front = render_view(mesh, "front", 100)
    three_quarter = np.asarray(render_view(mesh, "three-quarter", 100).convert("L"))

    covered = ink(front)
    assert covered.sum() == pytest.approx(covered.any(axis=0).sum() * covered.any(axis=1).sum(), rel=0.02)
    faces_seen = {int(v) for v in np.unique(three_quarter[ink(Image.fromarray(three_quarter).convert("RGB"))])}
    assert len({v // 8 for v in faces_seen}) >= 3


def test_unknown_view_name_is_a_configuration_error(tmp_path: Path) -> None:
    path = vessel_file(tmp_path, "stl")
    facts = inspect_model(path, LIMITS)

    with pytest.raises(ValueError, match="unknown model views"):
        derive_model(path, facts, tmp_path / "out", DeriveParams(model_views=("front", "isometric")))


@pytest.mark.parametrize("bomb", ["stl", "ply", "ply-ascii"])
def test_header_declaring_a_hundred_million_triangles_is_refused_before_loading(
    tmp_path: Path, bomb: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if bomb == "stl":
        path = models.stl_bomb(tmp_path / "bomb.stl")
    else:
        path = models.ply_bomb(tmp_path / "bomb.ply", ascii=bomb == "ply-ascii")

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the mesh was loaded")

    monkeypatch.setattr(trimesh, "load_mesh", never)
    tracemalloc.start()
    started = time.perf_counter()
    error = rejection(path)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    assert path.stat().st_size < 400
    assert error.reason == ErrorCode.TOO_MANY_FACES
    assert "100,000,000 triangles" in error.message and "1,000,000" in error.message
    assert elapsed < 0.05 and peak < 1024 * 1024


def test_one_triangle_over_the_limit_is_refused_and_the_limit_itself_accepted(tmp_path: Path) -> None:
    path = models.cube(tmp_path / "cube.stl", "stl")

    accepted = inspect_model(path, MediaLimits(**{**LIMITS.__dict__, "max_faces": 12}))
    error = rejection(path, MediaLimits(**{**LIMITS.__dict__, "max_faces": 11}))

    assert accepted.technical["faces"] == 12
    assert error.reason == ErrorCode.TOO_MANY_FACES


def test_gltf_counts_a_mesh_as_often_as_the_scene_places_it(tmp_path: Path) -> None:
    scene = trimesh.Scene()
    for x in range(3):
        placed = np.eye(4)
        placed[0, 3] = 2.0 * x
        scene.add_geometry(models.cube_mesh(), geom_name="cube", transform=placed)
    path = tmp_path / "three-cubes.glb"
    path.write_bytes(scene.export(file_type="glb"))  # type: ignore[no-untyped-call]

    error = rejection(path, MediaLimits(**{**LIMITS.__dict__, "max_faces": 35}))

    assert error.reason == ErrorCode.TOO_MANY_FACES and "36 triangles" in error.message


def test_truncated_glb_is_refused_as_cut_off(tmp_path: Path) -> None:
    error = rejection(models.truncated_glb(tmp_path / "vessel.glb"))

    assert error.reason == ErrorCode.TRUNCATED
    assert "cut off" in error.message


def test_binary_stl_shorter_than_its_triangle_count_is_refused(tmp_path: Path) -> None:
    path = vessel_file(tmp_path, "stl")
    path.write_bytes(path.read_bytes()[:-500])

    error = rejection(path)

    assert error.reason == ErrorCode.TRUNCATED and "1,248 triangles" in error.message


def test_ascii_stl_without_its_closing_line_is_refused(tmp_path: Path) -> None:
    path = vessel_file(tmp_path, "stl-ascii")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    error = rejection(path)

    assert error.reason == ErrorCode.TRUNCATED and "endsolid" in error.message


def test_binary_ply_shorter_than_its_header_declares_is_refused(tmp_path: Path) -> None:
    path = vessel_file(tmp_path, "ply")
    path.write_bytes(path.read_bytes()[:-2000])

    error = rejection(path)

    assert error.reason == ErrorCode.TRUNCATED and "1,248 faces" in error.message


def test_obj_with_damaged_faces_is_refused_as_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "broken.obj"
    path.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n")

    error = rejection(path)

    assert error.reason == ErrorCode.TRUNCATED and "could not be read" in error.message


def test_gltf_with_a_separate_buffer_file_asks_for_a_glb(tmp_path: Path) -> None:
    error = rejection(models.external_gltf(tmp_path / "cube.gltf"))

    assert error.reason == ErrorCode.UNSUPPORTED_FORMAT
    assert ".bin" in error.message and ".glb" in error.message


def test_draco_compressed_gltf_is_refused_as_unreadable_rather_than_damaged(tmp_path: Path) -> None:
    path = vessel_file(tmp_path, "gltf")
    document = json.loads(path.read_bytes())
    document["extensionsUsed"] = document["extensionsRequired"] = ["KHR_draco_mesh_compression"]
    path.write_text(json.dumps(document))

    error = rejection(path)

    assert error.reason == ErrorCode.UNSUPPORTED_FORMAT and "KHR_draco_mesh_compression" in error.message


def test_glb_of_gltf_1_is_refused(tmp_path: Path) -> None:
    path = vessel_file(tmp_path, "glb")
    data = bytearray(path.read_bytes())
    data[4:8] = struct.pack("<I", 1)
    path.write_bytes(bytes(data))

    error = rejection(path)

    assert error.reason == ErrorCode.UNSUPPORTED_FORMAT and "glTF 2.0" in error.message


@pytest.mark.parametrize("builder", [models.point_cloud_ply, models.vertices_only_obj])
def test_model_without_triangles_is_refused(tmp_path: Path, builder: object) -> None:
    suffix = ".ply" if builder is models.point_cloud_ply else ".obj"
    path = builder(tmp_path / f"empty{suffix}")  # type: ignore[operator]

    error = rejection(path)

    assert error.reason == ErrorCode.EMPTY_FILE and "no triangles" in error.message


def test_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nothing.stl"
    path.write_bytes(b"")

    assert rejection(path).reason == ErrorCode.EMPTY_FILE


def test_file_over_the_byte_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = vessel_file(tmp_path, "glb")

    error = rejection(path, MediaLimits(**{**LIMITS.__dict__, "max_bytes": 1000}))

    assert error.reason == ErrorCode.TOO_LARGE and "1,000 bytes" in error.message


@pytest.mark.parametrize(("fmt", "named"), [("ply", "vessel.stl"), ("glb", "vessel.obj"), ("stl", "vessel.ply"),
                                            ("gltf", "vessel.glb")])
def test_extension_naming_another_model_format_is_refused(tmp_path: Path, fmt: str, named: str) -> None:
    path = vessel_file(tmp_path, fmt).rename(tmp_path / named)

    error = rejection(path)

    assert error.reason == ErrorCode.EXTENSION_MISMATCH
    assert f"named as {Path(named).suffix[1:].upper()}" in error.message and FORMAT_NAMES[fmt] in error.message


def test_text_that_is_no_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.obj"
    path.write_text("Bronze ding, Western Zhou. Photographed 2024.\n")

    assert rejection(path).reason == ErrorCode.UNSUPPORTED_FORMAT
