"""Dependencies of the routes: the clients made in the lifespan, the caller, and the assets it may see."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from elasticsearch import Elasticsearch
from fastapi import Depends, Request
from minio import Minio

from schemas.access import Scope
from schemas.asset import AssetRecord
from services import assets
from services.access.db import Database
from services.access.policy import Decision
from services.access.principals import ANONYMOUS, Principal
from services.gateway.errors import AssetNotFound, MissingScope
from services.settings import Settings
from services.workflows import AirflowClient


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_es(request: Request) -> Elasticsearch:
    es: Elasticsearch = request.app.state.es
    return es


def get_s3(request: Request) -> Minio:
    s3: Minio = request.app.state.s3
    return s3


def get_airflow(request: Request) -> AirflowClient:
    airflow: AirflowClient = request.app.state.airflow
    return airflow


def get_presigner(request: Request) -> Minio:
    """The S3 client that signs delivery URLs for the address clients reach (s3.public_url)."""
    s3: Minio = request.app.state.presigner
    return s3


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_principal(request: Request) -> Principal:
    """The caller, as the access middleware made it (anonymous without a key)."""
    principal: Principal = getattr(request.state, "principal", ANONYMOUS)
    return principal


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
EsDep = Annotated[Elasticsearch, Depends(get_es)]
S3Dep = Annotated[Minio, Depends(get_s3)]
PresignerDep = Annotated[Minio, Depends(get_presigner)]
AirflowDep = Annotated[AirflowClient, Depends(get_airflow)]
DbDep = Annotated[Database, Depends(get_db)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(scope: Scope) -> Callable[[Principal], Principal]:
    """A guard: the caller's key must carry `scope` (the public has search and deliver)."""
    def guard(principal: PrincipalDep) -> Principal:
        if not principal.can(scope):
            raise MissingScope(f"this needs the scope {scope.value!r}; the caller has "
                               f"{sorted(s.value for s in principal.scopes) or 'none'}", scope=scope.value)
        return principal
    return guard


@dataclass
class SeenAsset:
    """An asset the caller may see, and what it receives of it (services/access/policy.decide)."""

    asset: AssetRecord
    decision: Decision


def _visible(vectors: bool) -> Callable[..., Coroutine[Any, Any, SeenAsset]]:
    async def visible_asset(asset_id: str, es: EsDep, settings: SettingsDep, principal: PrincipalDep) -> SeenAsset:
        """Fetch, 404, decide: an asset the caller may not see is not found, exactly like one that does not exist."""
        try:
            asset, decision = await asyncio.to_thread(assets.load_seen, es, settings, asset_id, principal,
                                                      vectors=vectors)
        except assets.AssetNotFound as exc:
            raise AssetNotFound(f"no asset {asset_id!r}") from exc
        return SeenAsset(asset, decision)
    return visible_asset


VisibleAsset = Annotated[SeenAsset, Depends(_visible(vectors=False))]
VisibleAssetWithVectors = Annotated[SeenAsset, Depends(_visible(vectors=True))]
