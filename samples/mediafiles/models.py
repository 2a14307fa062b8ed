"""Real 3D model files written with trimesh, for tests, sample batches and benches (no downloads).

Each builder writes one file at the path it is given and returns that path. `fmt` is one of `FORMATS`:
glb, gltf (buffers embedded as data URIs), obj, ply and ply-ascii, stl and stl-ascii. Models are made Y-up (glTF's
convention); STL files are written Z-up, as 3D printers and their software expect, so a reader that turns STL
upright shows the same object whatever the format.

- `cube` (12 triangles) and `vessel`: an oval vase, a lathe-revolved profile with a mouth and an inner wall,
  flattened front to back so that its front and side views differ;
- `sphere(path, fmt, subdivisions)`: 20 × 4ⁿ triangles, the big mesh of the benches (n = 8: 1.3 million);
- broken files: `stl_bomb` and `ply_bomb` (a header declaring 10⁸ triangles in a few hundred bytes),
  `truncated_glb` (cut in the middle of its binary chunk), `external_gltf` (its buffer in a separate .bin, not
  uploaded), `point_cloud_ply` (vertices, no faces), `vertices_only_obj`.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import trimesh
from trimesh.exchange.gltf import export_gltf

__all__ = [
    "FORMATS", "cube", "external_gltf", "ply_bomb", "point_cloud_ply", "sphere", "stl_bomb", "truncated_glb",
    "vertices_only_obj", "vessel", "write",
]  # fmt: skip

FORMATS = ("glb", "gltf", "obj", "ply", "ply-ascii", "stl", "stl-ascii")
BOMB_FACES = 100_000_000
_Y_UP_TO_Z_UP = np.array([[1.0, 0, 0, 0], [0, 0, -1.0, 0], [0, 1.0, 0, 0], [0, 0, 0, 1.0]])  # +90° about x
# Radius against height of a vase: foot, belly, shoulder, neck, lip, then back down the inside to the floor.
_VASE_PROFILE = [(0.0, 0.0), (0.30, 0.0), (0.34, 0.04), (0.50, 0.40), (0.46, 0.75), (0.26, 0.98), (0.22, 1.10),
                 (0.30, 1.22), (0.27, 1.24), (0.19, 1.12), (0.22, 0.98), (0.42, 0.75), (0.46, 0.40), (0.28, 0.08),
                 (0.0, 0.08)]


def cube_mesh() -> trimesh.Trimesh:
    box: trimesh.Trimesh = trimesh.creation.box(extents=(1.0, 1.0, 1.0))
    return box


def vessel_mesh(sections: int = 48) -> trimesh.Trimesh:
    """An oval vase, Y-up, its foot on y = 0: revolved about the vertical, then 0.7 as deep as it is wide."""
    mesh = trimesh.creation.revolve(np.array(_VASE_PROFILE), sections=sections)  # revolved about z
    mesh.apply_transform(np.linalg.inv(_Y_UP_TO_Z_UP))
    mesh.apply_transform(np.diag([1.0, 1.0, 0.7, 1.0]))
    return mesh


def cube(path: Path, fmt: str) -> Path:
    return write(cube_mesh(), path, fmt)


def vessel(path: Path, fmt: str, sections: int = 48) -> Path:
    return write(vessel_mesh(sections), path, fmt)


def sphere(path: Path, fmt: str, subdivisions: int = 4) -> Path:
    return write(trimesh.creation.icosphere(subdivisions=subdivisions), path, fmt)


def write(mesh: trimesh.Trimesh, path: Path, fmt: str) -> Path:
    """Write a Y-up mesh in one of FORMATS (STL turned Z-up)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown model format {fmt!r}; known: {FORMATS}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt.startswith("stl"):
        mesh = mesh.copy()
        mesh.apply_transform(_Y_UP_TO_Z_UP)
    if fmt == "gltf":
        data = export_gltf(trimesh.Scene(mesh), embed_buffers=True)["model.gltf"]  # type: ignore[no-untyped-call]
    elif fmt in ("ply", "ply-ascii"):
        data = mesh.export(file_type="ply", encoding="ascii" if fmt == "ply-ascii" else "binary")
    elif fmt in ("stl", "stl-ascii"):
        data = mesh.export(file_type="stl_ascii" if fmt == "stl-ascii" else "stl")
    else:
        data = mesh.export(file_type=fmt)
    path.write_bytes(_bytes(data))
    return path


def stl_bomb(path: Path, faces: int = BOMB_FACES) -> Path:
    """A binary STL whose header declares `faces` triangles, followed by one: 134 bytes."""
    triangle = struct.pack("<12fH", 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0)
    path.write_bytes(b"wenyuan test bomb".ljust(80, b" ") + struct.pack("<I", faces) + triangle)
    return path


def ply_bomb(path: Path, faces: int = BOMB_FACES, *, ascii: bool = False) -> Path:
    """A PLY declaring three vertices and `faces` triangles, holding one."""
    encoding = "ascii" if ascii else "binary_little_endian"
    header = (f"ply\nformat {encoding} 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n"
              f"element face {faces}\nproperty list uchar int vertex_indices\nend_header\n").encode()
    if ascii:
        body = b"0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n"
    else:
        body = struct.pack("<9f", 0, 0, 0, 1, 0, 0, 0, 1, 0) + struct.pack("<B3i", 3, 0, 1, 2)
    path.write_bytes(header + body)
    return path


def truncated_glb(path: Path) -> Path:
    """The vessel as GLB, cut two thirds of the way through: the JSON chunk whole, the binary chunk not."""
    data = _bytes(vessel_mesh().export(file_type="glb"))
    path.write_bytes(data[: len(data) * 2 // 3])
    return path


def external_gltf(path: Path) -> Path:
    """A .gltf whose buffer is a separate .bin beside it (written too, but a batch would upload only the .gltf)."""
    files = export_gltf(trimesh.Scene(cube_mesh()), embed_buffers=False)  # type: ignore[no-untyped-call]
    for name, data in files.items():
        (path.parent / (path.name if name == "model.gltf" else name)).write_bytes(data)
    return path


def point_cloud_ply(path: Path, points: int = 500) -> Path:
    """A PLY of vertices and no faces: a scanner's raw point cloud."""
    cloud = trimesh.PointCloud(np.random.default_rng(16).random((points, 3)))  # type: ignore[no-untyped-call]
    path.write_bytes(cloud.export(file_type="ply"))  # type: ignore[no-untyped-call]
    return path


def vertices_only_obj(path: Path) -> Path:
    path.write_text("# vertices, no faces\nv 0 0 0\nv 1 0 0\nv 0 1 0\n")
    return path


def _bytes(exported: object) -> bytes:
    """trimesh's exporters return str for text formats and bytes for binary ones."""
    return exported.encode() if isinstance(exported, str) else bytes(exported)  # type: ignore[call-overload]
