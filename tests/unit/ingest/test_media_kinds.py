"""What kind of file an upload is, from its bytes (services/ingest/media_kinds.sniff), on real files made here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from samples.mediafiles import av, documents, models
from services.ingest.errors import ErrorCode
from services.ingest.media import MediaRejected
from services.ingest.media_kinds import Kind, sniff
from tests.factories import make_image

MAKERS: list[tuple[str, Callable[[Path], Path], Kind]] = [
    ("photo.jpg", lambda p: make_image(p, seed=1), Kind.IMAGE),
    ("catalogue.pdf", lambda p: documents.pdf_with_text(p, ["一", "two"]), Kind.DOCUMENT),
    ("pages.tif", lambda p: documents.multipage_tiff(p, ["1", "2"]), Kind.DOCUMENT),
    ("film.mp4", lambda p: av.mp4(p, 0.5), Kind.AV),
    ("film.webm", lambda p: av.webm(p, 0.5), Kind.AV),
    ("talk.wav", lambda p: av.wav(p, 0.5), Kind.AV),
    ("talk.flac", lambda p: av.flac(p, 0.5), Kind.AV),
    ("talk.mp3", lambda p: av.mp3(p, 0.5), Kind.AV),
    ("talk.ogg", lambda p: av.ogg(p, 0.5), Kind.AV),
    *[(f"vase.{fmt}", lambda p, fmt=fmt: models.vessel(p, fmt), Kind.MODEL)
      for fmt in ("glb", "gltf", "obj", "ply", "stl")],
]


@pytest.mark.parametrize(("name", "make", "kind"), MAKERS, ids=[m[0] for m in MAKERS])
def test_each_kind_is_told_by_its_bytes_whatever_it_is_called(tmp_path: Path, name: str,
                                                              make: Callable[[Path], Path], kind: Kind) -> None:
    path = make(tmp_path / name)
    assert sniff(path, name) is kind
    assert sniff(path, "upload.bin") is kind  # an unknown extension: the bytes alone decide


def test_a_name_that_promises_another_kind_is_refused_with_both_kinds_named(tmp_path: Path) -> None:
    pdf = documents.pdf_with_text(tmp_path / "x.pdf", ["a document"])
    with pytest.raises(MediaRejected) as caught:
        sniff(pdf, "oral-history.mp3")
    assert caught.value.reason is ErrorCode.EXTENSION_MISMATCH
    assert "audio or video" in caught.value.message and "a document" in caught.value.message


def test_bytes_of_no_known_kind_go_to_the_reader_the_name_promises(tmp_path: Path) -> None:
    bomb = models.stl_bomb(tmp_path / "huge.stl")  # its declared count does not match its size
    assert sniff(bomb, "huge.stl") is Kind.MODEL
    notes = tmp_path / "notes.jpg"
    notes.write_text("this is a text file, not a picture")
    assert sniff(notes, "notes.jpg") is Kind.IMAGE  # the image reader says: not an image
    single = make_image(tmp_path / "one.tif", seed=2, fmt="TIFF")
    assert sniff(single, "one.tif") is Kind.IMAGE  # a one-page TIFF is a still image
