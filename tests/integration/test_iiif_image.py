"""IIIF Image API 3.0 through a live gateway: the official validator at level 2, tier caps, refusals, the cache.

The images are really in S3 (originals and the derivatives ingestion makes, under a prefix of this
module's own) and their assets really in Elasticsearch (an index prefix of its own); the gateway is
the production app on a loopback port (tests/integration/live.py).
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest
from elasticsearch import Elasticsearch
from iiif_validator import validator
from minio import Minio
from PIL import Image, ImageDraw

from indexing.aliases import ensure_assets_index
from indexing.bulk import index_documents
from schemas.access import Role
from services.access.audit import events
from services.access.db import Database
from services.ingest.media import make_derivatives
from services.settings import Settings
from tests.access import make_institution, staff_key
from tests.factories import image_record, make_asset
from tests.helpers import ROOT, assert_problem
from tests.integration.live import live_gateway

PROBLEMS = "https://wenyuan.dev/problems/"
FIXTURES = ROOT / "tests/fixtures/iiif"
VALIDATOR_ID = "67352ccc-d1b0-11e1-89ae-279075081939"  # the identifier the validator asks for
JSON_LD = 'application/ld+json;profile="http://iiif.io/api/image/3/context.json"'


@dataclass
class Served:
    base: str
    settings: Settings
    institution: str
    ids: dict[str, str]  # name → image id
    staff: dict[str, str]  # Authorization header of a staff member of the holder (original tier)
    neighbour: dict[str, str]  # … of another institution of the holder's region
    alias: str = ""
    asset_ids: dict[str, str] | None = None  # name → asset id

    def url(self, name: str, path: str) -> str:
        return f"{self.base}/iiif/3/{self.ids[name]}/{path}"


def _checkerboard(path: Path) -> Path:
    """1600×1200: one-pixel black and white squares (detail only the original holds) under coloured blocks."""
    cells = (np.indices((1200, 1600)).sum(axis=0) % 2 * 255).astype(np.uint8)
    im = Image.fromarray(cells, "L").convert("RGB")
    draw = ImageDraw.Draw(im)
    draw.rectangle((800, 0, 1599, 599), fill=(200, 30, 30))
    draw.rectangle((0, 600, 799, 1199), fill=(30, 30, 200))
    im.save(path)
    return path


def _store(s3: Minio, settings: Settings, prefix: str, path: Path, work: Path,
           **overrides: object) -> dict[str, object]:
    """Put the file and the derivatives ingestion makes of it into the assets bucket; its ImageRecord."""
    record = image_record(path, None) | overrides
    bucket = settings.s3.bucket_assets
    keys = {"key": f"{prefix}/originals/{path.name}",
            "thumbnail_key": f"{prefix}/derivatives/{path.stem}/thumbnail.jpg",
            "preview_key": f"{prefix}/derivatives/{path.stem}/preview.jpg"}
    s3.fput_object(bucket, keys["key"], str(path), content_type=str(record["mime"]))
    for d in make_derivatives(path, work, thumbnail_px=settings.ingest.thumbnail_px,
                              preview_px=settings.ingest.preview_px):
        s3.fput_object(bucket, keys[f"{d.name}_key"], str(d.path), content_type=d.mime)
    return record | keys


@pytest.fixture(scope="module")
def served(settings: Settings, es: Elasticsearch, s3: Minio, db: Database,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    suffix = uuid.uuid4().hex[:8]
    work = tmp_path_factory.mktemp("iiif")
    holder = make_institution(db, "CN-BJ", institution=f"test-iiif-img-{suffix}")
    neighbour = make_institution(db, "CN-BJ")
    ids = {"validator": VALIDATOR_ID, "detail": str(uuid.uuid4()), "regional": str(uuid.uuid4()),
           "withdrawn": str(uuid.uuid4())}
    images = {"validator": _store(s3, settings, holder, FIXTURES / "iiif-validator-testimage.png", work,
                                  id=ids["validator"]),
              "detail": _store(s3, settings, holder, _checkerboard(work / "detail.png"), work, id=ids["detail"])}
    images["regional"] = images["detail"] | {"id": ids["regional"]}
    images["withdrawn"] = images["detail"] | {"id": ids["withdrawn"]}
    docs = [make_asset(object_id="IIIF-VALIDATOR", institution=holder, licence="Apache-2.0",
                       images=[images["validator"]], has_image=True),
            make_asset(object_id="IIIF-DETAIL", institution=holder, licence="InC", region="CN-BJ",
                       images=[images["detail"]], has_image=True),
            make_asset(object_id="IIIF-REGIONAL", institution=holder, licence="restricted:institution",
                       access="region", region="CN-BJ", images=[images["regional"]], has_image=True),
            make_asset(object_id="IIIF-WITHDRAWN", institution=holder, licence="CC0",
                       images=[images["withdrawn"]], has_image=True)]
    es_settings = settings.es.model_copy(update={"index_prefix": f"test-iiif-img-{suffix}"})
    scoped = settings.model_copy(update={"es": es_settings})
    alias = ensure_assets_index(es, scoped, {"text": None, "image": None})
    index_documents(es, alias, [(str(d["asset_id"]), d) for d in docs])
    es.indices.refresh(index=alias)
    try:
        with live_gateway(scoped) as base:
            yield Served(base, scoped, holder, ids,
                         {"Authorization": f"Bearer {staff_key(db, holder, Role.VIEWER).key}"},
                         {"Authorization": f"Bearer {staff_key(db, neighbour, Role.VIEWER).key}"},
                         alias, {str(d["object_id"]): str(d["asset_id"]) for d in docs})
    finally:
        es.indices.delete(index=f"{alias}-v*", allow_no_indices=True)
        for obj in s3.list_objects(settings.s3.bucket_assets, prefix=f"{holder}/", recursive=True):
            s3.remove_object(settings.s3.bucket_assets, obj.object_name or "")


def _image(resp: httpx.Response) -> Image.Image:
    assert resp.status_code == 200, resp.text
    return Image.open(io.BytesIO(resp.content))


def test_the_official_validator_passes_level_2_of_version_3_with_no_failures(served: Served) -> None:
    tests = validator.TestSuite(validator.ValidationInfo()).list_tests("3.0")
    expected = [name for name, test in tests.items() if test["level"] <= 2]
    script = Path(sys.executable).parent / "iiif-validate.py"

    run = subprocess.run([sys.executable, str(script), "--server", served.base.removeprefix("http://"),
                          "--prefix", "iiif/3", "--identifier", VALIDATOR_ID, "--version=3.0", "--level=2"],
                         capture_output=True, text=True, timeout=300)

    done = re.search(r"Done \((\d+) tests, (\d+) failures\)", run.stderr)
    assert done, run.stdout + run.stderr
    assert (int(done[1]), int(done[2])) == (len(expected), 0), run.stderr
    assert run.returncode == 0
    assert len(expected) >= 30 and "size_bwh" in expected and "rot_region_basic" in expected


def test_info_json_describes_the_full_image_with_the_callers_cap_and_the_licence(served: Served) -> None:
    open_info = httpx.get(served.url("validator", "info.json"))
    thumbnail_tier = httpx.get(served.url("detail", "info.json"))
    original_tier = httpx.get(served.url("detail", "info.json"), headers=served.staff)

    assert open_info.headers["content-type"] == JSON_LD
    assert open_info.headers["access-control-allow-origin"] == "*"
    doc = open_info.json()
    assert doc["id"] == f"{served.base}/iiif/3/{VALIDATOR_ID}" and doc["type"] == "ImageService3"
    assert (doc["width"], doc["height"], doc["maxWidth"], doc["maxHeight"]) == (1000, 1000, 1000, 1000)
    assert doc["profile"] == "level2" and "rights" not in doc  # Apache-2.0 is neither CC nor RightsStatements.org
    thumb = thumbnail_tier.json()
    assert (thumb["width"], thumb["height"], thumb["maxWidth"], thumb["maxHeight"]) == (1600, 1200, 400, 300)
    assert thumb["rights"] == "http://rightsstatements.org/vocab/InC/1.0/"
    assert max(s["width"] for s in thumb["sizes"]) == 400 and thumbnail_tier.headers["x-wenyuan-tier"] == "thumbnail"
    assert thumb["tiles"] == [{"width": 512, "height": 512, "scaleFactors": [4]}]  # 1600/4 = 400: one tile, all
    full = original_tier.json()
    assert (full["maxWidth"], full["maxHeight"]) == (1600, 1200) and full["tiles"][0]["scaleFactors"] == [1, 2, 4]
    assert original_tier.headers["cache-control"].startswith("private")


def test_info_json_is_plain_json_when_asked_and_the_base_uri_redirects_to_it(served: Served) -> None:
    plain = httpx.get(served.url("validator", "info.json"), headers={"Accept": "application/json"})
    base = httpx.get(f"{served.base}/iiif/3/{VALIDATOR_ID}")

    assert plain.headers["content-type"] == "application/json"
    assert base.status_code == 303
    assert base.headers["location"] == served.url("validator", "info.json")


def test_an_image_carries_cors_its_canonical_and_profile_links_and_the_credit_line(served: Served) -> None:
    resp = httpx.get(served.url("validator", "pct:0,0,50,50/250,/0/default.png"))

    assert _image(resp).size == (250, 250) and resp.headers["content-type"] == "image/png"
    assert resp.headers["access-control-allow-origin"] == "*"
    links = resp.headers["link"]
    assert f'<{served.url("validator", "0,0,500,500/250,250/0/default.png")}>;rel="canonical"' in links
    assert '<http://iiif.io/api/image/3/level2.json>;rel="profile"' in links
    assert resp.headers["attribution"].startswith("UTF-8''")


def test_a_thumbnail_tier_caller_never_gets_more_detail_than_the_thumbnail(served: Served, s3: Minio) -> None:
    tile = "0,0,200,200/200,/0/default.png"  # a 200-pixel square of one-pixel black and white squares

    theirs = np.asarray(_image(httpx.get(served.url("detail", tile))).convert("L"), dtype=float)
    holders = np.asarray(_image(httpx.get(served.url("detail", tile), headers=served.staff)).convert("L"), dtype=float)
    thumbnail = Image.open(io.BytesIO(s3.get_object(served.settings.s3.bucket_assets,
                                                    f"{served.institution}/derivatives/detail/thumbnail.jpg").read()))
    from_thumbnail = np.asarray(thumbnail.convert("L").resize((200, 200), Image.Resampling.LANCZOS,
                                                              box=(0, 0, 50, 50)), dtype=float)

    assert theirs.shape == holders.shape == (200, 200)
    assert holders.std() > 120  # the original: the squares themselves
    assert theirs.std() < 10  # the thumbnail averaged them to grey, and that grey is all this caller receives
    assert np.abs(theirs - from_thumbnail).mean() < 3


def test_max_is_the_tiers_own_size_and_more_than_the_cap_is_refused_naming_the_tier_that_would_serve_it(
    served: Served
) -> None:
    full_max = _image(httpx.get(served.url("detail", "full/max/0/default.jpg")))
    quarter = _image(httpx.get(served.url("detail", "0,0,800,600/max/0/default.jpg")))
    too_big = httpx.get(served.url("detail", "full/1000,/0/default.jpg"))

    assert full_max.size == (400, 300) and quarter.size == (200, 150)
    body = assert_problem(too_big, 403, PROBLEMS + "tier-not-allowed")
    assert too_big.headers["access-control-allow-origin"] == "*"
    assert (body["maxWidth"], body["maxHeight"], body["allowed_tier"], body["requested_tier"]) == (
        400, 300, "thumbnail", "preview")
    assert "1000×750 px" in body["detail"]


def test_a_caller_with_the_metadata_tier_is_refused_an_image_and_a_caller_who_may_not_see_it_gets_404(
    served: Served
) -> None:
    missing_id = str(uuid.uuid4())

    metadata_info = httpx.get(served.url("regional", "info.json"), headers=served.neighbour)
    metadata_image = httpx.get(served.url("regional", "full/max/0/default.jpg"), headers=served.neighbour)
    invisible = httpx.get(served.url("regional", "info.json"))
    missing = httpx.get(f"{served.base}/iiif/3/{missing_id}/info.json")

    body = assert_problem(metadata_info, 403, PROBLEMS + "tier-not-allowed")
    assert body["allowed_tier"] == "metadata" and body["would_allow"]
    assert_problem(metadata_image, 403, PROBLEMS + "tier-not-allowed")
    hidden = assert_problem(invisible, 404, PROBLEMS + "image-not-found")["detail"]
    absent = assert_problem(missing, 404, PROBLEMS + "image-not-found")["detail"]
    assert hidden.replace(served.ids["regional"], "?") == absent.replace(missing_id, "?")  # nothing tells them apart


def test_a_repeated_request_is_one_s3_read_of_the_image_cached_under_the_callers_tier(
    served: Served, s3: Minio
) -> None:
    path = "100,100,300,300/150,/!90/gray.webp"
    prefix = f"{served.institution}/iiif/{served.ids['detail']}/"

    first = httpx.get(served.url("detail", path), headers=served.staff)
    stored = [o.object_name for o in s3.list_objects(served.settings.s3.bucket_assets, prefix=prefix, recursive=True)]
    second = httpx.get(served.url("detail", path), headers=served.staff)
    public = httpx.get(served.url("detail", path))

    assert (first.headers["x-wenyuan-cache"], second.headers["x-wenyuan-cache"]) == ("miss", "hit")
    assert f"{prefix}original/100,100,300,300/150,150/!90/gray.webp" in stored
    assert second.content == first.content and _image(second).size == (150, 150)
    assert public.headers["x-wenyuan-tier"] == "thumbnail" and public.headers["x-wenyuan-cache"] == "miss"
    assert public.content != first.content  # made from the thumbnail, cached apart from the holder's


def test_a_withdrawn_record_stops_serving_tiles_within_the_lookup_cache_time(served: Served, es: Elasticsearch) -> None:
    url = served.url("withdrawn", "0,0,512,512/128,/0/default.jpg")
    assert httpx.get(url).status_code == 200 and httpx.get(url).headers["x-wenyuan-cache"] == "hit"
    assert served.asset_ids is not None
    es.update(index=served.alias, id=served.asset_ids["IIIF-WITHDRAWN"], refresh=True,
              doc={"deleted_at": "2026-01-01T00:00:00Z", "changed_at": "2026-01-01T00:00:00Z"})

    time.sleep(served.settings.iiif.lookup_cache_s + 0.5)

    gone = httpx.get(url)
    assert gone.status_code == 404, gone.text  # the tile in memory is not served once the lookup finds nothing


@pytest.mark.parametrize(("path", "why"), [
    ("full/!1200,1200/0/default.jpg", "larger than the 1000×1000 region"),
    ("full/1001,/0/default.jpg", "prefix the size with ^"),
    ("full/^1100,/0/default.jpg", "maxWidth"),
    ("1000,0,10,10/max/0/default.jpg", "outside"),
    ("full/max/361/default.jpg", "rotation"),
    ("full/max/0/sepia.jpg", "quality"),
    ("full/max/0/default.jp2", "does not make"),
])
def test_requests_the_specification_calls_errors_are_400_problems(served: Served, path: str, why: str) -> None:
    resp = httpx.get(served.url("validator", path))

    assert why in assert_problem(resp, 400, PROBLEMS + "bad-image-request")["detail"]
    assert resp.headers["access-control-allow-origin"] == "*"


def test_a_cors_preflight_is_answered(served: Served) -> None:
    resp = httpx.options(served.url("validator", "full/max/0/default.jpg"),
                         headers={"Origin": "https://viewer.example", "Access-Control-Request-Method": "GET",
                                  "Access-Control-Request-Headers": "authorization"})

    assert resp.status_code == 204
    assert resp.headers["access-control-allow-origin"] == "*"
    assert "Authorization" in resp.headers["access-control-allow-headers"]


def test_info_json_and_refusals_are_audited_like_media_deliveries(served: Served, db: Database) -> None:
    httpx.get(served.url("detail", "info.json"), headers=served.staff)
    httpx.get(served.url("regional", "full/max/0/default.jpg"), headers=served.neighbour)

    with db.session() as session:
        found, _ = events(session, served.institution, action="deliver")
        rows = {(e.subject, e.outcome, e.tier) for e in found}
    assert (f"iiif {served.ids['detail']} info.json", "allowed", "original") in rows
    assert (f"iiif {served.ids['regional']} image", "denied", None) in rows


def test_head_answers_the_headers_without_a_body(served: Served) -> None:
    info = httpx.head(served.url("validator", "info.json"))
    tile = httpx.head(served.url("validator", "0,0,100,100/max/0/default.png"))

    assert (info.status_code, tile.status_code) == (200, 200)
    assert info.content == tile.content == b""
    assert tile.headers["content-type"] == "image/png" and 'rel="canonical"' in tile.headers["link"]
