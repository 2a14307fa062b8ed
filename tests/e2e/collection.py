"""The browser tests' own small collection: a dozen assets of one new institution, their images really in S3
(originals and the derivatives ingestion makes), enriched by the pipeline's models and indexed under an index
prefix of their own, served by a gateway of their own.

Licences are chosen so that an anonymous visitor can see most things but not all of them: CC0 and CC BY give
the original to everyone, In Copyright only a thumbnail (so its original download is refused), and one
restricted object is visible to the holder's staff only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from elasticsearch import Elasticsearch
from minio import Minio
from PIL import Image

from indexing.aliases import ensure_assets_index
from indexing.bulk import index_documents
from indexing.enrich import Enricher
from schemas.asset import AssetRecord
from services.ingest.media import make_derivatives
from services.settings import AccessSettings, Settings
from tests.factories import image_record, make_asset, make_image

# name: (title_zh, title_en, category, materials, period, licence, access, image size)
OBJECTS: dict[str, tuple[str, str, str, str, str, str, str | None, tuple[int, int]]] = {
    "jue": ("青铜爵", "Bronze ritual wine vessel (jue)", "青铜器", "青铜", "商", "CC0", None, (2048, 1536)),
    "ding": ("青铜鼎", "Bronze cauldron (ding)", "青铜器", "青铜", "西周", "CC-BY-4.0", None, (800, 600)),
    "mirror": ("海兽葡萄铜镜", "Bronze mirror with sea beasts and grapes", "青铜器", "青铜", "唐", "CC0", None,
               (640, 640)),
    "bi": ("谷纹玉璧", "Jade disc (bi) with grain pattern", "玉器", "玉", "战国", "CC0", None, (640, 640)),
    "cong": ("玉琮", "Jade tube (cong)", "玉器", "玉", "新石器时代", "CC0", None, (480, 640)),
    "vase": ("青花缠枝莲纹瓶", "Blue and white vase with lotus scrolls", "瓷器", "瓷", "清乾隆", "CC-BY-4.0", None,
             (600, 800)),
    "bowl": ("青瓷碗", "Celadon bowl", "瓷器", "瓷", "宋", "CC0", None, (800, 600)),
    "dish": ("粉彩花卉盘", "Famille rose dish with flowers", "瓷器", "瓷", "清雍正", "CC0", None, (700, 700)),
    "landscape": ("溪山行旅图", "Travellers among streams and mountains", "绘画", "绢", "宋", "InC", None,
                  (1200, 900)),
    "scroll": ("行书诗卷", "Poem scroll in running script", "书法", "纸", "明", "InC-EDU", None, (1200, 400)),
    "box": ("剔红漆盒", "Carved red lacquer box", "漆器", "漆", "明", "CC0", None, (640, 480)),
    "vault": ("库藏青铜觚", "Bronze wine beaker (gu), study collection", "青铜器", "青铜", "商",
              "restricted:institution", "institution", (640, 480)),
}

# Museum text is data, never markup: one record carries some, and the pages must show it as written.
MARKUP = '<img src=x onerror="window.__xss = 1">Carved <b>red</b> <script>window.__xss = 2</script>lacquer'
EXTRA: dict[str, dict[str, object]] = {"box": {"description_en": MARKUP, "creator": "<i>workshop</i> & sons"}}


@dataclass
class Collection:
    base: str  # the gateway's URL
    settings: Settings  # its settings (the index prefix of this collection)
    institution: str
    ids: dict[str, str]  # name → asset id
    files: dict[str, Path]  # name → the original image on disk
    records: dict[str, AssetRecord] = field(default_factory=dict)

    def title(self, name: str) -> str:
        return OBJECTS[name][1]

    def url(self, path: str) -> str:
        return self.base + path


def unlimited(settings: Settings) -> AccessSettings:
    """The public's rate limit out of the way: a browser fetches every tile and thumbnail, and the tests are not
    about the limit."""
    return settings.access.model_copy(update={"anonymous_rate_per_min": 1_000_000})


def _store(s3: Minio, settings: Settings, institution: str, path: Path, work: Path) -> dict[str, object]:
    """The original and the derivatives ingestion makes, in the assets bucket; its ImageRecord."""
    record = image_record(path, None) | {"id": str(uuid.uuid4())}
    keys = {"key": f"{institution}/originals/{path.name}",
            "thumbnail_key": f"{institution}/derivatives/{path.stem}/thumbnail.jpg",
            "preview_key": f"{institution}/derivatives/{path.stem}/preview.jpg"}
    bucket = settings.s3.bucket_assets
    s3.fput_object(bucket, keys["key"], str(path), content_type=str(record["mime"]))
    for d in make_derivatives(path, work, thumbnail_px=settings.ingest.thumbnail_px,
                              preview_px=settings.ingest.preview_px):
        s3.fput_object(bucket, keys[f"{d.name}_key"], str(d.path), content_type=d.mime)
    return record | keys


def build(es: Elasticsearch, s3: Minio, settings: Settings, enricher: Enricher, institution: str,
          work: Path) -> tuple[Settings, dict[str, str], dict[str, Path], dict[str, AssetRecord]]:
    """Store, enrich and index OBJECTS for `institution` under an index prefix of its own."""
    prefix = f"test-e2e-{uuid.uuid4().hex[:8]}"
    scoped = settings.model_copy(update={"es": settings.es.model_copy(update={"index_prefix": prefix}),
                                         "access": unlimited(settings)})
    files, records = {}, []
    for seed, (name, (zh, en, category, material, period, licence, access, size)) in enumerate(OBJECTS.items()):
        files[name] = make_image(work / f"{name}.jpg", seed=7000 + seed, size=size)
        image = _store(s3, settings, institution, files[name], work)
        fields: dict[str, object] = {"object_id": f"E2E-{seed:02d}", "title_zh": zh, "title_en": en,
                                     "description_en": f"{en}, {period}.", "category": category,
                                     "materials": [material], "period": period, "licence": licence,
                                     "institution": institution, "region": "CN-BJ", "images": [image],
                                     "has_image": True}
        if access:
            fields["access"] = access
        fields |= EXTRA.get(name, {})
        records.append(AssetRecord.model_validate(make_asset(**fields)))
    models = Enricher(scoped, es, s3, text=enricher.text, image=enricher.image, use_ocr=False)
    enriched = models.enrich(records)
    alias = ensure_assets_index(es, scoped, models.encoders)
    index_documents(es, alias, [(a.asset_id, a.model_dump(mode="json")) for a in enriched])
    es.indices.refresh(index=alias)
    ids = {name: a.asset_id for name, a in zip(OBJECTS, enriched, strict=True)}
    return scoped, ids, files, dict(zip(OBJECTS, enriched, strict=True))


def remove(es: Elasticsearch, s3: Minio, settings: Settings, scoped: Settings, institution: str) -> None:
    es.indices.delete(index=f"{scoped.es.index_prefix}-*", allow_no_indices=True, expand_wildcards="all")
    for obj in s3.list_objects(settings.s3.bucket_assets, prefix=f"{institution}/", recursive=True):
        s3.remove_object(settings.s3.bucket_assets, obj.object_name or "")


def resized_copy(path: Path, target: Path, size: tuple[int, int] = (320, 240)) -> Path:
    """A smaller photograph of the same object, as a visitor would upload to search by image."""
    Image.open(path).convert("RGB").resize(size).save(target, "JPEG", quality=85)
    return target
