"""IIIF Presentation 3.0 canvases of an asset's documents, recordings and 3D models (issue 16).

The manifest (services/iiif/presentation.py) lists the uploaded images first, then each media file of
`asset.media_files` in order:

    document  a canvas per page: the page image under the image tier rules of presentation.py, labelled
              with its page number, `seeAlso` the document's text file, and the page's own text as a
              `supplementing` annotation (the record carries it at every tier, so the manifest does too)
    audio     a canvas with the recording's `duration`, painted with its rendition (type Sound); the
              waveform picture as its thumbnail and `placeholderCanvas`
    video     a canvas with `duration`, width and height, painted with the rendition (type Video); the
              poster (else the first keyframe) as thumbnail and `placeholderCanvas`
    model     Presentation 3.0 has no 3D scene yet (IIIF's 3D specification is a draft), so a 3D model is a
              canvas of its first rendered view — thumbnail and `placeholderCanvas` — with the GLB as its
              `rendering`, which the manifest's `rendering` lists too

A video's keyframes and a model's rendered views are images of the asset (the Image API serves them, image
search finds them) but no canvases of their own. Recordings, GLBs and text files are delivered by the gateway
at `/v1/assets/{id}/files/{n}/{name}` (services/gateway/routers/assets.py: deliver_file), which answers with
a redirect to a short-lived URL: a body or link to one appears only when the caller's tier includes the tier
of that derivative (MediaDerivative.tier), as image bodies appear by the image tiers; the original file is
offered as a `rendering` at the original tier. Nothing is painted where the tier allows no playable file:
the canvas keeps its size and duration, as a metadata-tier image canvas does.
"""

from __future__ import annotations

from typing import Any

from iiif_prezi3 import Annotation, AnnotationBody, AnnotationPage, Canvas, PlaceholderCanvas, TextualBody

from schemas.access import Tier
from schemas.asset import AssetRecord, ImageRecord
from schemas.media import MediaDerivative, MediaRecord, MediaType
from services.iiif.info import full_size
from services.iiif.presentation import NO_IMAGE_PX, LangMap, Site, image_body, image_canvas, lang

PLAYED = {MediaType.AUDIO: "Sound", MediaType.VIDEO: "Video"}  # the IIIF type of a recording's painted body
PICTURE_OF = {MediaType.AUDIO: "waveform", MediaType.VIDEO: "poster"}  # the derivative shown before it plays


def _images_of(asset: AssetRecord, media: MediaRecord) -> list[tuple[int, ImageRecord]]:
    """The pages, keyframes or views made from `media`, with their positions in `asset.images`, in order."""
    made = [(n, im) for n, im in enumerate(asset.images) if im.of_media == media.id]
    return sorted(made, key=lambda item: (item[1].page or 0, item[1].time_s or 0.0, item[0]))


def _derivative(media: MediaRecord, name: str, tier: Tier) -> MediaDerivative | None:
    """Media file's derivative `name` if it exists and `tier` may receive it."""
    return next((d for d in media.derivatives if d.name == name and tier.includes(d.tier)), None)


def _label(media: MediaRecord, zh: str, en: str) -> LangMap:
    if media.label:
        return lang(f"{media.label} · {zh}", f"{media.label} · {en}")
    return lang(zh, en)


def _picture(site: Site, asset: AssetRecord, n: int, derivative: MediaDerivative,
             fallback: tuple[int, int] | None) -> AnnotationBody | None:
    """A picture derivative (poster, waveform) as an image body, or None when its size is unknown."""
    width, height = (derivative.width, derivative.height) if derivative.width and derivative.height else (
        fallback or (None, None))
    if not width or not height:
        return None
    return AnnotationBody(id=site.file_url(asset.asset_id, n, derivative.name), type="Image",
                          format=derivative.mime, width=width, height=height)


def _painted(canvas_id: str, body: AnnotationBody) -> list[AnnotationPage]:
    painting = Annotation(id=f"{canvas_id}/annotation/0", type="Annotation", motivation="painting", body=body,
                          target=canvas_id)
    return [AnnotationPage(id=f"{canvas_id}/page/0", type="AnnotationPage", items=[painting])]


def _placeholder(canvas_id: str, body: AnnotationBody) -> PlaceholderCanvas:
    placeholder_id = f"{canvas_id}/placeholder"
    return PlaceholderCanvas(id=placeholder_id, width=body.width, height=body.height,
                             items=_painted(placeholder_id, body))


def _file_link(site: Site, asset: AssetRecord, n: int, name: str, mime: str, kind: str,
               label: LangMap) -> dict[str, Any]:
    return {"id": site.file_url(asset.asset_id, n, name), "type": kind, "format": mime, "label": label}


def _page_canvases(site: Site, asset: AssetRecord, k: int, media: MediaRecord, tier: Tier) -> list[Canvas]:
    text = _derivative(media, "text", tier)
    out = []
    for n, image in _images_of(asset, media):
        page = image.page or n + 1
        canvas = image_canvas(site, asset, n, image, tier, label=_label(media, f"第 {page} 页", f"Page {page}"))
        if text is not None:
            canvas.seeAlso = [_file_link(site, asset, k, "text", text.mime, "Text", lang("全文", "Full text"))]
        if image.text:
            page_id = f"{canvas.id}/text"
            note = Annotation(id=f"{page_id}/0", type="Annotation", motivation="supplementing", target=canvas.id,
                              body=TextualBody(type="TextualBody", value=image.text, format="text/plain"))
            canvas.annotations = [AnnotationPage(id=page_id, type="AnnotationPage", items=[note])]
        out.append(canvas)
    return out


def _recording_canvas(site: Site, asset: AssetRecord, k: int, media: MediaRecord, tier: Tier) -> Canvas:
    canvas_id = site.canvas_id(asset.asset_id, f"file/{k}")
    video = media.media_type is MediaType.VIDEO
    label = _label(media, "视频" if video else "录音", "Video" if video else "Recording")
    size = (media.width, media.height) if video and media.width and media.height else None
    canvas = Canvas(id=canvas_id, label=label, items=[])
    if media.duration_s:
        canvas.duration = media.duration_s
    if size:
        canvas.width, canvas.height = size
    played = _derivative(media, "rendition", tier) or (_original(media) if tier is Tier.ORIGINAL else None)
    if played is not None:
        extra: dict[str, Any] = {"width": size[0], "height": size[1]} if size else {}
        if media.duration_s:
            extra["duration"] = media.duration_s
        canvas.items = _painted(canvas_id, AnnotationBody(id=site.file_url(asset.asset_id, k, played.name),
                                                          type=PLAYED[media.media_type], format=played.mime,
                                                          **extra))
    picture = _derivative(media, PICTURE_OF[media.media_type], tier)
    body = _picture(site, asset, k, picture, size) if picture else None
    if body is None and tier.includes(Tier.THUMBNAIL) and (made := _images_of(asset, media)):
        body = image_body(site, made[0][1], Tier.THUMBNAIL, service=False)  # the first keyframe
    if body is not None:
        canvas.thumbnail = [body]
        canvas.placeholderCanvas = _placeholder(canvas_id, body)
    return canvas


def _original(media: MediaRecord) -> MediaDerivative:
    """The original as if it were a derivative, for a recording that has no rendition."""
    return MediaDerivative(name="original", key=media.key, mime=media.mime, size_bytes=media.size_bytes,
                           tier=Tier.ORIGINAL)


def _model_canvas(site: Site, asset: AssetRecord, k: int, media: MediaRecord, tier: Tier) -> Canvas:
    canvas_id = site.canvas_id(asset.asset_id, f"file/{k}")
    views = _images_of(asset, media)
    width, height = full_size(views[0][1]) if views else (NO_IMAGE_PX, NO_IMAGE_PX)
    canvas = Canvas(id=canvas_id, label=_label(media, "三维模型", "3D model"), width=width, height=height,
                    items=[])
    if views and tier.includes(Tier.THUMBNAIL):
        canvas.thumbnail = [image_body(site, views[0][1], Tier.THUMBNAIL, service=False)]
        shown = Tier.PREVIEW if tier.includes(Tier.PREVIEW) else Tier.THUMBNAIL
        canvas.placeholderCanvas = _placeholder(canvas_id, image_body(site, views[0][1], shown, service=False))
    if rendering := _renderings_of(site, asset, k, media, tier):
        canvas.rendering = rendering
    return canvas


def _renderings_of(site: Site, asset: AssetRecord, k: int, media: MediaRecord, tier: Tier) -> list[dict[str, Any]]:
    """Alternative forms of media file `k` a client may download: its GLB, and the original at the original tier."""
    out = []
    if media.media_type is MediaType.MODEL and (glb := _derivative(media, "glb", tier)) is not None:
        out.append(_file_link(site, asset, k, "glb", glb.mime, "Model", lang("三维模型（GLB）", "3D model (GLB)")))
    if tier is Tier.ORIGINAL:
        kind = {MediaType.DOCUMENT: "Text", MediaType.AUDIO: "Sound", MediaType.VIDEO: "Video"}.get(
            media.media_type, "Model")
        out.append(_file_link(site, asset, k, "original", media.mime, kind,
                              lang(f"原始文件（{media.format}）", f"Original file ({media.format})")))
    return out


def canvases(site: Site, asset: AssetRecord, tier: Tier) -> list[Canvas]:
    """Every canvas of the asset: uploaded images, then each media file's (the module docstring's table)."""
    known = {m.id for m in asset.media_files}
    out = [image_canvas(site, asset, n, im, tier) for n, im in enumerate(asset.images) if im.of_media not in known]
    for k, media in enumerate(asset.media_files):
        if media.media_type is MediaType.DOCUMENT:
            out += _page_canvases(site, asset, k, media, tier)
        elif media.media_type in PLAYED:
            out.append(_recording_canvas(site, asset, k, media, tier))
        elif media.media_type is MediaType.MODEL:
            out.append(_model_canvas(site, asset, k, media, tier))
    return out


def renderings(site: Site, asset: AssetRecord, tier: Tier) -> list[dict[str, Any]]:
    """The manifest's `rendering`: each model's GLB, and at the original tier every media file's original."""
    return [link for k, media in enumerate(asset.media_files) for link in _renderings_of(site, asset, k, media, tier)]
