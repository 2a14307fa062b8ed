"""3D models: derive_model's throughput against the raw libraries doing the same work, and peak memory.

Inputs are written by samples/mediafiles/models.py into a temporary directory (no downloads): the oval vessel as
OBJ (1,248 triangles), an icosphere as binary PLY (81,920) and as binary STL (327,680); for memory, the vessel
and a 1.3-million-triangle icosphere (PLY, 25 MB).

The raw loop is trimesh and the renderer with nothing around them: `trimesh.load_mesh`, `export(glb)` and
`model_render.render_views` of the same views at the same size. derive_model does that plus the upright turn
of STL and its own bookkeeping; inspect_model (header counts, one load, hash) is timed on its own. Each run is
timed twice, alternating raw and derive, and the faster is kept (the machine is shared). Reported: models per
minute and the ratio derive ÷ raw.

Where pyrender is importable (it is not a dependency: it needs an OpenGL context, here EGL with Mesa's
llvmpipe, `PYOPENGL_PLATFORM=egl`), the same views are also rendered with it, for the renderer comparison.

Peak memory is each input's `inspect_model` + `derive_model` in a fresh Python process (its own VmHWM),
next to a process that imports the same modules and does nothing (the floor).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import trimesh

from samples.mediafiles import models
from services.ingest.media_kinds import DeriveParams, MediaLimits
from services.ingest.media_model import derive_model, inspect_model
from services.ingest.model_render import VIEWS, render_views
from services.settings import Settings
from tests.bench.peaks import in_fresh_process, own_peak_kib

LIMITS = MediaLimits(max_bytes=4 * 2**30, max_pixels=100_000_000, max_duration_s=4 * 3600, max_pages=2000,
                     max_faces=5_000_000)


def _log(msg: str) -> None:
    print(f"[bench media_models] {msg}", file=sys.stderr, flush=True)


def params_from(settings: Settings | None) -> DeriveParams:
    if settings is None:
        return DeriveParams()
    return replace(DeriveParams(), model_views=tuple(settings.media.model_views), view_px=settings.media.view_px)


def raw(path: Path, out: Path, params: DeriveParams) -> None:
    """The same work with the libraries directly: the baseline derive_model is measured against."""
    mesh = trimesh.load_mesh(path)
    mesh.export(out / f"{path.stem}.raw.glb", file_type="glb")
    render_views(mesh, params.model_views, params.view_px, out, f"{path.stem}.raw")


def throughput(folder: Path, params: DeriveParams) -> list[tuple[str, int, float, float, float, float | None]]:
    """(input, triangles, inspect s, derive s, raw s, pyrender s or None) per input, best of two."""
    _log("writing the throughput inputs")
    inputs = [("vessel, OBJ", models.vessel(folder / "vessel.obj", "obj")),
              ("icosphere, binary PLY", models.sphere(folder / "sphere6.ply", "ply", 6)),
              ("icosphere, binary STL", models.sphere(folder / "sphere7.stl", "stl", 7))]
    rows = []
    for label, path in inputs:
        inspect_s, derive_s, raw_s = [], [], []
        for attempt in range(2):  # alternate, so a busy moment on the shared machine hits both
            out = folder / f"out-{path.stem}-{attempt}"
            out.mkdir()
            started = time.perf_counter()
            raw(path, out, params)
            raw_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            facts = inspect_model(path, LIMITS)
            inspect_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            derive_model(path, facts, out, params)
            derive_s.append(time.perf_counter() - started)
        gl = _pyrender_s(path, params)
        rows.append((label, int(facts.technical["faces"]), min(inspect_s), min(derive_s), min(raw_s), gl))
        _log(f"{label}: inspect {min(inspect_s):.2f} s, derive {min(derive_s):.2f} s, raw {min(raw_s):.2f} s"
             + (f", pyrender {gl:.2f} s" if gl is not None else ""))
    return rows


def _pyrender_s(path: Path, params: DeriveParams) -> float | None:
    """Load + the same views with pyrender (orthographic, one directional light), best of two; None without it."""
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    try:
        import pyrender
    except ImportError:
        return None
    renderer = pyrender.OffscreenRenderer(params.view_px, params.view_px)  # the context, made once, not timed
    times = []
    for _ in range(2):
        started = time.perf_counter()
        mesh = trimesh.load_mesh(path)
        scene = pyrender.Scene(bg_color=[0.96, 0.96, 0.95, 1.0], ambient_light=[0.2, 0.2, 0.2])
        scene.add(pyrender.Mesh.from_trimesh(mesh, smooth=False))
        centre, radius = mesh.bounds.mean(axis=0), float(np.linalg.norm(mesh.extents)) / 2
        camera = scene.add(pyrender.OrthographicCamera(xmag=radius, ymag=radius, znear=0.01, zfar=8 * radius))
        light = scene.add(pyrender.DirectionalLight(intensity=3.0))
        for name in params.model_views:
            towards, up = (np.asarray(v, dtype=np.float64) for v in VIEWS[name])
            forward = towards / np.linalg.norm(towards)
            right = np.cross(up, forward)
            right /= np.linalg.norm(right)
            pose = np.eye(4)
            pose[:3, :3] = np.column_stack([right, np.cross(forward, right), forward])
            pose[:3, 3] = centre + forward * 3 * radius
            scene.set_pose(camera, pose)
            scene.set_pose(light, pose)
            renderer.render(scene)
        times.append(time.perf_counter() - started)
    renderer.delete()
    return min(times)


def _child(path: str) -> None:
    """In a fresh process: inspect and derive one file (or nothing), then print the peak RSS as JSON."""
    started = time.perf_counter()
    if path != "-":
        source = Path(path)
        facts = inspect_model(source, LIMITS)
        with tempfile.TemporaryDirectory() as out:
            derive_model(source, facts, Path(out), DeriveParams())
    print(json.dumps({"peak_mib": own_peak_kib() / 1024, "seconds": time.perf_counter() - started}))


def peak_memory(folder: Path) -> list[tuple[str, float, float]]:
    """(input, peak RSS MiB, seconds) for each input in its own process; the first row is the import floor."""
    _log("writing the memory inputs")
    inputs = [("imports only (floor)", "-"),
              ("vessel, OBJ, 1,248 triangles", models.vessel(folder / "small.obj", "obj")),
              ("icosphere, binary PLY, 1,310,720 triangles (25 MB)", models.sphere(folder / "large.ply", "ply", 8))]
    rows = []
    for label, path in inputs:
        result = in_fresh_process("tests.bench.media_models", str(path))
        rows.append((label, result["peak_mib"], result["seconds"]))
        _log(f"{label}: {result['peak_mib']:.0f} MiB, {result['seconds']:.1f} s")
    return rows


def measure(settings: Settings | None = None) -> str:
    params = params_from(settings)
    with tempfile.TemporaryDirectory(prefix="bench-media-models-") as tmp:
        folder = Path(tmp)
        speed = throughput(folder, params)
        memory = peak_memory(folder)
    load = os.getloadavg()
    lines = [f"{len(params.model_views)} views ({', '.join(params.model_views)}) of {params.view_px} px and a GLB "
             f"per model. Load average at the end {load[0]:.1f} / {load[1]:.1f} on "
             f"{len(os.sched_getaffinity(0))} cores.", "",
             "| input | triangles | inspect (s) | derive_model (models/min) | raw trimesh + renders (models/min) "
             "| derive ÷ raw | pyrender EGL, load + views (models/min) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {label} | {faces:,} | {inspect:.2f} | {60 / ours:.1f} | {60 / base:.1f} | {base / ours:.2f} | "
              + (f"{60 / gl:.1f} |" if gl is not None else "not installed |")
              for label, faces, inspect, ours, base, gl in speed]
    lines += ["", "| inspect + derive in a fresh process | peak RSS (MiB) | seconds |", "|---|---:|---:|"]
    lines += [f"| {label} | {peak:.0f} | {seconds:.1f} |" for label, peak, seconds in memory]
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _child(sys.argv[2])
    else:
        print(measure())
