"""Delivery of an asset's media: the one path from a decision to a file, audited every time.

`authorise` turns the caller's decision (services/access/policy.decide) and the tier asked for
into the object key to serve, or refuses with what would allow it; the gateway then answers 302
to a presigned URL of `s3.presign_ttl_s` seconds. Allowed and refused deliveries are both
written to the audit log with the licence or grant that decided them.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from schemas.access import Tier
from schemas.asset import AssetRecord
from services.access import audit
from services.access.errors import TierRefused, UnknownEntity
from services.access.policy import AssetFacts, Decision, would_allow
from services.access.principals import Principal
from services.messages import Message, licence_message

MEDIA_KEY = {Tier.THUMBNAIL: "thumbnail_key", Tier.PREVIEW: "preview_key", Tier.ORIGINAL: "key"}


def authorise(asset: AssetRecord, decision: Decision, image: int, tier: Tier) -> str:
    """The object key of `image` at `tier`, if the decision allows it."""
    if tier is Tier.METADATA:
        raise UnknownEntity(Message("delivery.metadata"))
    if not 0 <= image < len(asset.images):
        raise UnknownEntity(Message("delivery.no-image", asset=asset.asset_id, count=len(asset.images), image=image))
    _allow(asset, decision, tier)
    key: str = getattr(asset.images[image], MEDIA_KEY[tier])
    return key


def authorise_file(asset: AssetRecord, decision: Decision, n: int, name: str) -> tuple[str, Tier, str]:
    """(object key, tier, media type) of media file `n`'s `name` — `original` or one of its derivatives (poster,
    contact-sheet, rendition, waveform, glb, text) — if the decision allows that tier."""
    if not 0 <= n < len(asset.media_files):
        raise UnknownEntity(Message("delivery.no-file", asset=asset.asset_id, count=len(asset.media_files), n=n))
    media = asset.media_files[n]
    if name == "original":
        key, tier, mime = media.key, Tier.ORIGINAL, media.mime
    else:
        found = next((d for d in media.derivatives if d.name == name), None)
        if found is None:
            names = ", ".join(["original", *(d.name for d in media.derivatives)])
            raise UnknownEntity(f"media file {n} of asset {asset.asset_id} has no {name!r}; it has: {names}")
        key, tier, mime = found.key, found.tier, found.mime
    _allow(asset, decision, tier)
    return key, tier, mime


def _allow(asset: AssetRecord, decision: Decision, tier: Tier) -> None:
    allowed = decision.tier or Tier.METADATA
    if not allowed.includes(tier):
        facts = AssetFacts.of(asset.model_dump(mode="json"))
        who = would_allow(facts, tier)
        raise TierRefused(
            Message("delivery.refused", label=licence_message(asset.licence.code, asset.licence.label),
                    code=asset.licence.code, allowed=Message(f"tier.{allowed.value}"), basis=decision.basis,
                    requested=Message(f"tier.{tier.value}"), who=who),
            licence=asset.licence.code, licence_uri=asset.licence.uri, allowed_tier=allowed.value,
            requested_tier=tier.value, basis=decision.basis, would_allow=who)


def record_delivery(session: Session, principal: Principal, asset: AssetRecord, decision: Decision, image: int | str,
                    tier: Tier, *, allowed: bool, reason: str | None = None) -> None:
    """`image` is an image's position, or what of a media file was asked for ("file 0 rendition")."""
    subject = f"image {image} {tier.value}" if isinstance(image, int) else image
    audit.record(session, principal, "deliver", outcome="allowed" if allowed else "denied",
                 about=asset.institution, asset_id=asset.asset_id, subject=subject,
                 tier=tier.value, basis=decision.basis, licence=asset.licence.code,
                 purpose=decision.grant.purpose.value if decision.grant else None, reason=reason)
