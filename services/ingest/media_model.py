"""Check an uploaded 3D model (glTF/GLB, OBJ, PLY, STL) and make what the web shows of it.

`inspect_model` reads what the file declares before anything is loaded — the triangle count of a binary STL's
or a PLY's header, a glTF's accessors, a count of an OBJ's or an ASCII STL's face lines — and refuses a model
over `limits.max_faces` at once: a 200-byte STL that declares 10⁸ triangles costs nothing. It also refuses what
cannot be read from one uploaded file (a glTF whose buffers are separate `.bin` files), a file whose extension
names another model format, a header that promises more data than the file holds, and a model without a single
triangle. Only then is the mesh loaded (trimesh), and the facts recorded are the loaded mesh's: vertices after
duplicates are merged, triangles, and the bounds in the model's own units and axes.

`derive_model` makes one self-contained GLB for the browser (a GLB is copied, an embedded glTF's scene and
OBJ/PLY/STL meshes are exported by trimesh) and a square PNG of each named view (services/ingest/
model_render.py), which the image pipeline stores as images of the asset. glTF is Y-up by its specification;
STL, the 3D-printing format, is taken as Z-up and turned upright for both the GLB and the views.

Media types: model/gltf-binary, model/gltf+json, model/obj and model/stl are IANA registrations. PLY has none
(there is no model/ply), so an ASCII PLY is text/plain and a binary one application/octet-stream.
"""

from __future__ import annotations

import json
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import trimesh

from schemas.access import Tier
from schemas.media import MediaType
from services.ingest.errors import ErrorCode
from services.ingest.media import MediaRejected, sha256_file
from services.ingest.media_kinds import Derived, DerivedFile, DeriveParams, MediaFacts, MediaLimits, Surrogate
from services.ingest.model_render import render_views

__all__ = ["MODEL_FORMATS", "derive_model", "inspect_model"]

MODEL_FORMATS = frozenset({"GLB", "GLTF", "OBJ", "PLY", "STL"})
_MIMES = {"GLB": "model/gltf-binary", "GLTF": "model/gltf+json", "OBJ": "model/obj", "STL": "model/stl"}
_Z_UP = frozenset({"STL"})
_GLB_MIME = "model/gltf-binary"
_Z_UP_TO_Y_UP = np.array([[1.0, 0, 0, 0], [0, 0, 1.0, 0], [0, -1.0, 0, 0], [0, 0, 0, 1.0]])  # -90° about x


def inspect_model(path: Path, limits: MediaLimits) -> MediaFacts:
    """Accept the model (what its header declares first, then the loaded mesh) or raise MediaRejected."""
    size_bytes = path.stat().st_size
    if size_bytes == 0:
        raise MediaRejected(ErrorCode.EMPTY_FILE, "The file is empty (0 bytes); it may not have finished uploading.")
    if size_bytes > limits.max_bytes:
        raise MediaRejected(ErrorCode.TOO_LARGE, f"The 3D model is {size_bytes:,} bytes, larger than the limit of "
                                                 f"{limits.max_bytes:,} bytes per file; upload a lighter version "
                                                 "(fewer triangles, smaller textures).")
    fmt = _model_format(path)
    declared = _declared_counts(path, fmt)
    _check_faces(declared.faces, limits.max_faces, "declares")
    if declared.short is not None:
        raise declared.short
    if declared.faces == 0:
        raise _no_triangles(declared)
    mesh = _load(path, fmt)
    faces = len(mesh.faces)
    _check_faces(faces, limits.max_faces, "has")
    if faces == 0:
        raise _no_triangles(declared)
    bounds = np.asarray(mesh.bounds, dtype=np.float64)
    return MediaFacts(
        media_type=MediaType.MODEL,
        format=fmt,
        mime=_MIMES.get(fmt) or ("text/plain" if declared.text else "application/octet-stream"),
        sha256=sha256_file(path),
        size_bytes=size_bytes,
        technical={"vertices": len(mesh.vertices), "faces": faces,
                   "bounds_min": [float(v) for v in bounds[0]], "bounds_max": [float(v) for v in bounds[1]]},
    )


def derive_model(path: Path, facts: MediaFacts, out_dir: Path, params: DeriveParams) -> Derived:
    """Write `<stem>.web.glb` and `<stem>.view-<name>.png` for each of params.model_views into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    mesh = _load(path, facts.format)
    if facts.format in _Z_UP:
        mesh.apply_transform(_Z_UP_TO_Y_UP)
    glb = out_dir / f"{path.stem}.web.glb"
    _write_glb(path, facts.format, mesh, glb)
    views = render_views(mesh, params.model_views, params.view_px, out_dir, path.stem)
    return Derived(
        files=[DerivedFile("glb", glb, _GLB_MIME, Tier.PREVIEW)],
        surrogates=[Surrogate(view_path, view=name) for name, view_path in zip(params.model_views, views, strict=True)],
    )


def _write_glb(path: Path, fmt: str, mesh: trimesh.Trimesh, target: Path) -> None:
    if fmt == "GLB":
        shutil.copyfile(path, target)  # already what the browser wants, materials and textures included
    elif fmt == "GLTF":
        # The scene, not the joined mesh: nodes, PBR materials and embedded textures carry over (animations don't).
        trimesh.load_scene(path, file_type="gltf").export(target, file_type="glb")  # type: ignore[no-untyped-call]
    else:
        mesh.export(target, file_type="glb")


def _load(path: Path, fmt: str) -> trimesh.Trimesh:
    """The whole model as one mesh (a glTF scene's nodes placed and joined), or a rejection saying it is damaged."""
    try:
        mesh = trimesh.load_mesh(path, file_type=fmt.lower())
    except MemoryError:
        raise
    except Exception as error:  # trimesh's readers raise whatever their parsers meet in a damaged file
        raise MediaRejected(ErrorCode.TRUNCATED, f"The {fmt} model could not be read ({type(error).__name__}: "
                                                 f"{error}); it may be damaged or cut off. Export it again.") from error
    if not isinstance(mesh, trimesh.Trimesh):
        raise MediaRejected(ErrorCode.EMPTY_FILE, f"The {fmt} file holds no triangle mesh.")
    return mesh


def _check_faces(faces: int, max_faces: int, verb: str) -> None:
    if faces > max_faces:
        raise MediaRejected(ErrorCode.TOO_MANY_FACES,
                            f"The 3D model {verb} {faces:,} triangles, more than the limit of {max_faces:,}; "
                            "upload a decimated (simplified) version.")


def _no_triangles(declared: Declared) -> MediaRejected:
    points = f", only {declared.vertices:,} points" if declared.vertices else ""
    return MediaRejected(ErrorCode.EMPTY_FILE, f"The 3D model has no triangles{points}. Point clouds and line "
                                               "drawings are not accepted; export a surface mesh.")


# What the file declares, read before anything is loaded.

_EXTENSIONS = {".glb": "GLB", ".gltf": "GLTF", ".obj": "OBJ", ".ply": "PLY", ".stl": "STL"}
_HEAD_BYTES = 4096
_BLOCK_BYTES = 1 << 20
_UNREADABLE_EXTENSIONS = frozenset({"KHR_draco_mesh_compression", "EXT_meshopt_compression"})  # trimesh reads neither
_MAX_HEADER_BYTES = 64 * 1024  # a PLY header; glTF JSON is read whole, within max_bytes
_PLY_TYPES = {name: struct.calcsize(code) for names, code in (
    (("char", "int8", "uchar", "uint8"), "b"), (("short", "int16", "ushort", "uint16"), "h"),
    (("int", "int32", "uint", "uint32", "float", "float32"), "i"), (("double", "float64"), "d"))
    for name in names}  # fmt: skip


@dataclass(frozen=True)
class Declared:
    vertices: int
    faces: int  # triangles, or (OBJ, PLY) polygons: at least that many triangles
    text: bool = False
    short: MediaRejected | None = None  # the file holds less than it declares (told after the face limit)


def _model_format(path: Path) -> str:
    """The format the bytes say; a model extension naming another format is refused."""
    with path.open("rb") as stream:
        head = stream.read(_HEAD_BYTES)
    size = path.stat().st_size
    named = _EXTENSIONS.get(path.suffix.lower())
    fmt = _format_of(head, size, named)
    if fmt is None:
        raise MediaRejected(ErrorCode.UNSUPPORTED_FORMAT, f"'{path.name}' is not a 3D model file we can read; "
                                                          "accepted: GLB, glTF (embedded), OBJ, PLY, STL.")
    if named is not None and fmt != named:
        raise MediaRejected(ErrorCode.EXTENSION_MISMATCH, f"'{path.name}' is named as {named} but its contents "
                                                          f"are {fmt}; rename it to .{fmt.lower()} or upload the "
                                                          "right file.")
    return fmt


def _format_of(head: bytes, size: int, named: str | None) -> str | None:
    if head.startswith(b"glTF"):
        return "GLB"
    if head.startswith((b"ply\n", b"ply\r\n")):
        return "PLY"
    text = head.lstrip().lower()
    binary_stl = size >= 84 and 84 + 50 * struct.unpack_from("<I", head, 80)[0] == size
    if binary_stl or (named == "STL" and size >= 84 and not text.startswith(b"solid")):
        return "STL"  # binary (some exporters start even a binary header with "solid": the size decides)
    if text.startswith(b"solid"):
        return "STL"
    if text.startswith(b"{") and (b'"asset"' in head or named == "GLTF"):
        return "GLTF"
    try:
        lines = [line.split() for line in head.decode("utf-8").splitlines()[:-1] if line.strip()]
    except UnicodeDecodeError:
        return None
    keywords = {line[0] for line in lines}
    if "v" in keywords and keywords <= {"v", "vt", "vn", "vp", "f", "l", "p", "o", "g", "s", "mtllib", "usemtl"} | {
            word for word in keywords if word.startswith("#")}:
        return "OBJ"
    return None


def _declared_counts(path: Path, fmt: str) -> Declared:
    readers = {"GLB": _glb, "GLTF": _gltf, "PLY": _ply, "STL": _stl, "OBJ": _obj}
    return readers[fmt](path)


def _stl(path: Path) -> Declared:
    size = path.stat().st_size
    with path.open("rb") as stream:
        head = stream.read(84)
    if 84 + 50 * struct.unpack_from("<I", head, 80)[0] == size or not head.lstrip().lower().startswith(b"solid"):
        faces = struct.unpack_from("<I", head, 80)[0]
        short = _cut_off("STL", f"its header declares {faces:,} triangles ({84 + 50 * faces:,} bytes)", size)
        return Declared(3 * faces, faces, short=short if 84 + 50 * faces > size else None)
    faces = _count(path, b"endfacet")
    with path.open("rb") as stream:
        stream.seek(max(0, size - 512))
        if b"endsolid" not in stream.read().lower():
            raise _cut_off("STL", "it has no closing 'endsolid' line", size)
    return Declared(3 * faces, faces, text=True)


def _obj(path: Path) -> Declared:
    return Declared(_count(path, b"\nv ", first=b"v "), _count(path, b"\nf ", first=b"f "), text=True)


def _ply(path: Path) -> Declared:
    with path.open("rb") as stream:
        head = stream.read(_MAX_HEADER_BYTES)
    end = head.find(b"end_header")
    if end < 0:
        raise _cut_off("PLY", "its header has no 'end_header' line", path.stat().st_size)
    lines = [line.split() for line in head[:end].decode("ascii", errors="replace").splitlines()]
    encoding = next((line[1] for line in lines if line[:1] == ["format"] and len(line) > 1), "")
    counts: dict[str, int] = {}
    row_bytes: dict[str, int] = {}
    element = ""
    for line in lines:
        if line[:1] == ["element"] and len(line) == 3 and line[2].isdigit():
            element = line[1]
            counts[element], row_bytes[element] = int(line[2]), 0
        elif line[:1] == ["property"] and element and len(line) >= 3:
            if line[1] == "list" and len(line) >= 5:  # a face lists at least 3 corners; other lists may be empty
                corners = 3 if element == "face" else 0
                row_bytes[element] += _PLY_TYPES.get(line[2], 1) + corners * _PLY_TYPES.get(line[3], 1)
            else:
                row_bytes[element] += _PLY_TYPES.get(line[1], 1)
    text = encoding == "ascii"
    faces, vertices = counts.get("face", 0), counts.get("vertex", 0)
    least = sum(counts[e] * (2 * max(1, row_bytes[e] // 4) if text else row_bytes[e]) for e in counts)
    data = path.stat().st_size - end - len(b"end_header\n")
    short = _cut_off("PLY", f"its header declares {vertices:,} vertices and {faces:,} faces", data)
    return Declared(vertices, faces, text=text, short=short if least > data else None)  # ASCII: a digit, a space


def _glb(path: Path) -> Declared:
    size = path.stat().st_size
    with path.open("rb") as stream:
        header = stream.read(20)
        if len(header) < 20:
            raise _cut_off("GLB", "it ends inside its 20-byte header", size)
        _, version, length, json_length, kind = struct.unpack("<4sIII4s", header)
        if version != 2:
            raise MediaRejected(ErrorCode.UNSUPPORTED_FORMAT, f"This is a glTF {version} file; only glTF 2.0 is "
                                                              "accepted. Export it again as glTF 2.0 (.glb).")
        if length > size or kind != b"JSON" or 20 + json_length > size:
            raise _cut_off("GLB", f"its header declares {length:,} bytes", size)
        document = _json(stream.read(json_length), "GLB")
        bin_header = stream.read(8)
    binary = struct.unpack("<I4s", bin_header)[0] if len(bin_header) == 8 and bin_header[4:] == b"BIN\x00" else 0
    declared = _gltf_counts(document, "GLB", binary)
    if 20 + json_length + 8 + binary > size:
        short = _cut_off("GLB", f"its binary chunk declares {binary:,} bytes", size)
        return Declared(declared.vertices, declared.faces, short=short)
    return declared


def _gltf(path: Path) -> Declared:
    return _gltf_counts(_json(path.read_bytes(), "glTF"), "glTF", 0)


def _json(data: bytes, fmt: str) -> dict[str, Any]:
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, ValueError) as error:
        raise MediaRejected(ErrorCode.TRUNCATED, f"The {fmt} model's JSON is incomplete or damaged ({error}); "
                                                 "it may have been cut off. Export it again.") from error
    if not isinstance(document, dict):
        raise MediaRejected(ErrorCode.TRUNCATED, f"The {fmt} model's JSON is not a glTF document.")
    return document


def _gltf_counts(document: dict[str, Any], fmt: str, binary: int) -> Declared:
    """Vertices and triangles of every mesh as many times as the scene places it; buffers checked for size."""
    try:
        for buffer in document.get("buffers", []):
            uri = buffer.get("uri")
            if uri is None:
                have = binary
            elif uri.startswith("data:") and "," in uri:
                payload = uri.split(",", 1)[1]
                have = len(payload) * 3 // 4 - payload[-2:].count("=") if ";base64" in uri.split(",")[0] else 0
            else:
                raise MediaRejected(ErrorCode.UNSUPPORTED_FORMAT,
                                    f"The {fmt} file refers to a separate file '{uri}', which cannot be read from "
                                    "one upload. Export the model as a single .glb (binary glTF) and upload that.")
            if have < int(buffer["byteLength"]):
                raise _cut_off(fmt, f"a buffer declares {int(buffer['byteLength']):,} bytes", have)
        for image in document.get("images", []):
            if "uri" in image and not image["uri"].startswith("data:"):
                raise MediaRejected(ErrorCode.UNSUPPORTED_FORMAT,
                                    f"The {fmt} file refers to a separate texture '{image['uri']}', which cannot be "
                                    "read from one upload. Export the model as a single .glb and upload that.")
        unreadable = set(document.get("extensionsRequired", [])) & _UNREADABLE_EXTENSIONS
        if unreadable:
            raise MediaRejected(ErrorCode.UNSUPPORTED_FORMAT,
                                f"The {fmt} file's meshes are compressed ({', '.join(sorted(unreadable))}), which we "
                                "cannot read yet; export it again without mesh compression.")
        accessors = document.get("accessors", [])
        per_mesh = []
        for mesh in document.get("meshes", []):
            vertices = faces = 0
            for primitive in mesh.get("primitives", []):
                count = int(accessors[primitive["attributes"]["POSITION"]]["count"])
                indexed = int(accessors[primitive["indices"]]["count"]) if "indices" in primitive else count
                mode = primitive.get("mode", 4)
                vertices += count
                faces += indexed // 3 if mode == 4 else max(indexed - 2, 0) if mode in (5, 6) else 0
            per_mesh.append((vertices, faces))
        placed = _placements(document)
        vertices = sum(per_mesh[m][0] * n for m, n in placed.items())
        faces = sum(per_mesh[m][1] * n for m, n in placed.items())
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as error:
        raise MediaRejected(ErrorCode.TRUNCATED, f"The {fmt} model's JSON is not valid glTF 2.0 ({error!r} is "
                                                 "missing or wrong); export it again.") from error
    return Declared(vertices, faces)


def _placements(document: dict[str, Any]) -> dict[int, int]:
    """How many times each mesh is placed by the default scene (every mesh once where there is no scene)."""
    scenes = document.get("scenes", [])
    if not scenes:
        return dict.fromkeys(range(len(document.get("meshes", []))), 1)
    nodes = document.get("nodes", [])
    placed: dict[int, int] = {}
    seen: set[int] = set()  # nodes form a tree; a file that says otherwise is not allowed to multiply itself
    todo = list(scenes[int(document.get("scene", 0))].get("nodes", []))
    while todo:
        index = int(todo.pop())
        if index in seen:
            continue
        seen.add(index)
        if "mesh" in nodes[index]:
            placed[int(nodes[index]["mesh"])] = placed.get(int(nodes[index]["mesh"]), 0) + 1
        todo.extend(nodes[index].get("children", []))
    return placed


def _count(path: Path, needle: bytes, first: bytes = b"") -> int:
    """Occurrences of needle in the file (and whether it starts with `first`), read in blocks: memory stays flat."""
    total, tail = 0, b""
    with path.open("rb") as stream:
        start = stream.read(len(first)) if first else b""
        total += bool(first) and start == first
        tail = start
        while block := stream.read(_BLOCK_BYTES):
            window = tail + block
            total += window.count(needle)
            tail = window[-(len(needle) - 1):] if len(needle) > 1 else b""
    return int(total)


def _cut_off(fmt: str, what: str, have: int) -> MediaRejected:
    return MediaRejected(ErrorCode.TRUNCATED, f"The {fmt} model is incomplete: {what}, but the file holds only "
                                              f"{have:,} bytes of it. The upload may have been cut off; upload it "
                                              "again.")
