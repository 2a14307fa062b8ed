"""IIIF Presentation API 3.0: one asset as a Manifest; the assets of a batch or an institution as a Collection.

Pure: an `AssetRecord`, the caller's `Decision` (services/access/policy.decide) and a `Site` (the
gateway's base URL and the tier sizes) go in, a JSON-LD document comes out, built with iiif-prezi3.
Nothing here knows HTTP or Elasticsearch; the routes are services/gateway/routers/iiif_presentation.py.

Language maps: `zh` for Chinese (the `*_zh` fields and the taxonomy's Chinese names; no script
subtag, because a museum may catalogue in simplified or traditional characters and Wenyuan does not
guess which), `en` for English, `none` for values in no one language (object numbers, period and
dimension text as written, view labels, the credit line).

What the caller's tier puts on the canvases (one canvas per stored image, in manifest order, with the
original's width and height as a viewer shows it — EXIF orientation applied, as the Image API's
info.json gives it — as its coordinate space, so annotations fit whatever is painted):

    metadata   the canvases, their labels and dimensions; nothing painted, no thumbnails
    thumbnail  + a thumbnail per canvas and for the manifest, nothing painted
    preview    + the image painted at preview size, with its Image API service
    original   + the image painted at full size

Documents, recordings and 3D models (`asset.media_files`) add their canvases after the uploaded images:
a document's pages are image canvases under these rules; services/iiif/presentation_media.py says the rest.
A record without images or media files has one empty canvas of a nominal 1000 × 1000 labelled "No image" (a Manifest
must have a canvas). Image URLs are IIIF Image API 3.0 requests of the image service
`{base}/iiif/3/{image_id}` within the tier: `full/W,H/0/default.jpg` with the exact size of the tier's
derivative (longest side settings.ingest.thumbnail_px or preview_px, never enlarged: the same URL
means the same pixels for every caller, and no `!w,h` larger than a small image, which the Image API
refuses without `^`), or `full/max/0/default.jpg` at the original tier (its size held to
`iiif.max_area` pixels, as the Image API holds it).

`rights` is the licence URI when it is a Creative Commons or RightsStatements.org one (the only URIs
Presentation 3.0 allows there; Creative Commons in its canonical `http://` form, as the IIIF schema
requires). Otherwise (restricted material, which has no URI, or another licence such as Apache-2.0)
`rights` is left out and the licence is stated in `metadata`; `requiredStatement` always carries the
credit line (services/assets.attribution).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from iiif_prezi3 import (
    Annotation,
    AnnotationBody,
    AnnotationPage,
    Canvas,
    Collection,
    CollectionRef,
    KeyValueString,
    Manifest,
    ManifestRef,
    ServiceV3,
)

from schemas.access import Tier
from schemas.asset import AssetRecord, ImageRecord, LabelStatus
from schemas.licences import LicenceFamily
from schemas.taxonomy import concept
from services.access.policy import Decision
from services.assets import attribution
from services.iiif.info import fit, full_size, within_area

CONTEXT = "http://iiif.io/api/presentation/3/context.json"
MEDIA_TYPE = f'application/ld+json;profile="{CONTEXT}"'
NO_IMAGE_PX = 1000  # the canvas of a record without images (Presentation 3.0 wants one canvas at least)
LangMap = dict[str, list[str]]  # a IIIF language map: BCP 47 tag (or "none") → values


@dataclass(frozen=True)
class Site:
    """Where the documents point, and the longest side of each reduced tier (settings.ingest)."""

    base: str  # the gateway's public URL, without a trailing slash
    thumbnail_px: int
    preview_px: int
    max_area: int | None = None  # the most pixels the Image API makes of one request (settings.iiif.max_area)

    def manifest_id(self, asset_id: str) -> str:
        return f"{self.base}/iiif/3/{asset_id}/manifest"

    def canvas_id(self, asset_id: str, n: int | str) -> str:
        return f"{self.base}/iiif/3/{asset_id}/canvas/{n}"

    def file_url(self, asset_id: str, n: int, name: str) -> str:
        """A media file's original or derivative as the gateway delivers it (routers/assets.py: deliver_file)."""
        return f"{self.base}/v1/assets/{asset_id}/files/{n}/{name}"

    def image_service(self, image_id: str) -> str:
        return f"{self.base}/iiif/3/{image_id}"

    def collection_id(self, kind: str, value: str) -> str:
        return f"{self.base}/iiif/3/collections/{kind}/{quote(value, safe='')}"


def lang(zh: str | None = None, en: str | None = None) -> LangMap:
    return {k: [v] for k, v in (("zh", zh), ("en", en)) if v}


def none(*values: str | None) -> LangMap:
    return {"none": [v for v in values if v]}


def _entry(zh: str, en: str, value: LangMap) -> KeyValueString | None:
    return KeyValueString(label=lang(zh, en), value=value) if any(value.values()) else None


def title(asset: AssetRecord) -> LangMap:
    return lang(asset.title_zh, asset.title_en) or none(asset.object_id)


def rights(asset: AssetRecord) -> str | None:
    uri = asset.licence.uri
    if uri is None or asset.licence.family not in (LicenceFamily.CREATIVE_COMMONS, LicenceFamily.RIGHTS_STATEMENT):
        return None
    return uri.replace("https://creativecommons.org/", "http://creativecommons.org/")


def _licence(asset: AssetRecord) -> LangMap:
    licence = asset.licence
    if licence.family is LicenceFamily.RESTRICTED:
        policy = licence.policy.value if licence.policy else "restricted"
        return lang(f"受限（{policy}）：无公开许可，复制使用须经收藏机构同意。",
                    f"{licence.label}: under no public licence; reuse needs the holder's permission.")
    return none(f"{licence.label} ({licence.uri})" if licence.uri else licence.label)


def _categories(asset: AssetRecord) -> LangMap:
    known = []
    for cid in asset.category_ids:
        try:
            known.append(concept(cid))
        except KeyError:
            continue
    if known:
        return {"zh": [c.zh for c in known], "en": [c.en for c in known]}
    return none(asset.category)


def _ai_labels(asset: AssetRecord) -> LangMap:
    """Labels a model proposed and no curator has decided yet: shown as model-made, with confidence."""
    out: LangMap = {"zh": [], "en": []}
    for label in asset.ai.labels if asset.ai else []:
        if label.status is not LabelStatus.SUGGESTED:
            continue
        try:
            c = concept(label.id)
        except KeyError:
            continue
        kind_zh = "类别" if label.kind.value == "category" else "质地"
        out["zh"].append(f"{c.zh}（{kind_zh}，置信度 {label.confidence:.2f}，模型 {label.model}）")
        out["en"].append(f"{c.en} ({label.kind.value}, confidence {label.confidence:.2f}, model {label.model})")
    return out if out["en"] else {}


def metadata(asset: AssetRecord) -> list[KeyValueString]:
    entries = [
        _entry("原名", "Original title", lang(zh=asset.original_title)),
        _entry("文物编号", "Object number", none(asset.object_id)),
        _entry("收藏机构", "Institution", none(asset.institution)),
        _entry("部门", "Department", none(asset.department)),
        _entry("年代", "Period", none(asset.period)),
        _entry("具体年代", "Date", none(asset.date)),
        _entry("作者", "Creator", none(asset.creator)),
        _entry("类别", "Category", _categories(asset)),
        _entry("质地", "Materials", none(*asset.materials)),
        _entry("尺寸", "Dimensions", none(asset.dimensions)),
        _entry("出土地点或来源", "Provenance", none(asset.provenance)),
        _entry("许可", "Licence", _licence(asset)),
        _entry("AI 建议（模型生成，未经审核）", "AI suggestions (model-made, not reviewed)", _ai_labels(asset)),
    ]
    return [e for e in entries if e is not None]


def required_statement(asset: AssetRecord) -> KeyValueString:
    return KeyValueString(label=lang("署名", "Attribution"), value=none(attribution(asset)))


def image_body(site: Site, image: ImageRecord, tier: Tier, *, service: bool) -> AnnotationBody:
    """An image of `image` at `tier` (thumbnail, preview or original), as a IIIF Image API URL."""
    svc = site.image_service(image.id)
    if tier is Tier.ORIGINAL:
        full = full_size(image)
        size, (width, height) = "max", within_area(full, site.max_area) if site.max_area else full
    else:
        width, height = fit(full_size(image), site.thumbnail_px if tier is Tier.THUMBNAIL else site.preview_px)
        size = f"{width},{height}"
    extra = {"service": [ServiceV3(id=svc, type="ImageService3", profile="level2")]} if service else {}
    return AnnotationBody(id=f"{svc}/full/{size}/0/default.jpg", type="Image", format="image/jpeg",
                          width=width, height=height, **extra)


def image_canvas(site: Site, asset: AssetRecord, n: int, image: ImageRecord, tier: Tier,
                 label: LangMap | None = None) -> Canvas:
    """The canvas of `asset.images[n]`: its size, and what `tier` allows of it (the module docstring's table)."""
    canvas_id = site.canvas_id(asset.asset_id, n)
    if label is None:
        label = none(image.label) if image.label else lang(f"图 {n + 1}", f"Image {n + 1}")
    width, height = full_size(image)
    canvas = Canvas(id=canvas_id, label=label, width=width, height=height, items=[])
    if tier.includes(Tier.THUMBNAIL):
        canvas.thumbnail = [image_body(site, image, Tier.THUMBNAIL, service=False)]
    if tier.includes(Tier.PREVIEW):
        body = image_body(site, image, Tier.ORIGINAL if tier is Tier.ORIGINAL else Tier.PREVIEW, service=True)
        painting = Annotation(id=f"{canvas_id}/annotation/0", type="Annotation", motivation="painting",
                              body=body, target=canvas_id)
        canvas.items = [AnnotationPage(id=f"{canvas_id}/page/0", type="AnnotationPage", items=[painting])]
    return canvas


def _no_image(site: Site, asset: AssetRecord) -> Canvas:
    """A Manifest needs at least one canvas: a record without images gets an empty one of a nominal size."""
    return Canvas(id=f"{site.base}/iiif/3/{asset.asset_id}/canvas/none", label=lang("无图像", "No image"),
                  width=NO_IMAGE_PX, height=NO_IMAGE_PX, items=[])


def _document(resource: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(resource.jsonld())
    return doc


def manifest(site: Site, asset: AssetRecord, decision: Decision) -> dict[str, Any]:
    """The asset as a Presentation 3.0 Manifest, with what `decision`'s tier allows painted."""
    tier = decision.tier or Tier.METADATA
    # presentation_media builds on this module's image canvases: imported here, so that importing either
    # module first works (the dependency is one-way at import time).
    from services.iiif import presentation_media

    out = Manifest(id=site.manifest_id(asset.asset_id), label=title(asset), metadata=metadata(asset),
                   requiredStatement=required_statement(asset),
                   items=presentation_media.canvases(site, asset, tier) or [_no_image(site, asset)])
    summary = lang(asset.description_zh, asset.description_en)
    if summary:
        out.summary = summary
    if (uri := rights(asset)) is not None:
        out.rights = uri
    if asset.images and tier.includes(Tier.THUMBNAIL):
        out.thumbnail = [image_body(site, asset.images[0], Tier.THUMBNAIL, service=False)]
    if rendering := presentation_media.renderings(site, asset, tier):
        out.rendering = rendering
    out.seeAlso = [{"id": f"{site.base}/v1/assets/{asset.asset_id}", "type": "Dataset",
                    "format": "application/json", "label": lang("文渊记录", "Wenyuan record")}]
    out.partOf = [{"id": site.collection_id("batch", asset.batch_id), "type": "Collection"},
                  {"id": site.collection_id("institution", asset.institution), "type": "Collection"}]
    return _document(out)


@dataclass(frozen=True)
class Part:
    """One part of a collection: its members, and where the next part starts (None: this is the last)."""

    members: Sequence[tuple[AssetRecord, Decision]]
    next_after: str | None  # asset id after which the next part starts
    after: str | None = None  # where this part starts (None: the first part)


def collection(site: Site, kind: str, value: str, label: LangMap, part: Part) -> dict[str, Any]:
    """A Collection of Manifest references, one part of it at a time.

    Presentation 3.0 has no paging for collections, so a long one is a chain: each part lists up to a
    page of manifests and ends with a reference to the next part (`?after=<last asset id>`); every
    part after the first is `partOf` the first, which is the collection's id."""
    first = site.collection_id(kind, value)
    refs: list[Any] = []
    for asset, decision in part.members:
        ref = ManifestRef(id=site.manifest_id(asset.asset_id), type="Manifest", label=title(asset))
        if asset.images and (decision.tier or Tier.METADATA).includes(Tier.THUMBNAIL):
            ref.thumbnail = [image_body(site, asset.images[0], Tier.THUMBNAIL, service=False)]
        refs.append(ref)
    if part.next_after is not None:
        refs.append(CollectionRef(id=f"{first}?after={part.next_after}", type="Collection",
                                  label=lang("下一部分", "Next part")))
    count = len(part.members)
    summary = (lang(f"此部分列出 {count} 件藏品，末项为下一部分。", f"This part lists {count} object(s); its last "
                    "item is the next part.") if part.next_after else lang(f"此部分列出 {count} 件藏品。",
                                                                    f"This part lists {count} object(s)."))
    out = Collection(id=f"{first}?after={part.after}" if part.after else first, label=label, summary=summary,
                     items=refs)
    if part.after:
        out.partOf = [{"id": first, "type": "Collection", "label": label}]
    return _document(out)
