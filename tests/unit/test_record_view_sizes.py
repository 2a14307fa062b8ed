"""The asset view's download menu: each image delivery says the size and format of the file it gives."""

from __future__ import annotations

from schemas.access import Audience, Tier
from schemas.asset import AssetRecord
from services.access.policy import Decision
from services.record_view import sized_media_links
from tests.factories import make_asset

BASE = "https://wenyuan.example"
IMAGE = {"sha256": "1" * 64, "key": "o/1", "path": "scan.tif", "format": "TIFF", "mime": "image/tiff",
         "width": 4000, "height": 3000, "mode": "RGB", "size_bytes": 1000, "phash": "0" * 16,
         "thumbnail_key": "t/1", "preview_key": "p/1"}


def _links(tier: Tier, **image: object) -> list[tuple[str, int, int, str]]:
    asset = AssetRecord.model_validate(make_asset(images=[{**IMAGE, **image}], has_image=True))
    decision = Decision(True, tier, Audience.PUBLIC, "licence")
    return [(m.tier.value, m.width, m.height, m.mime)
            for m in sized_media_links(BASE, asset, decision, thumbnail_px=400, preview_px=1600)]


def test_each_tier_the_caller_may_download_has_its_bounded_size_and_format() -> None:
    assert _links(Tier.ORIGINAL) == [("thumbnail", 400, 300, "image/jpeg"), ("preview", 1600, 1200, "image/jpeg"),
                                     ("original", 4000, 3000, "image/tiff")]


def test_a_lower_tier_lists_only_its_own_deliveries() -> None:
    assert _links(Tier.THUMBNAIL) == [("thumbnail", 400, 300, "image/jpeg")]


def test_a_small_image_is_never_enlarged_and_a_rotated_one_is_measured_as_shown() -> None:
    assert _links(Tier.PREVIEW, width=300, height=200) == [("thumbnail", 300, 200, "image/jpeg"),
                                                          ("preview", 300, 200, "image/jpeg")]
    assert _links(Tier.PREVIEW, exif={"Orientation": "6"})[1] == ("preview", 1200, 1600, "image/jpeg")
