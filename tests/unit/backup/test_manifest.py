"""The backup's manifest and object listings: written and read back, ETags of single and multipart uploads,
keys that may not become files, what a check counts as lost."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.backup.manifest import (
    BackupError,
    BucketPart,
    DatabasePart,
    Manifest,
    MiB,
    ObjectEntry,
    Outcome,
    SnapshotPart,
    compare,
    etag_part_size,
    file_etag,
    matches_etag,
    object_path,
    part_sizes,
    read_listing,
    read_manifest,
    write_listing,
    write_manifest,
)
from services.backup.objects import BucketCheck
from services.backup.run import Report, backup_id


def make_manifest(**overrides: object) -> Manifest:
    fields: dict[str, object] = {
        "id": "wenyuan-20261203t190000z", "started_at": datetime(2026, 12, 3, 19, tzinfo=UTC),
        "finished_at": datetime(2026, 12, 3, 19, 1, tzinfo=UTC), "wenyuan_version": "0.1.0",
        "environment": "local", "index_prefix": "wenyuan",
        "elasticsearch": SnapshotPart(repository="r", repository_type="fs", repository_settings={"location": "/x"},
                                      snapshot="wenyuan-20261203t190000z", version="9.5.4",
                                      indices={"wenyuan-assets-v1": 5, "wenyuan-label-decisions": 1},
                                      aliases={"wenyuan-assets": ["wenyuan-assets-v1"]}),
        "database": DatabasePart(dialect="sqlite", file="database.sqlite", revision="abc",
                                 tables={"api_keys": 2, "audit_events": 7}),
        "buckets": [BucketPart(name="b", listing="buckets/b.jsonl", objects=3, bytes=30, versioning="unsupported",
                               copied=False)]}
    fields |= overrides
    return Manifest.model_validate(fields)


def test_a_manifest_reads_back_as_written_and_counts_what_a_restore_checks(tmp_path: Path) -> None:
    manifest = make_manifest()

    write_manifest(tmp_path, manifest)

    assert read_manifest(tmp_path) == manifest
    assert manifest.counts() == {"indices": 2, "documents": 6, "aliases": 1, "tables": 2, "rows": 9, "buckets": 1,
                                 "objects": 3, "bytes": 30}


def test_an_unfinished_or_missing_manifest_is_not_a_backup(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match=r"no manifest\.json"):
        read_manifest(tmp_path)
    write_manifest(tmp_path, make_manifest(finished_at=None))
    with pytest.raises(BackupError, match="did not finish"):
        read_manifest(tmp_path)


def test_a_listing_keeps_every_object_one_a_line_and_counts_them(tmp_path: Path) -> None:
    entries = [ObjectEntry(key=f"inst/originals/{n}.tif", size=n * 10, etag=f"{n:032x}") for n in range(1, 4)]

    counted = write_listing(tmp_path / "buckets" / "b.jsonl", iter(entries))

    assert counted == (3, 60)
    assert list(read_listing(tmp_path / "buckets" / "b.jsonl")) == entries
    assert len((tmp_path / "buckets" / "b.jsonl").read_text().splitlines()) == 3


def test_the_etag_of_a_single_put_is_the_md5_and_of_a_multipart_upload_the_md5_of_its_parts(tmp_path: Path) -> None:
    data = bytes(range(256)) * (24 * 1024 + 7)  # a little over 6 MiB
    path = tmp_path / "f"
    path.write_bytes(data)
    parts = [data[:5 * MiB], data[5 * MiB:]]
    multipart = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + "-2"

    assert file_etag(path) == hashlib.md5(data).hexdigest()
    assert file_etag(path, 2, 5 * MiB) == multipart
    assert etag_part_size(path, f'"{multipart.upper()}"') == 5 * MiB  # quoted, any case
    assert etag_part_size(path, hashlib.md5(data).hexdigest()) == 0
    assert not matches_etag(path, hashlib.md5(b"other").hexdigest())
    assert not matches_etag(path, multipart.replace("-2", "-3"))


def test_part_sizes_are_those_that_split_the_size_into_that_many_parts() -> None:
    sizes = part_sizes(20 * MiB + 1, 3, 8 * MiB)

    assert sizes[0] == 8 * MiB
    assert all(-(-(20 * MiB + 1) // p) == 3 for p in sizes)
    assert 10 * MiB in sizes
    assert 5 * MiB not in sizes and 16 * MiB not in sizes  # 5 parts; 2 parts
    assert part_sizes(1, 0, 8 * MiB) == []


def test_an_object_key_that_would_leave_the_backup_is_refused(tmp_path: Path) -> None:
    assert object_path(tmp_path, "b", "inst/a.tif") == (tmp_path / "objects" / "b" / "inst" / "a.tif").resolve()
    for key in ("../../etc/passwd", "/etc/passwd", "."):
        with pytest.raises(BackupError):
            object_path(tmp_path, "b", key)


def test_an_object_matches_on_size_and_etag_only() -> None:
    entry = ObjectEntry(key="k", size=10, etag='"abc"')

    assert compare(entry, (10, "ABC")) is Outcome.MATCHES
    assert compare(entry, None) is Outcome.MISSING
    assert compare(entry, (11, "abc")) is Outcome.DIFFERS
    assert compare(entry, (10, "abd")) is Outcome.DIFFERS


def test_a_check_counts_as_lost_only_what_is_fewer_or_gone_not_what_was_added_since() -> None:
    report = Report(make_manifest(), documents={"wenyuan-assets-v1": 4, "wenyuan-label-decisions": 3,
                                                "wenyuan-new": 1},
                    aliases={}, rows={"api_keys": 2, "audit_events": 9},
                    buckets=[BucketCheck("b", checked=3, matched=2, missing=["k1"])])

    assert report.problems() == ["index wenyuan-assets-v1: 5 documents in the backup, 4 now",
                                 "alias wenyuan-assets (on wenyuan-assets-v1) is gone",
                                 "bucket b: 1 of 3 objects missing or different (first: k1)"]


def test_a_backup_id_sorts_by_time_and_is_a_valid_snapshot_name() -> None:
    ident = backup_id(datetime(2026, 12, 3, 19, 5, 12, tzinfo=UTC))

    assert ident == "wenyuan-20261203t190512z"
    assert ident == ident.lower() and " " not in ident
