"""services/iiif/presentation_media.py: documents, recordings and 3D models in a Manifest, at each tier, valid."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.access import Audience, Tier
from schemas.asset import AssetRecord
from services.access.policy import Decision
from services.iiif.presentation import Site, manifest
from tests.factories import make_asset
from tests.iiif_schema import assert_valid_presentation

SITE = Site("http://wenyuan.test", thumbnail_px=400, preview_px=1600, max_area=25_000_000)
DOC, AUDIO, VIDEO, MODEL = (f"10000000-0000-5000-8000-00000000000{k}" for k in range(1, 5))
DERIVATIVE_TIERS = {"poster": "thumbnail", "contact-sheet": "thumbnail", "waveform": "thumbnail",
                    "rendition": "preview", "glb": "preview", "text": "preview"}
MIME = {"poster": "image/jpeg", "contact-sheet": "image/jpeg", "waveform": "image/png", "glb": "model/gltf-binary",
        "text": "text/plain"}


def _image(n: int, width: int = 1200, height: int = 1600, **fields: object) -> dict[str, object]:
    return {"id": f"00000000-0000-5000-8000-{n:012d}", "sha256": f"{n:064x}", "key": f"o/{n}", "path": f"{n}.png",
            "format": "PNG", "mime": "image/png", "width": width, "height": height, "mode": "RGB",
            "size_bytes": 1000, "phash": "0" * 16, "thumbnail_key": f"t/{n}", "preview_key": f"p/{n}"} | fields


def _media(media_id: str, media_type: str, *names: str, **fields: object) -> dict[str, object]:
    rendition_mime = {"audio": "audio/mp4", "video": "video/mp4"}.get(media_type, "")
    derivatives = [{"name": name, "key": f"d/{media_id}/{name}", "mime": MIME.get(name, rendition_mime),
                    "size_bytes": 10, "tier": DERIVATIVE_TIERS[name],
                    **({"width": 640, "height": 360} if name in {"poster", "rendition"} else {}),
                    **({"width": 1200, "height": 200} if name == "waveform" else {})} for name in names]
    return {"id": media_id, "media_type": media_type, "sha256": media_id.replace("-", "") * 2, "key": f"o/{media_id}",
            "path": f"{media_type}.bin", "format": fields.pop("format", "MP4"), "mime": fields.pop("mime", "video/mp4"),
            "size_bytes": 5000, "derivatives": derivatives} | fields


def _document(pages: int = 3, *names: str) -> dict[str, Any]:
    media = _media(DOC, "document", *(names or ("text",)), format="PDF", mime="application/pdf", page_count=pages)
    # stored out of page order: the canvases follow the page numbers
    images = [_image(10 + p, of_media=DOC, page=p, text=f"第{p}页的文字", text_source="layer")
              for p in reversed(range(1, pages + 1))]
    return {"media_files": [media], "images": images}


def _video(*names: str, keyframes: int = 2) -> dict[str, Any]:
    media = _media(VIDEO, "video", *(names or ("poster", "contact-sheet", "rendition")), duration_s=12.5,
                   width=1280, height=720, video_codec="h264")
    images = [_image(20 + k, 1280, 720, of_media=VIDEO, time_s=k * 5.0) for k in range(keyframes)]
    return {"media_files": [media], "images": images}


def _audio(*names: str) -> dict[str, Any]:
    media = _media(AUDIO, "audio", *(names or ("waveform", "rendition")), format="WAV", mime="audio/wav",
                   duration_s=3.25, sample_rate=44100, channels=1)
    return {"media_files": [media], "images": []}


def _model(*names: str) -> dict[str, Any]:
    media = _media(MODEL, "model", *(names or ("glb",)), format="OBJ", mime="model/obj", vertices=8, faces=12)
    images = [_image(30 + k, 1024, 1024, of_media=MODEL, view=v) for k, v in enumerate(("front", "side", "top"))]
    return {"media_files": [media], "images": images}


def _asset(*parts: dict[str, Any], images: list[dict[str, object]] | None = None) -> AssetRecord:
    all_images = list(images or [])
    media = []
    for part in parts:
        all_images += part["images"]
        media += part["media_files"]
    return AssetRecord.model_validate(make_asset(images=all_images, has_image=bool(all_images), media_files=media))


def _seen(tier: Tier) -> Decision:
    return Decision(True, tier, Audience.PUBLIC, "licence (audience: public)")


def _bodies(canvas: dict[str, Any]) -> list[dict[str, Any]]:
    return [a["body"] for page in canvas["items"] for a in page["items"] if a["motivation"] == "painting"]


def _file(asset: AssetRecord, n: int, name: str) -> str:
    return f"{SITE.base}/v1/assets/{asset.asset_id}/files/{n}/{name}"


@pytest.mark.parametrize("tier", list(Tier))
@pytest.mark.parametrize("kind", ["document", "audio", "video", "model", "all"])
def test_every_kind_at_every_tier_is_a_valid_manifest(kind: str, tier: Tier) -> None:
    parts = {"document": [_document()], "audio": [_audio()], "video": [_video()], "model": [_model()],
             "all": [_document(), _audio(), _video(), _model()]}[kind]
    asset = _asset(*parts, images=[_image(1, 3000, 2000)] if kind == "all" else None)

    doc = manifest(SITE, asset, _seen(tier))

    assert_valid_presentation(doc)


def test_a_document_has_a_canvas_per_page_in_page_order() -> None:
    asset = _asset(_document(3))

    doc = manifest(SITE, asset, _seen(Tier.PREVIEW))

    assert [c["label"] for c in doc["items"]] == [{"zh": [f"第 {p} 页"], "en": [f"Page {p}"]} for p in (1, 2, 3)]
    assert [(c["width"], c["height"]) for c in doc["items"]] == [(1200, 1600)] * 3
    assert _bodies(doc["items"][0])[0]["id"] == f"{SITE.base}/iiif/3/{asset.images[2].id}/full/1200,1600/0/default.jpg"


def test_each_page_carries_its_own_text_and_the_documents_text_file_as_see_also() -> None:
    asset = _asset(_document(2))

    first = manifest(SITE, asset, _seen(Tier.PREVIEW))["items"][0]

    note = first["annotations"][0]["items"][0]
    assert note["motivation"] == "supplementing" and note["target"] == first["id"]
    assert note["body"] == {"type": "TextualBody", "value": "第1页的文字", "format": "text/plain"}
    assert first["seeAlso"] == [{"id": _file(asset, 0, "text"), "type": "Text", "format": "text/plain",
                                 "label": {"zh": ["全文"], "en": ["Full text"]}}]


def test_below_the_text_files_tier_pages_link_no_text_file_and_paint_nothing_at_metadata() -> None:
    asset = _asset(_document(2))

    doc = manifest(SITE, asset, _seen(Tier.METADATA))

    assert all("seeAlso" not in c and c["items"] == [] for c in doc["items"])
    assert "rendering" not in doc


def test_pages_follow_the_image_tiers_a_thumbnail_but_nothing_painted_at_thumbnail() -> None:
    asset = _asset(_document(1))

    page = manifest(SITE, asset, _seen(Tier.THUMBNAIL))["items"][0]

    assert page["items"] == []
    assert page["thumbnail"][0]["id"].endswith("/full/300,400/0/default.jpg")


def test_a_video_is_one_canvas_with_its_duration_painted_with_the_rendition() -> None:
    asset = _asset(_video())

    doc = manifest(SITE, asset, _seen(Tier.PREVIEW))

    (canvas,) = doc["items"]  # keyframes are no canvases of their own
    assert (canvas["duration"], canvas["width"], canvas["height"]) == (12.5, 1280, 720)
    assert _bodies(canvas) == [{"id": _file(asset, 0, "rendition"), "type": "Video", "format": "video/mp4",
                                "width": 1280, "height": 720, "duration": 12.5}]


def test_a_videos_poster_is_its_thumbnail_and_placeholder_canvas() -> None:
    asset = _asset(_video())

    (canvas,) = manifest(SITE, asset, _seen(Tier.PREVIEW))["items"]

    poster = {"id": _file(asset, 0, "poster"), "type": "Image", "format": "image/jpeg", "width": 640, "height": 360}
    assert canvas["thumbnail"] == [poster]
    assert canvas["placeholderCanvas"]["type"] == "Canvas"
    assert (canvas["placeholderCanvas"]["width"], canvas["placeholderCanvas"]["height"]) == (640, 360)
    assert _bodies(canvas["placeholderCanvas"]) == [poster]


def test_at_the_thumbnail_tier_a_video_shows_its_poster_but_plays_nothing() -> None:
    asset = _asset(_video())

    (canvas,) = manifest(SITE, asset, _seen(Tier.THUMBNAIL))["items"]

    assert canvas["items"] == [] and canvas["duration"] == 12.5
    assert canvas["thumbnail"][0]["id"] == _file(asset, 0, "poster")


def test_without_a_poster_the_first_keyframe_is_the_thumbnail() -> None:
    asset = _asset(_video("rendition"))

    (canvas,) = manifest(SITE, asset, _seen(Tier.PREVIEW))["items"]

    assert canvas["thumbnail"][0]["id"] == f"{SITE.base}/iiif/3/{asset.images[0].id}/full/400,225/0/default.jpg"


def test_at_the_metadata_tier_a_video_keeps_its_duration_and_shows_nothing() -> None:
    asset = _asset(_video())

    (canvas,) = manifest(SITE, asset, _seen(Tier.METADATA))["items"]

    assert canvas["items"] == [] and "thumbnail" not in canvas and "placeholderCanvas" not in canvas
    assert canvas["duration"] == 12.5


def test_a_video_without_a_rendition_plays_its_original_at_the_original_tier_only() -> None:
    asset = _asset(_video("poster"))

    preview = manifest(SITE, asset, _seen(Tier.PREVIEW))["items"][0]
    original = manifest(SITE, asset, _seen(Tier.ORIGINAL))["items"][0]

    assert preview["items"] == []
    assert _bodies(original)[0]["id"] == _file(asset, 0, "original")


def test_a_recording_is_a_sound_canvas_with_a_duration_and_no_size() -> None:
    asset = _asset(_audio())

    (canvas,) = manifest(SITE, asset, _seen(Tier.PREVIEW))["items"]

    assert canvas["duration"] == 3.25 and "width" not in canvas
    assert _bodies(canvas) == [{"id": _file(asset, 0, "rendition"), "type": "Sound", "format": "audio/mp4",
                                "duration": 3.25}]
    assert canvas["placeholderCanvas"]["items"][0]["items"][0]["body"]["id"] == _file(asset, 0, "waveform")


def test_a_model_is_one_canvas_of_its_first_view_with_the_glb_as_rendering() -> None:
    asset = _asset(_model())

    doc = manifest(SITE, asset, _seen(Tier.PREVIEW))

    (canvas,) = doc["items"]  # the other views are no canvases
    glb = {"id": _file(asset, 0, "glb"), "type": "Model", "format": "model/gltf-binary",
           "label": {"zh": ["三维模型（GLB）"], "en": ["3D model (GLB)"]}}
    assert canvas["rendering"] == [glb] and doc["rendering"] == [glb]
    assert canvas["thumbnail"][0]["id"] == f"{SITE.base}/iiif/3/{asset.images[0].id}/full/400,400/0/default.jpg"
    assert _bodies(canvas["placeholderCanvas"])[0]["id"].endswith("/full/1024,1024/0/default.jpg")


def test_below_the_glbs_tier_a_model_offers_no_glb() -> None:
    asset = _asset(_model())

    doc = manifest(SITE, asset, _seen(Tier.THUMBNAIL))

    assert "rendering" not in doc and "rendering" not in doc["items"][0]
    assert "thumbnail" in doc["items"][0]


def test_at_the_original_tier_the_originals_are_offered_as_renderings() -> None:
    asset = _asset(_document(1), _model())

    doc = manifest(SITE, asset, _seen(Tier.ORIGINAL))

    assert [(r["id"], r["format"]) for r in doc["rendering"]] == [
        (_file(asset, 0, "original"), "application/pdf"), (_file(asset, 1, "glb"), "model/gltf-binary"),
        (_file(asset, 1, "original"), "model/obj")]


def test_uploaded_images_come_first_then_each_media_file_in_order() -> None:
    asset = _asset(_video(), _document(2), images=[_image(1, 3000, 2000, label="正面")])

    doc = manifest(SITE, asset, _seen(Tier.PREVIEW))

    assert [c["label"].get("en", c["label"].get("none")) for c in doc["items"]] == [
        ["正面"], ["Video"], ["Page 1"], ["Page 2"]]
    assert len({c["id"] for c in doc["items"]}) == 4


def test_a_media_files_label_leads_its_canvas_labels() -> None:
    part = _document(1)
    part["media_files"][0]["label"] = "账簿"

    doc = manifest(SITE, _asset(part), _seen(Tier.PREVIEW))

    assert doc["items"][0]["label"] == {"zh": ["账簿 · 第 1 页"], "en": ["账簿 · Page 1"]}
