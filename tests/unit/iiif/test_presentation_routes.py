"""The Presentation API's paths and the Image API's never answer for each other, whatever the registration order."""

from __future__ import annotations

import uuid

from starlette.routing import BaseRoute, Match, Route

from services.gateway.app import create_app

MANIFEST = "/iiif/3/{asset_id}/manifest"
BATCH = "/iiif/3/collections/batch/{batch_id}"
INSTITUTION = "/iiif/3/collections/institution/{institution_id}"
PRESENTATION = {MANIFEST, BATCH, INSTITUTION}


def _answering(routes: list[BaseRoute], path: str) -> list[str]:
    scope = {"type": "http", "path": path, "method": "GET"}
    return [r.path for r in routes if isinstance(r, Route) and r.matches(scope)[0] is Match.FULL]


def test_each_presentation_url_is_answered_by_its_own_route_only() -> None:
    routes = create_app().routes
    samples = {f"/iiif/3/{uuid.uuid4().hex}/manifest": MANIFEST, "/iiif/3/collections/batch/b-2026-01": BATCH,
               "/iiif/3/collections/institution/palace-museum": INSTITUTION}

    answered = {path: _answering(routes, path) for path in samples}

    assert answered == {path: [route] for path, route in samples.items()}


def test_no_presentation_route_answers_an_image_api_url() -> None:
    routes = create_app().routes
    image = str(uuid.uuid4())
    urls = [f"/iiif/3/{image}", f"/iiif/3/{image}/info.json", f"/iiif/3/{image}/full/max/0/default.jpg",
            f"/iiif/3/{image}/0,0,512,512/512,/0/default.png"]

    answered = {url: set(_answering(routes, url)) & PRESENTATION for url in urls}

    assert answered == {url: set() for url in urls}
