"""Image API delivery: the image a caller may see, the limits of its tier, and the image made or read from the cache.

`find_image` looks the image id up with the caller's visibility filter in the query (an image of an
asset the caller may not see is not found, exactly like one that does not exist) and decides its
tier, through services/access/seen.py as every delivery does. `media_tier` refuses the metadata
tier with the wording of services/access/delivery.authorise (which licence, audience or grant would
allow an image). `make` plans the request within the tier's limits (services/iiif/image.py) and
returns the cached image (from memory, then S3), or makes it from the tier's own source and caches it.

**Lookups, briefly kept.** A viewer asks for dozens of tiles of one image within a second, and the
lookup (an Elasticsearch query with the caller's filter) costs more than serving a tile from memory.
A lookup that found the image is kept for `iiif.lookup_cache_s` seconds (0: never) for the same
caller — the whole principal, its grants included, is the key, so a revoked grant or key (which
makes another principal: services/access/resolve.py) is never served from it. What the record
itself says is stale for at most that long: a licence changed, a record withdrawn or an image
replaced reaches the tiles of a viewer already open within `iiif.lookup_cache_s` seconds. An image
not found is never kept.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch
from minio import Minio

from indexing.aliases import assets_alias
from schemas.access import MEDIA_TIERS, Tier
from schemas.asset import AssetRecord, ImageRecord
from services.access.delivery import authorise
from services.access.errors import TierRefused
from services.access.policy import Decision
from services.access.principals import Principal
from services.access.seen import find_seen
from services.iiif.cache import (
    SourceCache,
    TileCache,
    derivative_key,
    load_source,
    read_derivative,
    reduction,
    write_derivative,
)
from services.iiif.image import BeyondLimits, ImageRequest, InvalidImageRequest, Limits, Plan, plan
from services.iiif.info import limits_for
from services.iiif.render import render, source_box
from services.settings import Settings


class ImageNotFound(LookupError):
    pass


@dataclass(frozen=True)
class SeenImage:
    """An image the caller may see: its asset, its place in the asset, and what the caller receives of it."""

    asset: AssetRecord
    index: int
    image: ImageRecord
    decision: Decision


@dataclass(frozen=True)
class Made:
    body: bytes
    plan: Plan
    limits: Limits
    tier: Tier  # of the source it was made from
    cached: bool  # read from the derivative cache


class Lookups:
    """Images found, per (index, image id, principal), each until its expiry; at most `entries` of them."""

    def __init__(self, entries: int = 4096) -> None:
        self.entries = entries
        self._items: OrderedDict[tuple[str, str, str], tuple[float, SeenImage]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> SeenImage | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            if found[0] <= time.monotonic():
                del self._items[key]
                return None
            return found[1]

    def put(self, key: tuple[str, str, str], seen: SeenImage, ttl_s: float) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + ttl_s, seen)
            self._items.move_to_end(key)
            while len(self._items) > self.entries:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


LOOKUPS = Lookups()  # one per gateway process


def find_image(es: Elasticsearch, settings: Settings, image_id: str, principal: Principal) -> SeenImage:
    ttl = settings.iiif.lookup_cache_s
    key = (assets_alias(settings.es), image_id, repr(principal))
    if ttl > 0 and (kept := LOOKUPS.get(key)) is not None:
        return kept
    seen = look_up_image(es, settings, image_id, principal)
    if ttl > 0:
        LOOKUPS.put(key, seen, ttl)
    return seen


def look_up_image(es: Elasticsearch, settings: Settings, image_id: str, principal: Principal) -> SeenImage:
    """`find_image` without the kept lookups: always asks Elasticsearch."""
    by_id = {"nested": {"path": "images", "query": {"term": {"images.id": image_id}}}}
    found = find_seen(es, settings, principal, by_id)
    if found is None:
        raise ImageNotFound(image_id)
    source, decision = found
    asset = AssetRecord.model_validate(source)
    index = next(n for n, im in enumerate(asset.images) if im.id == image_id)
    return SeenImage(asset, index, asset.images[index], decision)


def media_tier(seen: SeenImage) -> Tier:
    """The caller's tier if it includes an image at all; TierRefused (saying what would allow one) otherwise."""
    tier = seen.decision.tier or Tier.METADATA
    if not tier.includes(Tier.THUMBNAIL):
        authorise(seen.asset, seen.decision, seen.index, Tier.THUMBNAIL)  # raises, with who would receive it
    return tier


def caller_limits(settings: Settings, image: ImageRecord, tier: Tier) -> Limits:
    return limits_for(image, tier, thumbnail_px=settings.ingest.thumbnail_px, preview_px=settings.ingest.preview_px,
                      max_area=settings.iiif.max_area)


def _beyond(settings: Settings, seen: SeenImage, request: ImageRequest, tier: Tier, exc: BeyondLimits) -> Exception:
    """A request too large for the caller's tier: TierRefused naming the tier that would serve it, if one would."""
    for higher in (t for t in MEDIA_TIERS if t.rank > tier.rank):
        try:
            plan(request, caller_limits(settings, seen.image, higher))
        except (BeyondLimits, InvalidImageRequest):
            continue
        try:
            authorise(seen.asset, seen.decision, seen.index, higher)
        except TierRefused as refused:
            limits = caller_limits(settings, seen.image, tier)
            refused.extensions |= {"requested_width": exc.width, "requested_height": exc.height,
                                   "maxWidth": limits.max_width, "maxHeight": limits.max_height}
            refused.detail = f"{exc}. {refused.detail}"
            return refused
    return InvalidImageRequest(str(exc))


def planned(settings: Settings, seen: SeenImage, request: ImageRequest) -> tuple[Plan, Limits, Tier]:
    tier = media_tier(seen)
    limits = caller_limits(settings, seen.image, tier)
    try:
        return plan(request, limits), limits, tier
    except BeyondLimits as exc:
        raise _beyond(settings, seen, request, tier, exc) from exc


def cache_key(seen: SeenImage, tier: Tier, made: Plan, limits: Limits) -> str:
    return derivative_key(seen.asset.institution, seen.image.id, tier.value, made.cache_path(limits))


def in_memory(settings: Settings, tiles: TileCache, seen: SeenImage, request: ImageRequest) -> Made | None:
    """The image `request` asks for, if it is in memory (no I/O: the caller need not leave its event loop)."""
    if not settings.iiif.cache_derivatives:
        return None
    what, limits, tier = planned(settings, seen, request)
    body = tiles.get(cache_key(seen, tier, what, limits))
    return Made(body, what, limits, tier, cached=True) if body is not None else None


def make(s3: Minio, settings: Settings, sources: SourceCache, seen: SeenImage, request: ImageRequest,
         tiles: TileCache | None = None) -> Made:
    """The image `request` asks for, as far as the caller's tier allows: from the cache (memory, then S3), or made
    and cached."""
    what, limits, tier = planned(settings, seen, request)
    bucket, key = settings.s3.bucket_assets, cache_key(seen, tier, what, limits)
    if settings.iiif.cache_derivatives:
        body = tiles.get(key) if tiles is not None else None
        if body is None and (body := read_derivative(s3, bucket, key)) is not None and tiles is not None:
            tiles.put(key, body)
        if body is not None:
            return Made(body, what, limits, tier, cached=True)
    source_key = authorise(seen.asset, seen.decision, seen.index, tier)
    jpeg = tier is not Tier.ORIGINAL or seen.image.mime == "image/jpeg"  # derivatives are JPEG
    box = source_box(what, limits, (limits.source_width, limits.source_height))
    source = load_source(s3, bucket, source_key, reduction(box, (what.width, what.height), jpeg), sources)
    body = render(source, what, limits)
    if settings.iiif.cache_derivatives:
        write_derivative(s3, bucket, key, body, what.format.media_type)
        if tiles is not None:
            tiles.put(key, body)
    return Made(body, what, limits, tier, cached=False)


def audit_detail(seen: SeenImage, tier: Tier | None) -> dict[str, Any]:
    """What the audit log records of an Image API delivery (services/access/audit.record's fields)."""
    return {"about": seen.asset.institution, "asset_id": seen.asset.asset_id, "basis": seen.decision.basis,
            "licence": seen.asset.licence.code, "tier": tier.value if tier else None,
            "purpose": seen.decision.grant.purpose.value if seen.decision.grant else None}
