"""Bulk ingestion end to end: upload → real gateway → real S3 → real Airflow DAG → real Elasticsearch."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from elasticsearch import Elasticsearch
from minio import Minio
from PIL import Image
from typer.testing import CliRunner

from indexing.aliases import assets_alias
from services.cli import app
from services.settings import Settings
from services.uploader import Uploader, check_folder
from services.workflows import AirflowClient
from tests.access import Member
from tests.factories import make_bomb_png, make_good_batch, make_image, write_manifest
from tests.helpers import assert_problem
from tests.integration.uploading import ingest, send_batch

pytestmark = pytest.mark.slow


@pytest.fixture
def institution(curator: Member) -> str:
    return curator.institution


def docs_of(es: Elasticsearch, settings: Settings, institution: str) -> dict[str, dict[str, Any]]:
    es.indices.refresh(index=assets_alias(settings.es))
    resp = es.search(index=assets_alias(settings.es), query={"term": {"institution": institution}}, size=1000)
    return {h["_source"]["object_id"]: h["_source"] for h in resp["hits"]["hits"]}


def test_cli_upload_ingests_a_batch_that_is_then_searchable_by_keyword(
    tmp_path: Path, institution: str, curator: Member, es: Elasticsearch, s3: Minio, settings: Settings
) -> None:
    folder = make_good_batch(tmp_path / "batch", 4)

    result = CliRunner().invoke(app, ["--key", curator.key, "upload", str(folder), "--institution", institution,
                                      "--wait"])

    assert result.exit_code == 0, result.output
    assert "succeeded" in result.output and "stored 4" in result.output
    es.indices.refresh(index=assets_alias(settings.es))
    hits = es.search(index=assets_alias(settings.es), query={"bool": {
        "must": {"match": {"title_en": "vase 2"}}, "filter": {"term": {"institution": institution}}}})["hits"]["hits"]
    top = hits[0]["_source"]
    assert top["object_id"] == "OBJ-0002"
    assert top["title_zh"] == "青花瓷瓶2"
    assert top["licence"]["uri"] == "https://creativecommons.org/publicdomain/zero/1.0/"
    image = top["images"][0]
    original = (folder / "images/OBJ-0002.jpg").read_bytes()
    assert image["sha256"] == hashlib.sha256(original).hexdigest()
    assert image["key"] == f"{institution}/originals/{image['sha256'][:2]}/{image['sha256']}.jpg"
    assert s3.get_object(settings.s3.bucket_assets, image["key"]).read() == original
    assert (image["width"], image["height"], image["format"], image["label"]) == (640, 480, "JPEG", "正面")
    thumb = Image.open(io.BytesIO(s3.get_object(settings.s3.bucket_assets, image["thumbnail_key"]).read()))
    preview = Image.open(io.BytesIO(s3.get_object(settings.s3.bucket_assets, image["preview_key"]).read()))
    assert max(thumb.size) == 400 and max(preview.size) == 640  # previews never upscale
    assert len(image["phash"]) == 16


def test_bad_inputs_are_each_reported_and_the_good_rows_are_ingested(
    tmp_path: Path, institution: str, uploader: Uploader, es: Elasticsearch, s3: Minio, settings: Settings
) -> None:
    folder = tmp_path / "batch"
    for name in ("good1", "good2", "dup", "extra"):
        make_image(folder / f"images/{name}.jpg", seed=hash(name) % 1000)
    (folder / "images/truncated.jpg").write_bytes(make_image(tmp_path / "t.jpg", seed=7).read_bytes()[:3000])
    (folder / "images/notes.jpg").write_text("this is a text file, not a picture")
    make_bomb_png(folder / "images/bomb.png")
    (folder / "images/empty.jpg").write_bytes(b"")
    Image.frombytes("RGB", (700, 700), os.urandom(700 * 700 * 3)).save(folder / "images/huge.png")  # ~1.5 MB
    big_limit = (folder / "images/huge.png").stat().st_size - 1
    lines = [
        "文物编号,名称,英文名称,许可,图像",
        "G-1,青花瓷瓶,Vase,CC0,images/good1.jpg",                      # row 2: good
        'Q-1,"坏的引号,Broken quote,CC0,images/good2.jpg',              # row 3: unbalanced quote
        "G-2,鼎,Ding,CC-BY-4.0,images/good2.jpg|正面",                  # row 4: good (after the bad quote)
        "M-1,,,CC0,images/good1.jpg",                                   # row 5: no title at all
        "L-1,玉璧,Jade disc,WTFPL-2,images/good1.jpg",                  # row 6: unknown licence
        "D-1,甲,A,CC0,images/dup.jpg",                                  # row 7: duplicate id
        "D-1,乙,B,CC0,images/dup.jpg",                                  # row 8: duplicate id
        "A-1,缺图,Absent,CC0,images/absent.jpg",                        # row 9: listed but absent
        "T-1,残,Truncated,CC0,images/truncated.jpg",                    # row 10
        "X-1,文本,Text,CC0,images/notes.jpg",                           # row 11
        "B-1,炸弹,Bomb,CC0,images/bomb.png",                            # row 12
        "P-1,越界,Traversal,CC0,../outside.jpg",                        # row 13
        "P-2,绝对,Absolute,CC0,/etc/passwd",                            # row 14
        "Z-1,空,Empty,CC0,images/empty.jpg",                            # row 15
        "S-1,大,Huge,CC0,images/huge.png",                              # row 16
    ]
    data = "\n".join(lines).encode("utf-8") + b"\n"
    data += b"E-1," + "瓷器".encode("gbk") + b",GBK bytes,CC0,images/good1.jpg\n"  # row 17
    (folder / "manifest.csv").write_bytes(b"\xef\xbb\xbf" + data)

    batch, items = ingest(uploader, folder, institution, max_file_bytes=big_limit)

    codes = {(i["row"], e["code"]) for i in items for e in i.get("errors") or []}
    assert {(3, "unbalanced-quote"), (5, "missing-field"), (6, "unknown-licence"), (7, "duplicate-object-id"),
            (8, "duplicate-object-id"), (9, "media-missing"), (10, "truncated"), (11, "not-an-image"),
            (12, "decompression-bomb"), (13, "unsafe-path"), (14, "unsafe-path"), (15, "empty-file"),
            (16, "too-large"), (17, "invalid-encoding"), (None, "media-unlisted")} <= codes
    every_error = [e for i in items if i["status"] == "rejected" for e in i["errors"]]
    assert all(e["reason"] for e in every_error)
    assert next(e for e in every_error if e["code"] == "unknown-licence")["field"] == "许可 (licence)"
    encoding_error = next(e for e in every_error if e["code"] == "invalid-encoding")
    assert encoding_error["reason"].endswith("save the manifest as UTF-8")
    stored = {i["object_id"] for i in items if i["status"] == "indexed"}
    assert stored == {"G-1", "G-2"}
    counts = batch["counts"]
    assert batch["state"] == "succeeded"
    assert counts["received"] == counts["stored"] + counts["rejected"] == 17
    assert (counts["stored"], counts["indexed"], counts["valid"]) == (2, 2, 7)
    progress = batch["progress"]  # per stage: 7 validated, 5 of them refused while their files were stored
    assert {k: progress[k] for k in ("validated", "stored", "enriched", "indexed")} == \
        {"validated": 7, "stored": 2, "enriched": 2, "indexed": 2}
    assert progress["elapsed_s"] > 0 and progress["eta_s"] == 0
    assert set(docs_of(es, settings, institution)) == {"G-1", "G-2"}
    quarantined = {o.object_name for o in s3.list_objects(settings.s3.bucket_quarantine,
                                                           prefix=f"{batch['batch_id']}/", recursive=True)}
    batch_files = f"{batch['batch_id']}/files/images/"
    assert {batch_files + n for n in ("truncated.jpg", "notes.jpg", "bomb.png", "empty.jpg", "huge.png",
                                      "extra.jpg", "dup.jpg")} <= quarantined
    assert f"{batch['batch_id']}/report.json" in quarantined


def test_the_same_batch_twice_creates_no_duplicates(
    tmp_path: Path, institution: str, uploader: Uploader, es: Elasticsearch, settings: Settings
) -> None:
    folder = make_good_batch(tmp_path / "batch", 3)
    shutil.copy(folder / "images/OBJ-0000.jpg", folder / "images/copy-of-0.jpg")
    write_manifest(folder, [["OBJ-0000", "青花瓷瓶0", "Vase 0", "CC0", "images/OBJ-0000.jpg"],
                            ["OBJ-0001", "青花瓷瓶1", "Vase 1", "CC0", "images/OBJ-0001.jpg"],
                            ["OBJ-0002", "青花瓷瓶2", "Vase 2", "CC0", "images/OBJ-0002.jpg; images/copy-of-0.jpg"]])

    first, _ = ingest(uploader, folder, institution)
    before = docs_of(es, settings, institution)
    second, _ = ingest(uploader, folder, institution)
    after = docs_of(es, settings, institution)

    assert first["state"] == second["state"] == "succeeded"
    assert first["batch_id"] != second["batch_id"]
    assert set(before) == set(after) == {"OBJ-0000", "OBJ-0001", "OBJ-0002"}
    assert {k: v["asset_id"] for k, v in before.items()} == {k: v["asset_id"] for k, v in after.items()}
    assert {k: [i["key"] for i in v["images"]] for k, v in before.items()} == \
           {k: [i["key"] for i in v["images"]] for k, v in after.items()}
    assert after["OBJ-0002"]["images"][1]["key"] == after["OBJ-0000"]["images"][0]["key"]  # identical file, stored once


def test_reuploading_changed_metadata_updates_the_records(
    tmp_path: Path, institution: str, uploader: Uploader, es: Elasticsearch, settings: Settings
) -> None:
    folder = make_good_batch(tmp_path / "batch", 2)
    ingest(uploader, folder, institution)
    write_manifest(folder, [["OBJ-0000", "青花缠枝莲纹瓶", "Vase with lotus scrolls", "InC-EDU", "images/OBJ-0000.jpg"],
                            ["OBJ-0001", "青花瓷瓶1", "Blue and white vase 1", "CC0", "images/OBJ-0001.jpg"]])

    batch, _ = ingest(uploader, folder, institution)
    docs = docs_of(es, settings, institution)

    assert batch["state"] == "succeeded"
    assert len(docs) == 2
    assert docs["OBJ-0000"]["title_zh"] == "青花缠枝莲纹瓶"
    assert docs["OBJ-0000"]["licence"]["code"] == "InC-EDU"
    assert docs["OBJ-0000"]["batch_id"] == batch["batch_id"]


def test_gateway_answers_bad_batch_requests_with_problem_json(settings: Settings, institution: str,
                                                              curator: Member) -> None:
    manifest = {"name": "manifest.csv", "size": 10}

    with httpx.Client(base_url=settings.gateway.public_url,
                      headers={"Authorization": f"Bearer {curator.key}"}) as api:
        traversal = api.post("/v1/batches", json={"institution": institution, "manifest": manifest,
                                                  "files": [{"path": "../../etc/passwd", "size": 1}]})
        bad_institution = api.post("/v1/batches", json={"institution": "Not An Id", "manifest": manifest})
        bad_manifest = api.post("/v1/batches", json={"institution": institution,
                                                     "manifest": {"name": "list.xlsx", "size": 1}})
        too_lenient = api.post("/v1/batches", json={"institution": institution, "manifest": manifest,
                                                    "max_file_bytes": 10**15})
        other = api.post("/v1/batches", json={"institution": "another-museum", "manifest": manifest})
        unknown = api.get("/v1/batches/20260101-000000000000")
    anonymous = httpx.post(f"{settings.gateway.public_url}/v1/batches", json={"manifest": manifest})

    body = assert_problem(traversal, 422, "https://wenyuan.dev/problems/invalid-request")
    assert body["errors"][0]["field"] == "body.files.0.path"
    assert "leaves the batch folder" in body["errors"][0]["reason"]
    assert_problem(bad_institution, 422, "https://wenyuan.dev/problems/invalid-request")
    assert ".csv or .jsonl" in assert_problem(bad_manifest, 422, "https://wenyuan.dev/problems/invalid-request")["detail"]
    assert_problem(too_lenient, 422, "https://wenyuan.dev/problems/invalid-request")
    assert_problem(unknown, 404, "https://wenyuan.dev/problems/batch-not-found")
    assert "not another-museum" in assert_problem(other, 403, "https://wenyuan.dev/problems/forbidden")["detail"]
    assert_problem(anonymous, 403, "https://wenyuan.dev/problems/missing-scope")


def test_report_is_served_as_csv_with_a_line_per_error(
    tmp_path: Path, institution: str, uploader: Uploader, settings: Settings
) -> None:
    folder = make_good_batch(tmp_path / "batch", 2)
    write_manifest(folder, [["OBJ-0000", "瓶", "Vase", "CC0", "images/OBJ-0000.jpg"],
                            ["OBJ-0001", "瓶", "Vase", "nonsense-licence", "images/OBJ-0001.jpg"]])
    batch, _ = ingest(uploader, folder, institution)

    resp = uploader.api.get(f"/v1/batches/{batch['batch_id']}/report", params={"format": "csv"})
    stranger = httpx.get(f"{settings.gateway.public_url}/v1/batches/{batch['batch_id']}/report")

    lines = resp.content.decode("utf-8-sig").splitlines()
    assert resp.headers["content-type"].startswith("text/csv")
    assert lines[0] == "row,object_id,status,asset_id,field,code,reason,paths"
    assert any(line.startswith("2,OBJ-0000,indexed,") for line in lines)
    assert any(line.startswith("3,OBJ-0001,rejected,,许可 (licence),unknown-licence,") for line in lines)
    assert_problem(stranger, 404, "https://wenyuan.dev/problems/batch-not-found")  # only the holder's staff


def _task_process(ti_id: str) -> int | None:
    """The process running task instance `ti_id` (Airflow titles it `airflow worker -- <ti id>`)."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            title = cmdline.read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        if title == f"airflow worker -- {ti_id}":
            return int(cmdline.parent.name)
    return None


def test_a_chunk_task_killed_mid_way_is_retried_and_the_batch_completes(
    tmp_path: Path, institution: str, uploader: Uploader, airflow: AirflowClient, es: Elasticsearch,
    settings: Settings
) -> None:
    folder = make_good_batch(tmp_path / "batch", 120)
    batch_id = send_batch(uploader, folder, institution)
    run_id = uploader.submit(batch_id)["runs"][-1]
    killed = None
    deadline = time.monotonic() + 180
    while killed is None and time.monotonic() < deadline:
        running = [ti for ti in airflow.task_instances("ingest_batch", run_id)
                   if ti["task_id"] == "ingest_chunk" and ti["state"] == "running"]
        pid = _task_process(running[0]["id"]) if running else None
        if pid:
            time.sleep(1.0)  # mid-way: some files of the chunk are stored, others not yet (store comes first)
            os.kill(pid, signal.SIGKILL)
            killed = running[0]
        time.sleep(0.2)

    batch = uploader.wait(batch_id, timeout_s=300)
    instances = airflow.task_instances("ingest_batch", run_id)
    chunk_tries = [ti["try_number"] for ti in instances if ti["task_id"] == "ingest_chunk"]

    assert killed is not None, "the chunk task was never seen running"
    assert chunk_tries == [2]
    assert batch["state"] == "succeeded"
    assert batch["counts"]["stored"] == batch["counts"]["indexed"] == 120
    progress = batch["progress"]  # the retried chunk counted once
    assert [progress[k] for k in ("validated", "stored", "enriched", "indexed")] == [120] * 4
    assert len(docs_of(es, settings, institution)) == 120


def test_upload_resumes_after_an_interruption_without_resending_finished_files(
    tmp_path: Path, institution: str, curator: Member, uploader: Uploader, settings: Settings
) -> None:
    folder = make_good_batch(tmp_path / "batch", 3)
    noise = os.urandom(2400 * 2400 * 3)  # ~17 MB as PNG: above the multipart threshold, sent in 3 parts
    Image.frombytes("RGB", (2400, 2400), noise).save(folder / "images/big.png", compress_level=0)
    write_manifest(folder, [["OBJ-0000", "瓶", "Vase", "CC0", "images/OBJ-0000.jpg"],
                            ["OBJ-0001", "鼎", "Ding", "CC0", "images/OBJ-0001.jpg"],
                            ["OBJ-0002", "璧", "Disc", "CC0", "images/OBJ-0002.jpg; images/big.png"]])
    check = check_folder(folder)
    uploads = uploader.targets(folder, institution, check)
    by_path = {t["path"]: t for t in uploads["files"]}
    assert len(by_path["images/big.png"]["parts"]) == 3
    for name in ("images/big.png", "images/OBJ-0000.jpg"):  # then the connection "drops"
        uploader.send(uploads["batch"]["batch_id"], folder / name, by_path[name], lambda n: None)

    result = CliRunner().invoke(app, ["--key", curator.key, "upload", str(folder), "--wait"])

    assert result.exit_code == 0, result.output
    assert "sent 3 file(s), 2 already there (same checksum)" in result.output  # manifest + 2 images
    assert uploads["batch"]["batch_id"] in result.output
    assert "stored 3" in result.output


def test_period_text_is_normalised_to_a_year_range_that_range_queries_overlap(
    tmp_path: Path, institution: str, uploader: Uploader, es: Elasticsearch, settings: Settings
) -> None:
    folder = make_good_batch(tmp_path / "batch", 4)
    write_manifest(folder, [["OBJ-0000", "瓶", "Vase", "CC0", "images/OBJ-0000.jpg", "清乾隆"],
                            ["OBJ-0001", "碗", "Bowl", "CC0", "images/OBJ-0001.jpg", "Tang dynasty (618–907)"],
                            ["OBJ-0002", "罐", "Jar", "CC0", "images/OBJ-0002.jpg", "不详"],
                            ["OBJ-0003", "壶", "Ewer", "CC0", "images/OBJ-0003.jpg", "18世纪"]])

    batch, _ = ingest(uploader, folder, institution)
    hits = es.search(index=assets_alias(settings.es), query={"bool": {"filter": [
        {"term": {"institution": institution}},
        {"range": {"period_norm.years": {"gte": 1750, "lte": 1760, "relation": "intersects"}}}]}})["hits"]["hits"]
    docs = docs_of(es, settings, institution)

    assert batch["state"] == "succeeded"
    assert sorted(h["_source"]["object_id"] for h in hits) == ["OBJ-0000", "OBJ-0003"]
    assert docs["OBJ-0000"]["period_norm"] | {"source": None} == {
        "source": None, "period_id": "qing-qianlong", "start": 1736, "end": 1795,
        "years": {"gte": 1736, "lte": 1795}, "parsed": True, "flag": None}
    assert docs["OBJ-0001"]["period_norm"]["period_id"] == "tang"
    assert docs["OBJ-0002"]["period_norm"]["parsed"] is False
    assert docs["OBJ-0002"]["period_norm"]["flag"] == "unknown"
    assert docs["OBJ-0002"]["period"] == "不详"  # the text is kept, never replaced by a guess
