"""Search by image with the very file that was ingested finds its own object first, whatever the file's kind.

The files go through ingestion's store step (original and derivatives into the assets bucket, under a
unique institution), the production `Enricher` (vectors from the stored derivative), a temporary index
(unique `es.index_prefix`), and back as queries decoded the way `POST /v1/search/image` decodes an
upload. Similar objects (the same kind of vessel) sit next to each other, so the first place is earned.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pytest
from elasticsearch import Elasticsearch
from minio import Minio
from PIL import Image

from indexing.aliases import assets_alias, ensure_assets_index
from indexing.bulk import index_documents
from indexing.enrich import Enricher
from indexing.query import Filters
from samples import views
from schemas.asset import AssetRecord, asset_id_for
from services import assets
from services.gateway.routers.search import _open_upload
from services.ingest.context import IngestContext
from services.ingest.derive import derive_image
from services.settings import Settings

pytestmark = pytest.mark.integration

SIZE = (900, 675)


def _png_with_alpha(object_id: str) -> bytes:
    obj, _ = views.cutout(object_id, "porcelain", SIZE)
    out = io.BytesIO()
    obj.save(out, "PNG")
    return out.getvalue()


def _jpeg(object_id: str, kind: str, *, orientation: int | None = None, mode: str = "RGB") -> bytes:
    obj, ground = views.cutout(object_id, kind, SIZE)
    picture = ground.copy()
    picture.paste(obj, (0, 0), obj)
    out = io.BytesIO()
    if orientation == 6:  # stored sideways, as a camera held upright writes it
        exif = Image.Exif()
        exif[0x0112] = 6
        picture.transpose(Image.Transpose.ROTATE_90).save(out, "JPEG", quality=90, exif=exif.tobytes())
    else:
        picture.convert(mode).save(out, "JPEG", quality=90)
    return out.getvalue()


def _sixteen_bit_png(object_id: str) -> bytes:
    obj, ground = views.cutout(object_id, "bronze", SIZE)
    picture = ground.copy()
    picture.paste(obj, (0, 0), obj)
    out = io.BytesIO()
    Image.fromarray(np.asarray(picture.convert("L"), dtype=np.uint16) * 257).save(out, "PNG")
    return out.getvalue()


FILES = {
    "alpha-1.png": lambda: _png_with_alpha("iq-alpha-1"),
    "alpha-2.png": lambda: _png_with_alpha("iq-alpha-2"),
    "vase-1.jpg": lambda: _jpeg("iq-vase-1", "porcelain"),
    "vase-2.jpg": lambda: _jpeg("iq-vase-2", "porcelain"),
    "turned.jpg": lambda: _jpeg("iq-turned", "porcelain", orientation=6),
    "cmyk.jpg": lambda: _jpeg("iq-cmyk", "jade", mode="CMYK"),
    "bronze.jpg": lambda: _jpeg("iq-bronze", "bronze"),
    "grey16.png": lambda: _sixteen_bit_png("iq-grey16"),
}


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory, settings: Settings, es: Elasticsearch, s3: Minio,
             enricher: Enricher) -> Iterator[tuple[Settings, dict[str, str], dict[str, bytes]]]:
    """Each file the only image of its own record, stored, enriched and indexed; (settings, file → asset, bytes)."""
    tag = uuid.uuid4().hex[:10]
    institution = f"test-imgq-{tag}"
    scoped = settings.model_copy(update={"es": settings.es.model_copy(update={"index_prefix": f"test-imgq-{tag}"})})
    folder = tmp_path_factory.mktemp("image-quality")
    data = {name: make() for name, make in FILES.items()}
    records, owners = [], {}
    try:
        ctx = IngestContext(scoped, s3, es)
        for name, content in data.items():
            (folder / name).write_bytes(content)
            asset_id = asset_id_for(institution, name)
            image = derive_image(ctx, institution, asset_id, tag, folder / name, name, None, folder / "work",
                                 settings.ingest.max_file_bytes)
            records.append(AssetRecord(asset_id=asset_id, object_id=name, institution=institution, batch_id=tag,
                                       licence="CC0", title_en=name, images=[image], ingested_at=datetime.now(UTC)))
            owners[name] = asset_id
        service = Enricher(scoped, None, s3, text=enricher.text, image=enricher.image, use_ocr=False)
        alias = ensure_assets_index(es, scoped, service.encoders)
        index_documents(es, alias, [(a.asset_id, a.model_dump(mode="json")) for a in service.enrich(records)])
        es.indices.refresh(index=alias)
        yield scoped, owners, data
    finally:
        es.indices.delete(index=f"{assets_alias(scoped.es)}-v*", allow_no_indices=True)
        for obj in list(s3.list_objects(settings.s3.bucket_assets, prefix=f"{institution}/", recursive=True)):
            s3.remove_object(settings.s3.bucket_assets, obj.object_name or "")


@pytest.mark.parametrize("name", sorted(FILES))
def test_searching_with_the_ingested_file_finds_its_own_object_first(
    ingested: tuple[Settings, dict[str, str], dict[str, bytes]], es: Elasticsearch, name: str
) -> None:
    scoped, owners, data = ingested
    picture = _open_upload(data[name], scoped.ingest.max_image_pixels)

    hits = assets.search_by_image(es, scoped, picture, Filters(), 5, visibility=None)

    assert hits and hits[0]["asset_id"] == owners[name], [h["asset_id"] for h in hits]


@pytest.mark.parametrize("name", sorted(FILES))
def test_the_stored_vector_is_the_uploaded_files_vector(
    ingested: tuple[Settings, dict[str, str], dict[str, bytes]], es: Elasticsearch, enricher: Enricher, name: str
) -> None:
    scoped, owners, data = ingested
    assert enricher.image is not None
    query = enricher.image.encode([_open_upload(data[name], scoped.ingest.max_image_pixels)])[0]

    stored = assets.load(es, scoped, owners[name], visibility=None, vectors=True).images[0].vector

    # Exact cosine (kNN scores come from the quantised HNSW index and are only close to it).
    cosine = float(np.asarray(stored) @ query)
    assert cosine >= 0.99, f"{name}: cosine {cosine:.4f} between the upload's vector and the stored one"

