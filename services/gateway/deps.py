"""Dependencies of the routes: the clients made in the lifespan, handed out by type."""

from __future__ import annotations

from typing import Annotated

from elasticsearch import Elasticsearch
from fastapi import Depends, Request
from minio import Minio

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


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
EsDep = Annotated[Elasticsearch, Depends(get_es)]
S3Dep = Annotated[Minio, Depends(get_s3)]
AirflowDep = Annotated[AirflowClient, Depends(get_airflow)]
