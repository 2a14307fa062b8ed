"""services/iiif/presentation.py: an asset as a IIIF Manifest, a part of a batch as a Collection, schema-valid."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.access import Audience, Tier
from schemas.asset import AssetRecord
from services.access.policy import Decision
from services.assets import attribution
from services.iiif.presentation import Part, Site, collection, manifest
from tests.factories import make_asset
from tests.iiif_schema import assert_valid_presentation, validator

SITE = Site("http://wenyuan.test", thumbnail_px=400, preview_px=1600, max_area=25_000_000)


def _image(n: int, width: int = 3000, height: int = 2000, label: str | None = None,
           orientation: str | None = None) -> dict[str, object]:
    return {"id": f"00000000-0000-5000-8000-{n:012d}", "sha256": f"{n:064x}", "key": f"o/{n}", "path": f"{n}.jpg",
            "label": label, "format": "JPEG", "mime": "image/jpeg", "width": width, "height": height, "mode": "RGB",
            "size_bytes": 1000, "phash": "0" * 16, "thumbnail_key": f"t/{n}", "preview_key": f"p/{n}",
            "exif": {"Orientation": orientation} if orientation else {}}


def _asset(**overrides: object) -> AssetRecord:
    images = overrides.pop("images", [_image(1, label="正面")])
    return AssetRecord.model_validate(make_asset(images=images, has_image=bool(images), **overrides))


def _seen(tier: Tier = Tier.ORIGINAL) -> Decision:
    return Decision(True, tier, Audience.PUBLIC, "licence (audience: public)")


def _entry(doc: dict[str, Any], en_label: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = next(e["value"] for e in doc["metadata"] if e["label"]["en"] == [en_label])
    return values


def _painted(canvas: dict[str, Any]) -> list[dict[str, Any]]:
    return [a["body"] for page in canvas["items"] for a in page["items"] if a["motivation"] == "painting"]


def test_labels_and_summary_are_language_maps_in_zh_and_en() -> None:
    asset = _asset(description_zh="乾隆年间景德镇烧造。", description_en="Made at Jingdezhen.")

    doc = manifest(SITE, asset, _seen())

    assert doc["label"] == {"zh": ["青花瓷瓶"], "en": ["Blue and white vase"]}
    assert doc["summary"] == {"zh": ["乾隆年间景德镇烧造。"], "en": ["Made at Jingdezhen."]}
    assert all(set(e["label"]) == {"zh", "en"} for e in doc["metadata"])
    assert _entry(doc, "Period") == {"none": ["清乾隆"]}


@pytest.mark.parametrize(("title_zh", "title_en", "tags"), [("玉璧", None, {"zh"}), (None, "Jade disc", {"en"})])
def test_a_record_in_one_language_has_labels_in_that_language_only(title_zh: str | None, title_en: str | None,
                                                                    tags: set[str]) -> None:
    doc = manifest(SITE, _asset(title_zh=title_zh, title_en=title_en), _seen())

    assert set(doc["label"]) == tags
    assert "summary" not in doc
    assert_valid_presentation(doc)


def test_category_ids_are_shown_with_the_taxonomys_names_in_both_languages() -> None:
    doc = manifest(SITE, _asset(category_ids=["porcelain"], category="瓷器"), _seen())

    assert _entry(doc, "Category") == {"zh": ["瓷器"], "en": ["porcelain"]}


def test_ai_suggestions_are_marked_as_model_made_with_their_confidence() -> None:
    ai = {"labels": [{"id": "bronze", "kind": "category", "confidence": 0.81, "method": "zero-shot",
                      "model": "use-multilingual-v3@3"},
                     {"id": "jade", "kind": "category", "confidence": 0.4, "method": "knn", "model": "m@1",
                      "status": "rejected"}]}

    doc = manifest(SITE, _asset(ai=ai), _seen())

    suggested = next(e for e in doc["metadata"] if "model-made" in e["label"]["en"][0])["value"]
    assert len(suggested["en"]) == 1 and "confidence 0.81" in suggested["en"][0]
    assert "use-multilingual-v3@3" in suggested["en"][0]


@pytest.mark.parametrize(("licence", "rights"), [
    ("CC0", "http://creativecommons.org/publicdomain/zero/1.0/"),
    ("CC-BY-NC-4.0", "http://creativecommons.org/licenses/by-nc/4.0/"),
    ("InC-EDU", "http://rightsstatements.org/vocab/InC-EDU/1.0/"),
])
def test_rights_is_the_licence_uri_in_the_form_the_iiif_schema_takes(licence: str, rights: str) -> None:
    doc = manifest(SITE, _asset(licence=licence), _seen())

    assert doc["rights"] == rights
    assert_valid_presentation(doc)


def test_a_restricted_licence_leaves_rights_out_and_says_so() -> None:
    asset = _asset(licence="restricted:institution")

    doc = manifest(SITE, asset, _seen(Tier.ORIGINAL))

    assert "rights" not in doc
    assert "no public licence" in _entry(doc, "Licence")["en"][0]
    assert "Restricted (institution)" in doc["requiredStatement"]["value"]["none"][0]
    assert_valid_presentation(doc)


def test_a_licence_that_is_neither_creative_commons_nor_rightsstatements_is_stated_in_metadata() -> None:
    doc = manifest(SITE, _asset(licence="Apache-2.0"), _seen())

    assert "rights" not in doc
    assert _entry(doc, "Licence") == {"none": ["Apache License 2.0 (https://www.apache.org/licenses/LICENSE-2.0)"]}


def test_the_required_statement_is_the_attribution_labelled_in_zh_and_en() -> None:
    asset = _asset(creator="佚名")

    doc = manifest(SITE, asset, _seen())

    assert doc["requiredStatement"] == {"label": {"zh": ["署名"], "en": ["Attribution"]},
                                        "value": {"none": [attribution(asset)]}}


def test_one_canvas_per_image_with_its_dimensions_and_view_label() -> None:
    asset = _asset(images=[_image(1, 3000, 2000, "正面"), _image(2, 800, 1200, "back"), _image(3, 50, 60)])

    doc = manifest(SITE, asset, _seen())

    assert [(c["width"], c["height"]) for c in doc["items"]] == [(3000, 2000), (800, 1200), (50, 60)]
    assert [c["label"] for c in doc["items"]] == [{"none": ["正面"]}, {"none": ["back"]},
                                                 {"zh": ["图 3"], "en": ["Image 3"]}]
    assert len({c["id"] for c in doc["items"]}) == 3
    assert_valid_presentation(doc)


def test_the_manifest_thumbnail_is_the_first_images_within_the_thumbnail_size() -> None:
    asset = _asset(images=[_image(1, 3000, 2000), _image(2)])

    doc = manifest(SITE, asset, _seen(Tier.THUMBNAIL))

    assert doc["thumbnail"] == [{"id": f"{SITE.base}/iiif/3/{asset.images[0].id}/full/400,267/0/default.jpg",
                                 "type": "Image", "format": "image/jpeg", "width": 400, "height": 267}]


def test_at_the_metadata_tier_canvases_show_nothing() -> None:
    doc = manifest(SITE, _asset(), _seen(Tier.METADATA))

    assert "thumbnail" not in doc
    assert [c["items"] for c in doc["items"]] == [[]]
    assert "thumbnail" not in doc["items"][0]
    assert_valid_presentation(doc)


def test_at_the_thumbnail_tier_canvases_have_a_thumbnail_and_nothing_painted() -> None:
    doc = manifest(SITE, _asset(), _seen(Tier.THUMBNAIL))

    canvas = doc["items"][0]
    assert canvas["thumbnail"][0]["id"].endswith("/full/400,267/0/default.jpg")
    assert canvas["items"] == []
    assert_valid_presentation(doc)


@pytest.mark.parametrize(("tier", "size", "width", "height"), [(Tier.PREVIEW, "1600,1067", 1600, 1067),
                                                                (Tier.ORIGINAL, "max", 3000, 2000)])
def test_above_it_the_image_is_painted_within_the_tier_with_its_image_service(tier: Tier, size: str, width: int,
                                                                               height: int) -> None:
    asset = _asset()
    service = f"{SITE.base}/iiif/3/{asset.images[0].id}"

    doc = manifest(SITE, asset, _seen(tier))

    canvas = doc["items"][0]
    [body] = _painted(canvas)
    assert body["id"] == f"{service}/full/{size}/0/default.jpg"
    assert (body["width"], body["height"]) == (width, height)
    assert body["service"] == [{"id": service, "type": "ImageService3", "profile": "level2"}]
    assert canvas["items"][0]["items"][0]["target"] == canvas["id"]
    assert_valid_presentation(doc)


def test_a_small_image_is_never_enlarged_for_the_preview_or_the_thumbnail() -> None:
    doc = manifest(SITE, _asset(images=[_image(1, 300, 200)]), _seen(Tier.PREVIEW))

    [body] = _painted(doc["items"][0])
    assert body["id"].endswith("/full/300,200/0/default.jpg") and (body["width"], body["height"]) == (300, 200)
    assert doc["thumbnail"][0]["id"].endswith("/full/300,200/0/default.jpg")


def test_an_original_larger_than_the_image_apis_area_limit_is_painted_at_the_size_max_gives() -> None:
    site = Site(SITE.base, 400, 1600, max_area=1_000_000)

    doc = manifest(site, _asset(images=[_image(1, 4000, 1000)]), _seen(Tier.ORIGINAL))

    [body] = _painted(doc["items"][0])
    assert body["id"].endswith("/full/max/0/default.jpg") and (body["width"], body["height"]) == (2000, 500)
    assert (doc["items"][0]["width"], doc["items"][0]["height"]) == (4000, 1000)


def test_a_sideways_exif_orientation_turns_the_canvas_as_a_viewer_shows_the_image() -> None:
    doc = manifest(SITE, _asset(images=[_image(1, 3000, 2000, orientation="6")]), _seen(Tier.PREVIEW))

    canvas = doc["items"][0]
    assert (canvas["width"], canvas["height"]) == (2000, 3000)
    assert _painted(canvas)[0]["id"].endswith("/full/1067,1600/0/default.jpg")


def test_a_record_without_images_has_one_empty_canvas() -> None:
    doc = manifest(SITE, _asset(images=[]), _seen())

    assert [c["label"] for c in doc["items"]] == [{"zh": ["无图像"], "en": ["No image"]}]
    assert doc["items"][0]["items"] == [] and "thumbnail" not in doc
    assert_valid_presentation(doc)


def test_a_part_of_a_collection_lists_manifests_and_ends_with_the_next_part() -> None:
    first, second = _asset(object_id="A-1"), _asset(object_id="A-2", images=[])
    label = {"zh": ["批次 b-1"], "en": ["Batch b-1"]}

    doc = collection(SITE, "batch", "b-1", label, Part([(first, _seen(Tier.THUMBNAIL)), (second, _seen())],
                                                        next_after=second.asset_id))

    refs = doc["items"]
    assert doc["id"] == f"{SITE.base}/iiif/3/collections/batch/b-1" and "partOf" not in doc
    assert [r["id"] for r in refs[:2]] == [SITE.manifest_id(first.asset_id), SITE.manifest_id(second.asset_id)]
    assert "thumbnail" in refs[0] and "thumbnail" not in refs[1]
    assert refs[2] == {"id": f"{doc['id']}?after={second.asset_id}", "type": "Collection",
                       "label": {"zh": ["下一部分"], "en": ["Next part"]}}
    assert_valid_presentation(doc)


def test_a_later_part_is_part_of_the_first_and_the_last_has_no_next() -> None:
    asset = _asset(object_id="A-3")
    label = {"zh": ["机构 m"], "en": ["Institution m"]}

    doc = collection(SITE, "institution", "m", label, Part([(asset, _seen(Tier.METADATA))], next_after=None,
                                                           after="0" * 32))

    first = f"{SITE.base}/iiif/3/collections/institution/m"
    assert doc["id"] == f"{first}?after={'0' * 32}"
    assert doc["partOf"] == [{"id": first, "type": "Collection", "label": label}]
    assert [r["type"] for r in doc["items"]] == ["Manifest"] and "thumbnail" not in doc["items"][0]
    assert_valid_presentation(doc)


def test_the_schema_check_refuses_what_presentation_3_refuses() -> None:
    doc = manifest(SITE, _asset(), _seen())

    for broken in ({**doc, "label": "a plain string"}, {**doc, "rights": "https://example.org/my-licence"},
                   {**doc, "items": [{**doc["items"][0], "width": 0}]}):
        assert list(validator().iter_errors(broken))
