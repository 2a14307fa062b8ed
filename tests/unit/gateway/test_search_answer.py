"""The search routes' answer, built once from plain dicts (routers/search.credited_hits + json_response), is what
the models made of the same hits (record_view.credited, then SearchPage / ImageResults as FastAPI dumps them)."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
from pydantic import TypeAdapter

from schemas.access import PrincipalKind, Scope
from schemas.asset import SEARCH_ONLY_PATHS
from services.access.principals import ANONYMOUS, Principal
from services.gateway.routers.search import ImageResults, SearchPage, _public_view, credited_hits, json_response
from services.record_view import credited
from services.settings import Settings
from tests.factories import make_asset

AI: dict[str, Any] = {"text_encoder": {"name": "use-multilingual-v3", "version": "1", "dimension": 512},
      "image_encoder": None, "labels": [], "ocr_text": None, "ocr_engine": None, "ocr_confidence": None,
      "enriched_at": "2026-12-01T10:00:00.125000Z"}
STAFF = Principal(kind=PrincipalKind.STAFF, id="s-1", institution="test-museum", scopes=frozenset(Scope))


def _image(n: int) -> dict[str, Any]:
    return {"sha256": f"{n:064x}", "key": f"o/{n}", "path": f"{n}.jpg", "format": "JPEG", "mime": "image/jpeg",
            "width": 800, "height": 600, "mode": "RGB", "size_bytes": 1000, "phash": "0" * 16,
            "thumbnail_key": f"t/{n}", "preview_key": f"p/{n}"}


def _as_read(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored document as a search reads it back (`record_source()`: no vectors or search-only fields)."""
    out = {k: v for k, v in doc.items() if k not in SEARCH_ONLY_PATHS}
    out["images"] = [{k: v for k, v in im.items() if k != "vector"} for im in out.get("images", [])]
    return out


STORED = [_as_read(d) for d in (
    make_asset(),
    make_asset(object_id="OBJ-2", images=[_image(1), _image(2)], has_image=True, licence="InC", ai=AI,
               creator="景德镇御窑厂", period_norm={"source": "清乾隆", "start": 1736, "end": 1795, "parsed": True,
                                                 "years": {"gte": 1736, "lte": 1795}}),
    make_asset(object_id="OBJ-3", licence="restricted:institution", title_zh=None, title_en="Untitled", ai=AI,
               images=[_image(3)], has_image=True),
    make_asset(object_id="OBJ-4", access="embargoed", embargo_until="2031-01-01", licence="InC-EDU"),
)]


def _older(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The same record as other writers or older versions left it: the model has to have its say."""
    no_ids = copy.deepcopy(doc)
    for im in no_ids["images"]:
        del im["id"]
    no_ai = {k: v for k, v in doc.items() if k != "ai"}
    ai_offset = doc | {"ai": AI | {"enriched_at": "2026-12-01T10:00:00+00:00"}}
    offset = doc | {"changed_at": "2025-01-08T08:00:00+00:00"}
    return [no_ids, no_ai, ai_offset, offset]


def _hits(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"asset_id": r["asset_id"], "score": 0.5 + n / 10, "ranks": {"keyword": n + 1, "text": None},
             "highlight": {"title_zh": ["<em>青花</em>瓷瓶"]},
             "pages": [{"page": 2, "fragment": "<em>青花</em>瓷瓶图录"}] if n % 2 else [], "record": r}
            for n, r in enumerate(records)]


FACETS = {"licence": [{"value": "CC0", "count": 3, "label": {"zh": "CC0", "en": "CC0"}}],
          "region": [{"value": "XX", "count": 1, "label": None}]}  # as search.labelled gives them


def _through_the_models(settings: Settings, principal: Principal, records: list[dict[str, Any]]) -> Any:
    hits = credited(None, settings, principal, _hits(copy.deepcopy(records)))  # type: ignore[arg-type]
    page = SearchPage.model_validate({"total": 9, "hits": hits, "facets": FACETS,
                                      "next": "abc", "took_ms": 7})
    adapter = TypeAdapter(SearchPage)  # FastAPI validates the returned model against response_model and dumps it
    return orjson.loads(adapter.dump_json(adapter.validate_python(page)))


@pytest.mark.parametrize("principal", [ANONYMOUS, STAFF], ids=["public", "staff"])
def test_a_page_is_what_the_models_made_of_it(settings: Settings, principal: Principal) -> None:
    records = [*STORED, *(older for doc in STORED[1:3] for older in _older(doc))]
    hits = credited_hits(None, settings, principal, _hits(copy.deepcopy(records)))  # type: ignore[arg-type]
    answer = json_response({"total": 9, "hits": hits, "facets": FACETS,
                            "next": "abc", "took_ms": 7})

    models = _through_the_models(settings, principal, records)
    body = orjson.loads(answer.body)
    assert answer.media_type == "application/json"
    assert body == models
    assert [list(h) for h in body["hits"]] == [list(h) for h in models["hits"]]  # the fields in the same order


def test_an_image_page_is_what_the_models_made_of_it(settings: Settings) -> None:
    hits = [{"asset_id": r["asset_id"], "score": 0.9, "record": r} for r in copy.deepcopy(STORED)]
    fast = orjson.loads(json_response({"hits": credited_hits(None, settings, ANONYMOUS,  # type: ignore[arg-type]
                                                                     copy.deepcopy(hits))}).body)
    slow = ImageResults.model_validate({"hits": credited(None, settings, ANONYMOUS, hits)})  # type: ignore[arg-type]
    assert fast == slow.model_dump(mode="json")


def test_a_record_in_the_models_shape_is_not_validated_again() -> None:
    for record in STORED:
        if "ai" in record:
            assert _public_view(record) is record
    for older in _older(STORED[1]):
        assert _public_view(older) is not older
