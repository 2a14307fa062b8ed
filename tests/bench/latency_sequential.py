"""Search latency bench: the sequential runs through the gateway (one request at a time, client round-trip against
Elasticsearch's own `took`) and the query encoding timed apart in this process."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx
import numpy as np

from indexing.encoders import image_encoder, text_encoder
from indexing.query import Mode
from services.settings import Settings, get_settings
from tests.bench.latency_data import INSTITUTION


@dataclass
class Series:
    round_trip: list[float] = field(default_factory=list)
    took: list[float] = field(default_factory=list)
    encoding: list[float] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)
    index: list[int] = field(default_factory=list)  # which request each round-trip is (errors left out)
    errors: int = 0
    first_error: str = ""

    def fail(self, msg: str) -> None:
        self.errors += 1
        self.first_error = self.first_error or msg


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def gateway_search(client: httpx.Client, qs: Sequence[str], mode: Mode,
                   encode: Callable[[int], None] | None = None) -> Series:
    """The queries one at a time; encode(k), if given, runs in this process just before request k."""
    out = Series()
    for k, q in enumerate(qs):
        if encode:
            encode(k)
        t0 = time.perf_counter()
        resp = client.get("/v1/search", params={"q": q, "mode": mode.value, "institution": INSTITUTION})
        rt = _ms(t0)
        if resp.status_code != 200:
            out.fail(f"HTTP {resp.status_code}: {resp.text[:200]}")
            continue
        body = resp.json()
        out.index.append(k)
        out.round_trip.append(rt)
        out.took.append(body["took_ms"])
        out.totals.append(body["total"])
    return out


def gateway_image(client: httpx.Client, pictures: Sequence[bytes], repeat: int,
                  encode: Callable[[int], None] | None = None) -> Series:
    out = Series()
    for k in range(repeat):
        data = pictures[k % len(pictures)]
        if encode:
            encode(k % len(pictures))
        t0 = time.perf_counter()
        resp = client.post("/v1/search/image", params={"institution": INSTITUTION},
                           files={"file": ("query.jpg", data, "image/jpeg")})
        rt = _ms(t0)
        if resp.status_code != 200:
            out.fail(f"HTTP {resp.status_code}: {resp.text[:200]}")
            continue
        out.index.append(k)
        out.round_trip.append(rt)
        out.totals.append(len(resp.json()["hits"]))
    return out


def encode_texts(qs: Sequence[str]) -> tuple[list[float], list[list[float]]]:
    """Per query: ms of text_encoder().encode([q]) in this process, and the vector."""
    encoder = text_encoder(get_settings().models)
    ms, vecs = [], []
    for q in qs:
        t0 = time.perf_counter()
        v = encoder.encode([q])[0]
        ms.append(_ms(t0))
        vecs.append(np.asarray(v).tolist())
    return ms, vecs


def encode_images(settings: Settings, pictures: Sequence[bytes]) -> tuple[list[float], list[float],
                                                                            list[list[float]]]:
    """Per picture: ms to decode (the gateway's own _open_upload) and to encode, and the vector."""
    from services.gateway.routers.search import _open_upload

    encoder = image_encoder(settings.models)
    assert encoder is not None
    decode, encode, vecs = [], [], []
    for data in pictures:
        t0 = time.perf_counter()
        picture = _open_upload(data, settings.ingest.max_image_pixels)
        decode.append(_ms(t0))
        t0 = time.perf_counter()
        vecs.append(np.asarray(encoder.encode([picture])[0]).tolist())
        encode.append(_ms(t0))
    return decode, encode, vecs
