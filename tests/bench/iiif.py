"""IIIF Image API tiles per second through the gateway, made (cold) and cached (warm), against raw baselines.

Setup: a 4000×3000 picture (samples.images' painting renderer with camera grain: a 2.3 MB JPEG at
quality 90, as a photographed scroll would be), stored with the derivatives ingestion makes under a
prefix of this run in the assets bucket, and one CC0 asset for it (the original tier for anyone) in an
index prefix of this run. The gateway is the production app in its own uvicorn process (as
deploy/local starts it: one process), on a free port, reading those settings; removed afterwards.

The tiles are the pyramid a deep-zoom viewer asks for, from info.json (512-pixel tiles, scale
factors 1, 2, 4, 8 → 65 tiles, region and size computed as the Image API's implementation notes do):

- cold, sequential: each tile once (made: the derivative cache is empty; the original is decoded
  once per JPEG scale, then kept in the source cache);
- cold, 4 clients: 280 other never-made requests (the 35 whole 512-pixel tiles at scale factor 1, each
  at 8 smaller output sizes: cut and resampled);
- warm, sequential: the 65 tiles again (served from the gateway's memory: iiif.tile_cache_mb, with the
  lookup kept for iiif.lookup_cache_s), and warm under load: wrk, 16 connections for 20 s over the 65 tiles;
- the same two warm runs against a second gateway with both caches off (`WENYUAN_IIIF__TILE_CACHE_MB=0`,
  `WENYUAN_IIIF__LOOKUP_CACHE_S=0`): every request an Elasticsearch lookup and an S3 read.

Raw baselines in the same run, in this process: Pillow decoding the JPEG, cropping, resizing and
encoding each of the 65 tiles (decoding it for every tile, and decoding it once); S3 GETs of the
65 cached tiles with the minio client (sequential and 4 threads); the gateway's Elasticsearch lookup
of the image called in-process; and the gateway's `/healthz` (what HTTP, FastAPI and the access
middleware cost before any work).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
from PIL import Image, ImageFilter

from indexing.aliases import ensure_assets_index
from indexing.bulk import index_documents
from indexing.client import make_client as make_es_client
from services.access.principals import ANONYMOUS
from services.iiif.delivery import look_up_image
from services.ingest.media import make_derivatives
from services.settings import Settings
from services.storage import get_bytes
from services.storage import make_client as make_s3_client
from tests.bench.gateway import bench_gateway
from tests.factories import image_record, make_asset

SIZE = (4000, 3000)
TILE = 512
SCALE_FACTORS = (1, 2, 4, 8)
VARIANTS = (500, 480, 448, 416, 384, 352, 320, 288)  # output sizes of the cold concurrent requests
CLIENTS = 4
WRK_CONNECTIONS, WRK_SECONDS = 16, 20


def _log(msg: str) -> None:
    print(f"[bench iiif] {msg}", file=sys.stderr, flush=True)


def picture(path: Path) -> Path:
    from samples.images import render

    rng = np.random.default_rng(7)
    pixels = np.asarray(render("bench-iiif", "painting", "山水图", SIZE), dtype=np.int16)
    grain = rng.normal(0, 7, pixels.shape[:2])[..., None] + rng.normal(0, 3, pixels.shape)
    im = Image.fromarray(np.clip(pixels + grain, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.6))
    im.save(path, "JPEG", quality=90)
    return path


def pyramid(width: int, height: int) -> list[tuple[str, tuple[int, int, int, int], tuple[int, int]]]:
    """(region/size path part, region box, output size) of every tile, as the implementation notes compute them."""
    out = []
    for s in SCALE_FACTORS:
        for m in range(-(-height // (TILE * s))):
            for n in range(-(-width // (TILE * s))):
                xr, yr = n * TILE * s, m * TILE * s
                wr, hr = min(TILE * s, width - xr), min(TILE * s, height - yr)
                ws, hs = -(-wr // s), -(-hr // s)
                out.append((f"{xr},{yr},{wr},{hr}/{ws},{hs}", (xr, yr, wr, hr), (ws, hs)))
    return out


@dataclass
class Run:
    label: str
    requests: int
    seconds: float
    latencies_ms: list[float]
    note: str = ""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def row(self) -> str:
        p50 = f"{np.percentile(self.latencies_ms, 50):.1f}" if self.latencies_ms else "–"
        p95 = f"{np.percentile(self.latencies_ms, 95):.1f}" if self.latencies_ms else "–"
        return f"| {self.label} | {self.requests} | {self.rps:,.1f} | {p50} | {p95} | {self.note} |"


def _timed(label: str, items: Sequence[object], call: Callable[[object], None], threads: int = 1,
           note: str = "") -> Run:
    latencies: list[float] = []

    def one(item: object) -> None:
        t0 = time.perf_counter()
        call(item)
        latencies.append((time.perf_counter() - t0) * 1000)

    start = time.perf_counter()
    if threads == 1:
        for item in items:
            one(item)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, items))
    return Run(label, len(items), time.perf_counter() - start, latencies, note)


@contextmanager
def gateway(settings: Settings, prefix: str, **env: str) -> Iterator[str]:
    """The production app in its own uvicorn process, on this run's index prefix; stopped afterwards. The Image
    API's own rate limit is lifted like the public's (the two gateways share its counter through Redis)."""
    with bench_gateway(prefix, None, WENYUAN_ACCESS__IMAGE_RATE_PER_MIN=str(10**8), **env) as (base, _):
        yield base


WRK_SCRIPT = """
local paths = {
%s
}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n - 1) %% #paths + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("WRK_RESULT requests=%%d duration_us=%%d p50_us=%%d p95_us=%%d status=%%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), summary.errors.status))
end
"""


def run_wrk(base: str, paths: Sequence[str], label: str = "") -> Run | None:
    wrk = "/usr/bin/wrk" if Path("/usr/bin/wrk").exists() else None
    if wrk is None:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % ",\n".join(f'"{p}"' for p in paths))
    try:
        proc = subprocess.run([wrk, "-t2", f"-c{WRK_CONNECTIONS}", f"-d{WRK_SECONDS}s", "-s", script.name, base],
                              capture_output=True, text=True, timeout=WRK_SECONDS + 60)
    finally:
        os.unlink(script.name)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("WRK_RESULT")), None)
    if line is None:
        return None
    v = {k: int(x) for k, x in (kv.split("=") for kv in line.split()[1:])}
    return Run(f"gateway, warm{label}, wrk {WRK_CONNECTIONS} connections {WRK_SECONDS} s", v["requests"],
               v["duration_us"] / 1e6, [v["p50_us"] / 1000, v["p95_us"] / 1000],
               f"non-2xx: {v['status']}; latency p50/p95 from wrk")


def _pillow(data: bytes, tiles: Sequence[tuple[str, tuple[int, int, int, int], tuple[int, int]]],
            once: bool) -> Run:
    decoded = Image.open(io.BytesIO(data))
    decoded.load()

    def make(tile: object) -> None:
        _, (x, y, w, h), size = tile  # type: ignore[misc]
        source = decoded if once else Image.open(io.BytesIO(data))
        source.crop((x, y, x + w, y + h)).resize(size, Image.Resampling.LANCZOS).save(io.BytesIO(), "JPEG",
                                                                                      quality=85)

    label = "raw Pillow: crop, resize, encode (decoded once)" if once else \
        "raw Pillow: decode, crop, resize, encode each tile"
    return _timed(label, tiles, make)


def measure(settings: Settings) -> str:
    load_before = os.getloadavg()[0]
    run_id = uuid.uuid4().hex[:8]
    prefix, institution = f"bench-iiif-{run_id}", f"bench-iiif-{run_id}"
    es, s3 = make_es_client(settings.es), make_s3_client(settings.s3)
    bucket = settings.s3.bucket_assets
    work = Path(tempfile.mkdtemp(prefix="bench-iiif-"))
    original = picture(work / "scroll.jpg")
    record = image_record(original, None) | {
        "id": str(uuid.uuid4()), "key": f"{institution}/originals/scroll.jpg",
        "thumbnail_key": f"{institution}/derivatives/scroll/thumbnail.jpg",
        "preview_key": f"{institution}/derivatives/scroll/preview.jpg"}
    s3.fput_object(bucket, str(record["key"]), str(original), content_type="image/jpeg")
    for d in make_derivatives(original, work, thumbnail_px=settings.ingest.thumbnail_px,
                              preview_px=settings.ingest.preview_px):
        s3.fput_object(bucket, str(record[f"{d.name}_key"]), str(d.path), content_type=d.mime)
    scoped = settings.model_copy(update={"es": settings.es.model_copy(update={"index_prefix": prefix})})
    alias = ensure_assets_index(es, scoped, {"text": None, "image": None})
    doc = make_asset(object_id="BENCH-IIIF", institution=institution, licence="CC0", images=[record], has_image=True)
    index_documents(es, alias, [(str(doc["asset_id"]), doc)])
    es.indices.refresh(index=alias)
    tiles = pyramid(*SIZE)
    image_id = str(record["id"])
    try:
        with gateway(settings, prefix) as base:
            service = f"{base}/iiif/3/{image_id}"
            info = httpx.get(f"{service}/info.json").json()
            assert info["tiles"][0]["scaleFactors"] == list(SCALE_FACTORS), info
            paths = [f"/iiif/3/{image_id}/{t[0]}/0/default.jpg" for t in tiles]
            client = httpx.Client(base_url=base, timeout=60)  # thread-safe: shared by the concurrent runs

            def get(expect: str) -> Callable[[object], None]:
                def call(path: object) -> None:
                    resp = client.get(str(path))
                    assert resp.status_code == 200 and resp.headers["x-wenyuan-cache"] == expect, resp.text[:300]
                return call

            _log("cold tiles, sequential")
            runs = [_timed("gateway, cold (made), sequential", paths, get("miss"),
                           note="the original decoded once per JPEG scale (1, 1/2, 1/4, 1/8), then from memory")]
            cached = [o.object_name or "" for o in s3.list_objects(bucket, prefix=f"{institution}/iiif/",
                                                                   recursive=True)]
            assert len(cached) == len(tiles), cached
            whole = [t[1] for t in tiles if t[2] == (TILE, TILE) and t[1][2] == TILE]  # scale factor 1
            variants = [f"/iiif/3/{image_id}/{x},{y},{w},{h}/{v},{v}/0/default.jpg"
                        for x, y, w, h in whole for v in VARIANTS]
            _log(f"cold, {CLIENTS} clients, {len(variants)} requests")
            runs.append(_timed(f"gateway, cold (made), {CLIENTS} clients", variants, get("miss"), threads=CLIENTS,
                               note=f"{len(whole)} whole tiles × {len(VARIANTS)} smaller output sizes, "
                                    "none made before"))
            _log("warm tiles, sequential")
            runs.append(_timed("gateway, warm (cached), sequential", paths, get("hit"),
                               note="from the gateway's memory, the lookup kept"))
            _log("warm tiles under wrk")
            loaded = run_wrk(base, paths)
            if loaded:
                runs.append(loaded)
            floor = _timed("gateway `/healthz` (the HTTP and middleware floor), sequential", ["/healthz"] * 200,
                           lambda path: client.get(str(path)).raise_for_status())
            client.close()
        with gateway(settings, prefix, WENYUAN_IIIF__TILE_CACHE_MB="0", WENYUAN_IIIF__LOOKUP_CACHE_S="0") as base:
            _log("warm tiles, caches off")
            client = httpx.Client(base_url=base, timeout=60)
            runs.append(_timed("gateway, warm, caches off, sequential", paths, get("hit"),
                               note="an Elasticsearch lookup and an S3 read each"))
            loaded = run_wrk(base, paths, ", caches off")
            if loaded:
                runs.append(loaded)
            client.close()
        _log("raw baselines")
        data = original.read_bytes()
        raw = [_pillow(data, tiles, once=False), _pillow(data, tiles, once=True)]
        raw.append(_timed("raw S3 GET of the cached tiles (minio client), sequential", cached,
                          lambda k: get_bytes(s3, bucket, str(k))))
        raw.append(_timed(f"raw S3 GET of the cached tiles, {CLIENTS} threads", cached * 4,
                          lambda k: get_bytes(s3, bucket, str(k)), threads=CLIENTS))
        raw.append(_timed("raw Elasticsearch lookup of the image for the public (`look_up_image`), sequential",
                          [image_id] * 200, lambda i: look_up_image(es, scoped, str(i), ANONYMOUS)))
        raw.append(floor)
    finally:
        es.indices.delete(index=f"{alias}-v*", allow_no_indices=True)
        for obj in s3.list_objects(bucket, prefix=f"{institution}/", recursive=True):
            s3.remove_object(bucket, obj.object_name or "")
        es.close()
    header = ("| what | requests | requests/s | p50 ms | p95 ms | note |\n|---|---:|---:|---:|---:|---|")
    return (f"Image: {SIZE[0]}×{SIZE[1]} JPEG, {len(data) / 1e6:.1f} MB; {len(tiles)} tiles of {TILE} px "
            f"(scale factors {', '.join(map(str, SCALE_FACTORS))}), `default.jpg`. Load average (1 min) "
            f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after (the machine is shared).\n\n"
            + header + "\n" + "\n".join(r.row() for r in runs + raw))


if __name__ == "__main__":
    from services.settings import get_settings

    print(measure(get_settings()))
