"""services/ingest/report.py and services/uploader.py against hostile input: the report CSV opens safely in a
spreadsheet; the uploader sends nothing from outside the batch folder."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from services.ingest.report import safe_csv_cell, to_csv
from services.uploader import UploadError, check_folder

HOSTILE = ['=HYPERLINK("http://evil.example/","click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
           "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("value", HOSTILE)
def test_every_formula_start_is_neutralised_in_the_file_read_back(tmp_path: Path, value: str) -> None:
    items = [{"row": 2, "object_id": value, "status": "rejected", "paths": [value],
              "errors": [{"field": value, "code": "invalid-value", "reason": value}]},
             {"row": 3, "object_id": value, "status": "indexed", "asset_id": "a1", "paths": [],
              "warnings": [{"field": "年代 (period)", "code": "date-unparsed", "reason": value}]}]
    path = tmp_path / "report.csv"
    path.write_bytes(to_csv(items).encode("utf-8-sig"))

    with path.open(encoding="utf-8-sig", newline="") as f:
        lines = list(csv.reader(f))

    assert lines[0] == ["row", "object_id", "status", "asset_id", "field", "code", "reason", "paths"]
    assert [line[1] for line in lines[1:]] == ["'" + value] * 2
    assert lines[1][4] == lines[1][6] == lines[1][7] == "'" + value
    assert lines[2][5:7] == ["date-unparsed", "'" + value]  # a warning is a line of its stored item
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for line in lines for cell in line)


def test_ordinary_cells_and_numbers_are_left_as_they_are() -> None:
    assert [safe_csv_cell(v) for v in ("青花瓷瓶", "OBJ-0001", "images/a.jpg", 7, None, "")] == \
        ["青花瓷瓶", "OBJ-0001", "images/a.jpg", 7, None, ""]


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "batch"
    (folder / "images").mkdir(parents=True)
    (folder / "images/a.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (folder / "manifest.csv").write_text("文物编号,名称,许可,图像\nA-1,瓶,CC0,images/a.jpg\n", encoding="utf-8")
    return folder


def test_a_link_out_of_the_folder_stops_the_upload_naming_it(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    os.symlink("/etc/passwd", folder / "images/passwd.jpg")

    with pytest.raises(UploadError, match=r"images/passwd.jpg is a symbolic link to /etc/passwd, outside the batch"):
        check_folder(folder)


def test_a_manifest_linked_from_outside_is_refused_too(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    outside = tmp_path / "elsewhere.csv"
    (folder / "manifest.csv").rename(outside)
    os.symlink(outside, folder / "manifest.csv")

    with pytest.raises(UploadError, match=r"manifest.csv is a symbolic link to .*elsewhere.csv"):
        check_folder(folder)


def test_links_inside_the_folder_are_files_of_the_batch(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    os.symlink(folder / "images/a.jpg", folder / "images/b.jpg")

    check = check_folder(folder)

    assert [p.relative_to(folder).as_posix() for p in check.files] == ["images/a.jpg", "images/b.jpg"]
