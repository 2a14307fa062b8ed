"""Hostile batches through the real gateway, S3, Airflow DAG and Elasticsearch: each bad row is a reject with
row, field, code and reason, the good rows are ingested, and received = stored + rejected (issue 19)."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from elasticsearch import Elasticsearch
from minio import Minio
from typer.testing import CliRunner

from services.cli import app
from services.ingest.batches import BatchRecord, BatchState, load_batch, new_batch_id, save_batch
from services.ingest.context import IngestContext
from services.ingest.finalize import finalize
from services.ingest.keys import BatchKeys, ChunkKeys
from services.settings import Settings
from services.storage import put_json, put_jsonl
from services.uploader import LocalCheck, Uploader
from tests.access import Member
from tests.factories import make_image
from tests.helpers import assert_problem
from tests.integration.test_ingest import docs_of
from tests.integration.uploading import ingest

pytestmark = pytest.mark.slow


def _by_row(items: list[dict[str, Any]]) -> dict[int | None, dict[str, Any]]:
    return {i["row"]: i for i in items}


def _codes(item: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in item.get("errors") or []]


FORMULA = '=HYPERLINK("http://evil.example/","click")'


def test_a_hostile_csv_batch_rejects_each_bad_row_and_ingests_the_rest(
    tmp_path: Path, curator: Member, uploader: Uploader, es: Elasticsearch, settings: Settings
) -> None:
    folder = tmp_path / "batch"
    for name in ("good", "undated", "long", "nul"):
        make_image(folder / f"images/{name}.jpg", seed=hash(name) % 1000)
    make_image(folder / "+formula.jpg", seed=5)
    rows = [
        ["G-1", "瓶", "Vase", "CC0", "images/good.jpg", "清乾隆"],                              # 2: good
        [FORMULA, "瓶", "Formula", "CC0", "+formula.jpg", ""],                                     # 3: stored
        ["W-1", "碗", "Bowl", "CC0", "images/undated.jpg", "sometime after the flood"],           # 4: stored, warned
        ["L-1", "长" * 200_000, "Long", "CC0", "images/long.jpg", ""],                            # 5: csv's 131,072
        ["N-1", "瓶", "Va\x00se", "CC0", "images/nul.jpg", ""],                                   # 6: NUL
        ["@SUM(1+1)", "坏", "Bad licence", "+cmd|' /C calc'!A0", "", ""],                        # 7: formula cells
    ]
    with (folder / "manifest.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["文物编号", "名称", "英文名称", "许可", "图像", "年代"], *rows])
    with (folder / "manifest.csv").open("ab") as f:
        f.write("瓷".encode("gbk") + b"-1,\xb4\xc9,GBK id,CC0,,\r\n")               # 8: GBK bytes in the id

    batch, items = ingest(uploader, folder, curator.institution)
    report = _by_row(items)
    csv_report = uploader.api.get(f"/v1/batches/{batch['batch_id']}/report", params={"format": "csv"})
    cells = list(csv.reader(io.StringIO(csv_report.content.decode("utf-8-sig"))))

    assert batch["state"] == "succeeded", batch.get("error")
    counts = batch["counts"]
    assert (counts["received"], counts["stored"], counts["indexed"], counts["rejected"]) == (7, 3, 3, 4)
    assert {r: i["status"] for r, i in report.items()} == {2: "indexed", 3: "indexed", 4: "indexed", 5: "rejected",
                                                           6: "rejected", 7: "rejected", 8: "rejected"}
    assert _codes(report[5]) == [("名称 (title_zh)", "field-too-long")]
    assert report[5]["errors"][0]["reason"] == \
        "200,000 characters, more than the 2,000 allowed (ingest.max_title_chars)"
    assert _codes(report[6]) == [("英文名称", "nul-character")]
    assert ("许可 (licence)", "unknown-licence") in _codes(report[7])
    assert {code for _, code in _codes(report[8])} == {"invalid-encoding"}
    assert report[8]["object_id"] == "\\udcb4\\udcc9-1"  # the bytes that are not UTF-8, written as escapes
    assert report[4]["warnings"][0]["code"] == "date-unparsed" and report[4]["warnings"][0]["field"] == "年代 (period)"
    assert "sometime after the flood" in report[4]["warnings"][0]["reason"]
    assert "warnings" not in report[2]  # 清乾隆 is read
    assert set(docs_of(es, settings, curator.institution)) == {"G-1", FORMULA, "W-1"}
    # the CSV report opens safely in a spreadsheet: no cell starts a formula
    assert all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) for line in cells for c in line)
    line_of = {line[0]: line for line in cells}
    assert line_of["3"][1] == "'" + FORMULA and line_of["3"][7] == "'+formula.jpg"  # shown as text, not run
    assert line_of["7"][:3] == ["7", "'@SUM(1+1)", "rejected"]
    assert line_of["4"][:3] == ["4", "W-1", "indexed"] and line_of["4"][5] == "date-unparsed"


def test_a_hostile_jsonl_batch_rejects_each_bad_row_and_ingests_the_rest(
    tmp_path: Path, curator: Member, uploader: Uploader, es: Elasticsearch, settings: Settings
) -> None:
    folder = tmp_path / "batch"
    for name in ("number", "deep", "nul", "null", "huge", "good"):
        make_image(folder / f"images/{name}.jpg", seed=hash(name) % 1000)

    def row(object_id: object, image: str, **more: object) -> str:
        return json.dumps({"object_id": object_id, "title_en": f"Vase {image}", "licence": "CC0",
                           "media": [f"images/{image}.jpg"], **more}, ensure_ascii=False)

    deep = "[" * 100_000 + "]" * 100_000
    lines = [
        row(1024, "number", quantity=2),                                     # 1: a number as id: stored as "1024"
        row("J-DEEP", "deep")[:-1] + ', "notes": ' + deep + "}",             # 2: nested 100,000 deep
        row("J-NUL", "nul", **{"no\u0000te": "x"}),  # 3: NUL in a key (was: stored 3, indexed 2)
        row(None, "null"),                                                   # 4: null id
        row("J-HUGE", "huge", description_en="x" * 10_000_000),              # 5: 10 MB description
        row("J-GOOD", "good", date="1736–1795"),                             # 6: good
    ]
    lines.append('{"object_id": "S-\\ud800", "title_en": "Vase", "licence": "CC0", "\\udfff": "y"}')  # 7: surrogates
    (folder / "manifest.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    batch, items = ingest(uploader, folder, curator.institution)
    report = _by_row(items)

    assert batch["state"] == "succeeded", batch.get("error")
    counts = batch["counts"]
    # 6 rows and the deep row's file: a line too deep for Python's parser names no files, so it is unlisted
    assert (counts["received"], counts["stored"], counts["indexed"], counts["rejected"]) == (8, 2, 2, 6)
    assert counts["received"] == counts["stored"] + counts["rejected"]
    assert report[1]["status"] == "indexed" and report[1]["object_id"] == "1024"
    assert _codes(report[2]) == [(None, "too-deeply-nested")]
    assert _codes(report[None]) == [("media", "media-unlisted")] and report[None]["paths"] == ["images/deep.jpg"]
    assert _codes(report[3]) == [("no\u0000te", "nul-character")]
    assert _codes(report[4]) == [("object_id", "missing-field")]
    assert _codes(report[5]) == [("description_en", "field-too-long")]
    assert report[6]["status"] == "indexed"
    assert report[7]["status"] == "rejected" and report[7]["object_id"] == "S-\\ud800"
    assert {code for _, code in _codes(report[7])} == {"invalid-value"}
    docs = docs_of(es, settings, curator.institution)
    assert set(docs) == {"1024", "J-GOOD"} and docs["1024"]["quantity"] == "2"


def test_a_gbk_manifest_fails_the_batch_naming_gbk_and_the_fix(
    tmp_path: Path, curator: Member, uploader: Uploader
) -> None:
    folder = tmp_path / "batch"
    make_image(folder / "images/a.jpg")
    manifest = folder / "manifest.csv"
    manifest.write_bytes("文物编号,名称,英文名称,许可,图像\r\nA-1,青花缠枝莲纹瓶,Vase,CC0,images/a.jpg\r\n"
                         "A-2,铜鼎,Ding,CC0,\r\n".encode("gbk"))  # as Excel's "CSV" saves it on Chinese Windows

    cli = CliRunner().invoke(app, ["--key", curator.key, "upload", str(folder)])
    check = LocalCheck(manifest, [], [folder / "images/a.jpg"])  # sent as it is, past the CLI's check
    uploads = uploader.targets(folder, curator.institution, check)
    batch_id = uploads["batch"]["batch_id"]
    for local, target in zip([manifest, *check.files], [uploads["manifest"], *uploads["files"]], strict=True):
        uploader.send(batch_id, local, target, lambda n: None)
    uploader.submit(batch_id)
    batch = uploader.wait(batch_id, timeout_s=300)

    assert cli.exit_code == 2, cli.output  # an exception would exit 1
    assert "it is GBK/GB18030" in cli.output and "CSV UTF-8" in cli.output and "nothing was uploaded" in cli.output
    assert "Traceback" not in cli.output
    assert batch["state"] == "failed"
    assert "the manifest is not UTF-8: it is GBK/GB18030" in batch["error"]
    assert "no object id column" not in batch["error"]
    assert batch["counts"]["received"] == 0


def test_upload_refuses_a_link_out_of_the_folder_and_a_petabyte_file(
    tmp_path: Path, curator: Member, settings: Settings
) -> None:
    folder = tmp_path / "batch"
    make_image(folder / "images/a.jpg")
    (folder / "manifest.csv").write_text("文物编号,名称,许可,图像\nA-1,瓶,CC0,images/a.jpg; images/passwd.jpg\n",
                                         encoding="utf-8")
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0")
    os.symlink(secret, folder / "images/passwd.jpg")
    (folder / "images/inner.jpg").symlink_to(folder / "images/a.jpg")  # a link inside the folder is fine

    cli = CliRunner().invoke(app, ["--key", curator.key, "upload", str(folder)])
    with httpx.Client(base_url=settings.gateway.public_url,
                      headers={"Authorization": f"Bearer {curator.key}"}) as api:
        petabyte = api.post("/v1/batches", json={"manifest": {"name": "manifest.csv", "size": 10},
                                                 "files": [{"path": "images/a.jpg", "size": 10**15}]})
        batches = api.get("/v1/batches").json()["batches"]

    assert cli.exit_code == 2, cli.output
    assert "images/passwd.jpg is a symbolic link to" in cli.output and "outside the batch folder" in cli.output
    assert not (folder / ".wenyuan-upload.json").exists()  # no batch was created
    body = assert_problem(petabyte, 422, "https://wenyuan.dev/problems/invalid-request")
    assert "images/a.jpg: 1,000,000,000,000,000 bytes is more than the largest file" in body["detail"]
    assert batches == []


def test_a_batch_with_a_stored_item_elasticsearch_refused_is_not_a_success(
    curator: Member, s3: Minio, es: Elasticsearch, settings: Settings
) -> None:
    """What the DAG's index step records when Elasticsearch refuses one document of three (as a NUL in a key
    did before validation refused it): finalize fails the batch, naming the item."""
    ctx = IngestContext(settings, s3, es)
    batch = save_batch(s3, settings.s3, BatchRecord(batch_id=new_batch_id(), institution=curator.institution,
                                                    state=BatchState.RUNNING))
    keys = BatchKeys(batch.batch_id)
    batch.counts.received = batch.counts.valid = 3
    save_batch(s3, settings.s3, batch)
    chunk = ChunkKeys.of(keys.chunk(1).chunk)
    bucket = settings.s3.bucket_reports
    put_jsonl(s3, bucket, keys.rejected, [])
    put_jsonl(s3, bucket, keys.warnings, [])
    put_jsonl(s3, bucket, chunk.chunk, [{"row": n} for n in (2, 3, 4)])
    put_jsonl(s3, bucket, chunk.result, [{"row": n, "object_id": f"O-{n}", "status": "stored", "asset_id": f"a{n}",
                                          "paths": []} for n in (2, 3, 4)])
    put_json(s3, bucket, chunk.indexed, {"indexed": 2, "failed": {"a3": "failed to parse field [extra]"}})

    counts = finalize(ctx, batch.batch_id)
    after = load_batch(s3, settings.s3, batch.batch_id)
    items = _by_row(json.loads(s3.get_object(bucket, keys.report()).read()))

    assert (counts["stored"], counts["indexed"]) == (3, 2)
    assert after.state is BatchState.FAILED
    assert after.error == "1 of 3 stored item(s) not indexed (indexed 2; index-failed in the report)"
    assert items[3]["status"] == "stored" and items[3]["errors"][0]["code"] == "index-failed"
    assert "failed to parse field [extra]" in items[3]["errors"][0]["reason"]
    assert items[2]["status"] == items[4]["status"] == "indexed"


def test_the_cli_shows_a_stored_items_warnings(tmp_path: Path, curator: Member) -> None:
    folder = tmp_path / "batch"
    make_image(folder / "images/a.jpg")
    manifest = "文物编号,名称,许可,图像,具体年代\nU-1,瓶,CC0,images/a.jpg,during the reign of nobody\n"
    (folder / "manifest.csv").write_text(manifest, encoding="utf-8")

    result = CliRunner().invoke(app, ["--key", curator.key, "upload", str(folder), "--wait"])

    assert result.exit_code == 0, result.output
    assert "succeeded" in result.output and "stored 1" in result.output
    assert "stored, with warnings" in result.output and "date-unparsed" in result.output
    assert "rejected (or not indexed)" not in result.output
