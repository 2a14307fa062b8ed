"""Headless pictures of a 3D model: a small z-buffer rasteriser in numpy, shaded so the shape reads.

Why not OpenGL: pyrender needs an OpenGL context (OSMesa or EGL, system libraries the deployment would have to
install) and pins a 2019 PyOpenGL; Chromium with model-viewer costs a browser per render. A software z-buffer
needs nothing but numpy, gives the same pixels for the same input (tests compare them), and is fast enough
because it rasterises every triangle at once, not one at a time: each (triangle, pixel row) pair gets its span
from the edges it crosses, each span its pixels, and one `np.minimum.at` keeps the nearest triangle per pixel.
Work and memory go in chunks of bounded size, so a render's temporaries stay bounded whatever the mesh
(tests/bench/media_models.py measures it against pyrender).

The camera is orthographic, the way museum objects are photographed with a long lens: each view looks along a
fixed direction of a Y-up frame (`VIEWS`), framed so the object's projection fills the square with a margin,
rendered at twice the size and reduced (smooth edges). Shading is two-sided Lambert (scans are rarely closed or
consistently wound) from a key light above and to the left of the camera, a fill and an ambient term, lit at
each triangle's corners and spread across it (Gouraud), with normals smoothed across gentle edges and kept flat
across sharp ones (a cube keeps its faces, a vase its curve). Colours and textures are not drawn: a clay
render on a light background, like a study photograph.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import trimesh
from PIL import Image

__all__ = ["VIEWS", "render_view", "render_views"]

FloatArray = npt.NDArray[np.floating[Any]]  # float32 for per-triangle arrays: half the memory of a big mesh

# Direction from the object to the camera, and the camera's up, in a Y-up frame (glTF's convention).
VIEWS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "front": ((0.0, 0.0, 1.0), (0.0, 1.0, 0.0)),
    "back": ((0.0, 0.0, -1.0), (0.0, 1.0, 0.0)),
    "side": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
    "left": ((-1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
    "top": ((0.0, 1.0, 0.0), (0.0, 0.0, -1.0)),
    "bottom": ((0.0, -1.0, 0.0), (0.0, 0.0, 1.0)),
    "three-quarter": ((1.0, 0.75, 1.0), (0.0, 1.0, 0.0)),
}

_BACKGROUND = np.array([0.96, 0.96, 0.95])
_CLAY = np.array([0.80, 0.75, 0.68])
_MARGIN = 0.06  # of the side, on each edge
_SUPERSAMPLE = 2  # rendered at twice the size and reduced: smooth edges without a real anti-aliaser
_CHUNK_CANDIDATES = 1 << 20  # rows + pixels per step: some 100 MB of temporaries at most
_SMOOTH_COS = np.cos(np.radians(35.0))  # corners whose vertex normal is further off than this stay flat
_EMPTY = np.iinfo(np.int64).max


def render_views(mesh: trimesh.Trimesh, views: Sequence[str], size: int, out_dir: Path, stem: str) -> list[Path]:
    """Write `<stem>.view-<name>.png` (size × size) for each view name into out_dir, in the order given."""
    unknown = [name for name in views if name not in VIEWS]
    if unknown:
        raise ValueError(f"unknown model views {unknown}; known: {sorted(VIEWS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    normals = _corner_normals(mesh)
    paths = []
    for name in views:
        target = out_dir / f"{stem}.view-{name}.png"
        render_view(mesh, name, size, normals).save(target, "PNG", compress_level=6)
        paths.append(target)
    return paths


def render_view(mesh: trimesh.Trimesh, view: str, size: int, corner_normals: FloatArray | None = None) -> Image.Image:
    """One view of the mesh as an RGB image, size × size pixels."""
    towards, up = (np.asarray(v, dtype=np.float64) for v in VIEWS[view])
    forward = towards / np.linalg.norm(towards)
    right = np.cross(up, forward)
    right /= np.linalg.norm(right)
    camera_up = np.cross(forward, right)
    side = size * _SUPERSAMPLE
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    faces = np.asarray(mesh.faces, dtype=np.int64)
    # Screen coordinates: x to the right, y downwards, depth growing away from the camera.
    x, y, depth = vertices @ right, -(vertices @ camera_up), -(vertices @ forward)
    extent = max(float(np.ptp(x)), float(np.ptp(y)), 1e-12)
    scale = side * (1 - 2 * _MARGIN) / extent
    screen = np.column_stack([(x - (x.min() + x.max()) / 2) * scale + side / 2,
                              (y - (y.min() + y.max()) / 2) * scale + side / 2]).astype(np.float32)
    depth_range = max(float(np.ptp(depth)), 1e-12)
    z = ((depth - depth.min()) / depth_range).astype(np.float32)
    face_at = _rasterise(screen, z, faces, side)
    if corner_normals is None:
        corner_normals = _corner_normals(mesh)
    rgb = _shade(face_at, screen, faces, corner_normals, forward, right, camera_up, side)
    picture = Image.fromarray(rgb, "RGB")
    return picture.resize((size, size), Image.Resampling.BOX) if _SUPERSAMPLE > 1 else picture


def _rasterise(screen: FloatArray, z: FloatArray, faces: npt.NDArray[np.int64], side: int) -> npt.NDArray[np.int64]:
    """The index of the nearest triangle at each pixel (side × side), -1 where there is none.

    Scanline spans, vectorised: every (triangle, pixel row) pair gets its span from the edges it crosses, and
    every span its pixels, so the work is the rows plus the pixels covered, in chunks of bounded size.
    """
    corners = screen[faces]  # (F, 3, 2)
    area = _edge(corners[:, 0], corners[:, 1], corners[:, 2])
    # Rows whose pixel centres (i + 0.5) can lie in the triangle; a sliver between two centres has none.
    row_lo = np.clip(np.ceil(corners[:, :, 1].min(axis=1) - 0.5), 0, side).astype(np.int64)
    row_hi = np.clip(np.floor(corners[:, :, 1].max(axis=1) - 0.5), -1, side - 1).astype(np.int64)
    rows = np.where(np.abs(area) > 1e-6, np.maximum(row_hi - row_lo + 1, 0), 0)
    plane = _depth_planes(corners, z[faces], area)
    buffer = np.full(side * side, _EMPTY, dtype=np.int64)
    cost = np.cumsum(rows + np.abs(area) / 2)  # rows plus (about) the pixels covered
    bounds = np.searchsorted(cost, np.arange(_CHUNK_CANDIDATES, cost[-1] if len(cost) else 0, _CHUNK_CANDIDATES))
    for chunk in np.split(np.flatnonzero(rows), np.searchsorted(np.flatnonzero(rows), bounds)):
        if len(chunk):
            _fill(buffer, chunk, rows[chunk], row_lo, corners, plane, side)
    face_at = np.where(buffer == _EMPTY, -1, buffer & 0xFFFFFFFF)
    return face_at.reshape(side, side)


def _fill(buffer: npt.NDArray[np.int64], chunk: npt.NDArray[np.int64], rows: npt.NDArray[np.int64],
          row_lo: npt.NDArray[np.int64], corners: FloatArray, plane: FloatArray, side: int) -> None:
    # float32 from here: a 1,600-pixel image needs 1/1000 of a pixel at most, and half the bytes move twice as fast.
    own = corners[chunk]  # (n, 3, 2)
    local = np.repeat(np.arange(len(chunk)), rows)
    y = row_lo[chunk][local] + np.arange(len(local)) - np.repeat(np.cumsum(rows) - rows, rows)
    yc = y.astype(np.float32) + np.float32(0.5)
    left = np.full(len(local), np.inf, dtype=np.float32)
    right = np.full(len(local), -np.inf, dtype=np.float32)
    for i, j in ((0, 1), (1, 2), (2, 0)):
        x0, y0, x1, y1 = own[:, i, 0], own[:, i, 1], own[:, j, 0], own[:, j, 1]
        slope = (x1 - x0) / np.where(y1 != y0, y1 - y0, np.float32(1.0))
        y0_row = y0[local]
        # Half-open in y, so a row through a shared vertex meets each edge pair once.
        crosses = (y0_row <= yc) != (y1[local] <= yc)
        x = x0[local] + (yc - y0_row) * slope[local]
        left = np.where(crosses, np.minimum(left, x), left)
        right = np.where(crosses, np.maximum(right, x), right)
    x_lo = np.ceil(np.clip(left, -1, side + 1) - 0.5).clip(0, side).astype(np.int64)
    x_hi = np.floor(np.clip(right, -1, side + 1) - 0.5).clip(-1, side - 1).astype(np.int64)
    width = np.maximum(x_hi - x_lo + 1, 0)
    if not width.any():
        return
    span = np.repeat(np.arange(len(local)), width)
    x = x_lo[span] + np.arange(len(span)) - np.repeat(np.cumsum(width) - width, width)
    tri = chunk[local[span]]
    own_plane = plane[chunk][local[span]]
    depth = own_plane[:, 0] * (x + 0.5).astype(np.float32) + own_plane[:, 1] * yc[span] + own_plane[:, 2]
    # Depth in the high bits and the triangle in the low ones: one minimum keeps the nearest triangle.
    key = (np.clip(depth, 0.0, 1.0) * (2**24)).astype(np.int64) << 32 | tri
    np.minimum.at(buffer, y[span] * side + x, key)


def _depth_planes(corners: FloatArray, corner_z: FloatArray, area: FloatArray) -> FloatArray:
    """(F, 3): a, b, c with depth = a·x + b·y + c over each triangle (barycentric weights are linear in x, y)."""
    safe = np.where(np.abs(area) > 1e-6, area, 1.0)  # twice the area in pixels²: smaller ones cover nothing
    plane = np.zeros((len(corners), 3), dtype=corners.dtype)
    for i, (j, k) in enumerate(((1, 2), (2, 0), (0, 1))):
        (ax, ay), (bx, by) = corners[:, j].T, corners[:, k].T
        weight = np.column_stack([-(by - ay), bx - ax, (by - ay) * ax - (bx - ax) * ay]) / safe[:, None]
        plane += weight * corner_z[:, i, None]
    return plane


def _edge(a: FloatArray, b: FloatArray, p: FloatArray) -> FloatArray:
    """Twice the signed area of (a, b, p): positive on one side of a→b, negative on the other."""
    return np.asarray((b[..., 0] - a[..., 0]) * (p[..., 1] - a[..., 1])
                      - (b[..., 1] - a[..., 1]) * (p[..., 0] - a[..., 0]))


def _corner_normals(mesh: trimesh.Trimesh) -> FloatArray:
    """(F, 3, 3): each triangle corner's normal, the vertex's where the surface bends gently, else the face's."""
    face_normals = np.asarray(mesh.face_normals, dtype=np.float32)
    vertex_normals = np.asarray(mesh.vertex_normals, dtype=np.float32)[np.asarray(mesh.faces)]
    gentle = np.einsum("fij,fj->fi", vertex_normals, face_normals) >= _SMOOTH_COS
    return np.where(gentle[..., None], vertex_normals, face_normals[:, None, :])


def _shade(face_at: npt.NDArray[np.int64], screen: FloatArray, faces: npt.NDArray[np.int64],
           corner_normals: FloatArray, forward: FloatArray, right: FloatArray, up: FloatArray,
           side: int) -> npt.NDArray[np.uint8]:
    """Light each triangle's corners, then spread the light across it (Gouraud): a plane per triangle, so a
    pixel costs three multiply-adds whatever the mesh."""
    flat = face_at.reshape(-1)
    pixels = np.flatnonzero(flat >= 0)
    shown = np.zeros(len(faces), dtype=bool)
    shown[flat[pixels]] = True
    seen = np.flatnonzero(shown)  # only the triangles that show are lit
    slot = np.cumsum(shown) - 1
    key = forward + 0.6 * up - 0.5 * right
    fill = forward - 0.3 * up + 0.7 * right
    # Two-sided: a corner's normal is turned to the side of its triangle that faces the camera.
    normals = corner_normals[seen]
    normals *= np.where(np.einsum("fij,j->f", normals, forward) < 0, -1.0, 1.0)[:, None, None]
    light = (0.75 * np.clip(normals @ (key / np.linalg.norm(key)), 0, 1)
             + 0.25 * np.clip(normals @ (fill / np.linalg.norm(fill)), 0, 1) + 0.18)  # (seen, 3)
    corners = screen[faces[seen]]
    planes = _depth_planes(corners, light, _edge(corners[:, 0], corners[:, 1], corners[:, 2]))
    # Light 0 … 1.25 in 255 steps, and one more entry for the background: a palette lookup makes the pixels.
    palette = np.vstack([np.outer(np.linspace(0.0, 1.25, 255), _CLAY), _BACKGROUND])
    palette = np.asarray(np.clip(palette * 255 + 0.5, 0, 255), dtype=np.uint8)
    index = np.full(side * side, 255, dtype=np.uint8)
    if len(pixels):
        plane = planes[slot[flat[pixels]]]
        value = plane[:, 0] * (pixels % side + 0.5) + plane[:, 1] * (pixels // side + 0.5) + plane[:, 2]
        index[pixels] = np.clip(value * (254 / 1.25) + 0.5, 0, 254).astype(np.uint8)
    return palette[index].reshape(side, side, 3)
