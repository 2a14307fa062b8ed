"""Documents, recordings and 3D models end to end: upload → real gateway → real S3 → real Airflow DAG → real
Elasticsearch → search, delivery and IIIF through the gateway.

One batch of mixed media (made here by samples/mediafiles, no downloads) with a bad file of each kind; one DAG run
shared by every assertion of this module.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
import trimesh
from elasticsearch import Elasticsearch
from minio import Minio

from samples.mediafiles import av as avfiles
from samples.mediafiles import documents, models
from schemas.access import Role
from services.access.db import Database
from services.ingest.model_render import render_view
from services.settings import Settings
from services.uploader import Uploader
from tests.access import Member, make_institution, staff_key
from tests.factories import make_image
from tests.integration.test_ingest import docs_of
from tests.integration.uploading import ingest

pytestmark = pytest.mark.slow

ROWS = [  # object id, title zh, title en, file
    ("DOC-1", "瓷器图录", "Porcelain catalogue", "files/catalogue.pdf"),
    ("DOC-2", "拓片册", "Rubbings album", "files/scan.pdf"),
    ("TIF-1", "手稿", "Manuscript", "files/manuscript.tif"),
    ("VID-1", "修复纪录片", "Conservation film", "files/film.mp4"),
    ("WEB-1", "演出录像", "Performance recording", "files/performance.webm"),
    ("AUD-1", "口述历史", "Oral history", "files/interview.wav"),
    ("M3D-1", "青瓷瓶三维模型", "Celadon vase scan", "files/vase.glb"),
    ("M3D-2", "方块", "Cube", "files/cube.stl"),
    ("MIX-1", "瓶与照片", "Vase and photo", "files/vase.obj|模型; files/photo.jpg|照片"),
    # bad input, one of each kind
    ("BAD-PAGES", "炸弹", "Page bomb", "files/bomb.pdf"),
    ("BAD-LIE", "名不副实", "Named as video", "files/not-a-film.mp4"),
    ("BAD-ZERO", "无时长", "Zero duration", "files/empty.wav"),
    ("BAD-CUT", "截断", "Truncated video", "files/cut.mp4"),
    ("BAD-FACES", "过大", "Face bomb", "files/huge.stl"),
    ("BAD-PDF", "残缺", "Truncated document", "files/cut.pdf"),
]
PAGES = ["瓷器图录 第一页 青花瓷 blue and white porcelain", "第二页 铜镜 bronze mirror of the Tang dynasty"]


def _make_batch(folder: Path) -> None:
    files = folder / "files"
    files.mkdir(parents=True)
    documents.pdf_with_text(files / "catalogue.pdf", PAGES)
    documents.scanned_pdf(files / "scan.pdf", ["甲骨文拓片"])
    documents.multipage_tiff(files / "manuscript.tif", ["第一页", "第二页", "第三页"])
    avfiles.mp4(files / "film.mp4", 2.0)
    avfiles.webm(files / "performance.webm", 1.5)
    avfiles.wav(files / "interview.wav", 2.0)
    models.vessel(files / "vase.glb", "glb")
    models.cube(files / "cube.stl", "stl")
    models.vessel(files / "vase.obj", "obj")
    make_image(files / "photo.jpg", seed=5)
    documents.pdf_bomb(files / "bomb.pdf")
    documents.pdf_with_text(files / "not-a-film.mp4", ["a document named as a film"])
    avfiles.zero_duration(files / "empty.wav")
    avfiles.truncated_mp4(files / "cut.mp4")
    models.stl_bomb(files / "huge.stl")
    documents.truncated_pdf(files / "cut.pdf", PAGES)
    licence = {"VID-1": "InC"}  # in copyright: the public receives its poster (thumbnail tier), no more
    lines = ["文物编号,名称,英文名称,许可,图像"]
    lines += [f"{o},{zh},{en},{licence.get(o, 'CC0')},{f}" for o, zh, en, f in ROWS]
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def module_curator(db: Database) -> Member:
    """A curator of a new institution for this module's one batch (tests/cleanup.py removes what it made)."""
    return staff_key(db, make_institution(db, "CN-BJ", institution=f"museum-t{uuid.uuid4().hex[:12]}"), Role.CURATOR)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory, settings: Settings,
             module_curator: Member) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]], Member]]:
    folder = tmp_path_factory.mktemp("media") / "batch"
    _make_batch(folder)
    uploader = Uploader(settings.gateway.public_url, module_curator.key)
    try:
        batch, items = ingest(uploader, folder, module_curator.institution)
    finally:
        uploader.close()
    yield batch, items, module_curator


def test_every_kind_is_ingested_and_each_bad_file_rejected_with_its_reason(
        ingested: tuple[dict[str, Any], list[dict[str, Any]], Member], es: Elasticsearch, settings: Settings) -> None:
    batch, items, curator = ingested
    status = {i["object_id"]: i["status"] for i in items if i.get("object_id")}
    good = [o for o, *_ in ROWS if not o.startswith("BAD-")]
    assert {o: status.get(o) for o in good} == dict.fromkeys(good, "indexed"), items
    codes = {i["object_id"]: {e["code"] for e in i["errors"]} for i in items if i["status"] == "rejected"}
    assert codes == {"BAD-PAGES": {"too-many-pages"}, "BAD-LIE": {"extension-mismatch"},
                     "BAD-ZERO": {"zero-duration"}, "BAD-CUT": {"truncated"}, "BAD-FACES": {"too-many-faces"},
                     "BAD-PDF": {"truncated"}}, items
    for item in items:  # each refusal says where (row, field) and why, in words a museum can act on
        for error in item.get("errors") or []:
            assert item["row"] > 1 and error["field"] == "media" and len(error["reason"]) > 30, (item, error)
    assert batch["state"] == "succeeded" and batch["counts"]["indexed"] == len(good)

    docs = docs_of(es, settings, curator.institution)
    assert set(docs) == set(good)
    kinds = {o: docs[o]["media_types"] for o in good}
    assert kinds == {"DOC-1": ["document"], "DOC-2": ["document"], "TIF-1": ["document"], "VID-1": ["video"],
                     "WEB-1": ["video"], "AUD-1": ["audio"], "M3D-1": ["model"], "M3D-2": ["model"],
                     "MIX-1": ["image", "model"]}
    catalogue = docs["DOC-1"]
    assert catalogue["page_count"] == 2 and [im["page"] for im in catalogue["images"]] == [1, 2]
    assert [im["text_source"] for im in catalogue["images"]] == ["layer", "layer"]
    assert "铜镜" in catalogue["images"][1]["text"]
    scan = docs["DOC-2"]["images"][0]
    assert scan["text_source"] == "ocr" and "拓片" in scan["text"]  # no text layer: read from the page image
    assert docs["TIF-1"]["page_count"] == 3
    film = docs["VID-1"]
    assert abs(film["duration_s"] - 2.0) < 0.2 and film["media_files"][0]["video_codec"] == "h264"
    assert len(film["images"]) == settings.media.keyframes and all(im["time_s"] is not None for im in film["images"])
    assert all(im["vector"] for im in film["images"])  # keyframes searchable by picture
    assert {d["name"] for d in film["media_files"][0]["derivatives"]} == {"poster", "contact-sheet", "rendition"}
    assert {d["name"] for d in docs["AUD-1"]["media_files"][0]["derivatives"]} == {"waveform", "rendition"}
    vase = docs["M3D-1"]
    assert vase["media_files"][0]["faces"] > 0 and {d["name"] for d in vase["media_files"][0]["derivatives"]} == {"glb"}
    assert [im["view"] for im in vase["images"]] == settings.media.model_views
    mixed = docs["MIX-1"]
    assert [im["of_media"] is None for im in mixed["images"]].count(True) == 1  # the photo; the rest are views


def _asset_id(es: Elasticsearch, settings: Settings, institution: str, object_id: str) -> str:
    return str(docs_of(es, settings, institution)[object_id]["asset_id"])


def test_a_page_hit_says_which_page_and_media_filters_and_facets_count_kinds(
        ingested: tuple[dict[str, Any], list[dict[str, Any]], Member], settings: Settings) -> None:
    _, _, curator = ingested
    headers = {"Authorization": f"Bearer {curator.key}"}
    base = settings.gateway.public_url
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for mode in ("keyword", "hybrid"):
            page = client.get("/v1/search", params={"q": "铜镜", "mode": mode, "institution": curator.institution})
            assert page.status_code == 200, page.text
            hit = next(h for h in page.json()["hits"] if h["record"]["object_id"] == "DOC-1")
            assert [p["page"] for p in hit["pages"]] == [2], (mode, hit["pages"])
            assert "<em>" in hit["pages"][0]["fragment"]
        videos = client.get("/v1/search", params={"media_type": "video", "institution": curator.institution}).json()
        assert {h["record"]["object_id"] for h in videos["hits"]} == {"VID-1", "WEB-1"}
        counts = {b["value"]: b["count"] for b in videos["facets"]["media_type"]}
        assert counts == {"video": 2}
        everything = client.get("/v1/search", params={"institution": curator.institution}).json()
        counts = {b["value"]: b["count"] for b in everything["facets"]["media_type"]}
        assert counts == {"document": 3, "video": 2, "audio": 1, "model": 3, "image": 1}
        short = client.get("/v1/search", params={"institution": curator.institution, "duration_to": 1.8}).json()
        assert {h["record"]["object_id"] for h in short["hits"]} == {"WEB-1"}


def test_derivatives_are_delivered_by_tier_and_play(
        ingested: tuple[dict[str, Any], list[dict[str, Any]], Member], es: Elasticsearch, settings: Settings) -> None:
    _, _, curator = ingested
    film = _asset_id(es, settings, curator.institution, "VID-1")
    vase = _asset_id(es, settings, curator.institution, "M3D-1")
    with httpx.Client(base_url=settings.gateway.public_url, headers={"Authorization": f"Bearer {curator.key}"},
                      timeout=30) as client:
        view = client.get(f"/v1/assets/{film}").json()
        assert {(f["name"], f["tier"]) for f in view["files"]} == {
            ("poster", "thumbnail"), ("contact-sheet", "preview"), ("rendition", "preview"), ("original", "original")}
        link = client.get(f"/v1/assets/{film}/files/0/rendition", params={"as": "json"}).json()
        assert link["mime"] == "video/mp4"
        data = httpx.get(link["href"], timeout=30).content
        with av.open(io.BytesIO(data)) as played:
            assert played.streams.video[0].codec_context.name == "h264"
        assert client.get(f"/v1/assets/{film}/files/0/nothing").status_code == 404
        assert client.get(f"/v1/assets/{film}/files/3/original").status_code == 404
        glb = client.get(f"/v1/assets/{vase}/files/0/glb", follow_redirects=False)
        assert glb.status_code == 302
        mesh = trimesh.load(io.BytesIO(httpx.get(glb.headers["location"], timeout=30).content), file_type="glb",
                            force="mesh")
        assert len(mesh.faces) > 0
        manifest = client.get(f"/iiif/presentation/3/{vase}/manifest")
        if manifest.status_code == 404:  # the route's path as the gateway names it
            manifest = client.get(f"/iiif/3/{vase}/manifest")
        assert manifest.status_code == 200, manifest.text
        assert any(r.get("format") == "model/gltf-binary" for r in manifest.json().get("rendering", []))
    with httpx.Client(base_url=settings.gateway.public_url, timeout=30) as anonymous:
        public = anonymous.get(f"/v1/assets/{film}").json()
        assert {f["name"] for f in public["files"]} == {"poster"}
        assert anonymous.get(f"/v1/assets/{film}/files/0/poster").status_code == 302
        for name in ("rendition", "original"):
            refused = anonymous.get(f"/v1/assets/{film}/files/0/{name}")
            assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["allowed_tier"] == "thumbnail"


def test_what_was_stored_is_content_addressed_and_the_rejected_files_kept(
        ingested: tuple[dict[str, Any], list[dict[str, Any]], Member], s3: Minio, settings: Settings) -> None:
    batch, _, curator = ingested
    quarantined = {o.object_name for o in s3.list_objects(settings.s3.bucket_quarantine,
                                                           prefix=f"{batch['batch_id']}/", recursive=True)}
    for name in ("bomb.pdf", "not-a-film.mp4", "empty.wav", "cut.mp4", "huge.stl", "cut.pdf"):
        assert f"{batch['batch_id']}/files/files/{name}" in quarantined
    originals = {o.object_name.rsplit(".", 1)[-1] for o in s3.list_objects(
        settings.s3.bucket_assets, prefix=f"{curator.institution}/originals/", recursive=True)}
    assert {"pdf", "tif", "mp4", "webm", "wav", "glb", "stl", "obj", "jpg"} <= originals


def test_a_picture_finds_a_video_by_its_frames_and_a_model_by_its_views(
        ingested: tuple[dict[str, Any], list[dict[str, Any]], Member], tmp_path: Path, settings: Settings) -> None:
    """A still of the film at a time that is no keyframe finds the film; a render of the vase from an angle no
    stored view has (its left side, at another size) finds the vase's two models."""
    _, _, curator = ingested
    film = avfiles.mp4(tmp_path / "film.mp4", 2.0)  # the same pictures as the ingested film
    with av.open(str(film)) as container:
        frame = next(f for f in container.decode(video=0) if f.time is not None and f.time >= 1.1)
        still = io.BytesIO()
        frame.to_image().save(still, "JPEG", quality=90)
    mesh = trimesh.load(str(models.vessel(tmp_path / "vase.glb", "glb")), force="mesh")
    photo = io.BytesIO()
    render_view(mesh, "left", 500).save(photo, "JPEG", quality=90)
    with httpx.Client(base_url=settings.gateway.public_url, headers={"Authorization": f"Bearer {curator.key}"},
                      timeout=60) as client:
        def by_picture(data: bytes) -> list[str]:
            found = client.post("/v1/search/image", params={"institution": curator.institution},
                                files={"file": ("query.jpg", data, "image/jpeg")})
            assert found.status_code == 200, found.text
            return [h["record"]["object_id"] for h in found.json()["hits"]]

        assert by_picture(still.getvalue())[0] == "VID-1"
        assert set(by_picture(photo.getvalue())[:2]) == {"M3D-1", "MIX-1"}  # the same vessel, as GLB and as OBJ
