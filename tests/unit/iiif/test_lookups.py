"""services/iiif/delivery.Lookups: an image found is reused for the same caller until it expires, never for
another caller (the whole principal is the key: a revoked grant makes another principal)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from services.access.principals import ANONYMOUS
from services.iiif import delivery


def test_a_lookup_is_kept_for_its_time_only(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr("services.iiif.delivery.time.monotonic", lambda: now[0])
    lookups, seen = delivery.Lookups(entries=2), object()
    key = ("idx", "img", repr(ANONYMOUS))
    lookups.put(key, seen, 2.0)  # type: ignore[arg-type]
    assert lookups.get(key) is seen
    now[0] = 102.0
    assert lookups.get(key) is None


def test_the_oldest_lookup_goes_first_when_full() -> None:
    lookups, seen = delivery.Lookups(entries=2), object()
    for name in ("a", "b", "c"):
        lookups.put(("idx", name, ""), seen, 60)  # type: ignore[arg-type]
    assert [lookups.get(("idx", n, "")) is seen for n in ("a", "b", "c")] == [False, True, True]


def testlook_up_image_asks_again_for_another_principal_and_for_an_image_not_found(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    asked: list[str] = []

    def lookup(es: object, s: object, image_id: str, principal: object) -> object:
        asked.append(image_id)
        if image_id == "missing":
            raise delivery.ImageNotFound(image_id)
        return object()

    monkeypatch.setattr(delivery, "look_up_image", lookup)
    monkeypatch.setattr(delivery, "LOOKUPS", delivery.Lookups())
    keyed = replace(ANONYMOUS, key_prefix="wy_test")
    first = delivery.find_image(None, settings, "img", ANONYMOUS)  # type: ignore[arg-type]
    assert delivery.find_image(None, settings, "img", ANONYMOUS) is first  # type: ignore[arg-type]
    assert delivery.find_image(None, settings, "img", keyed) is not first  # type: ignore[arg-type]
    for _ in range(2):
        with pytest.raises(delivery.ImageNotFound):
            delivery.find_image(None, settings, "missing", ANONYMOUS)  # type: ignore[arg-type]
    assert asked == ["img", "img", "missing", "missing"]
