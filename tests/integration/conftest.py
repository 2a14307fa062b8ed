"""The integration tests talk to the real services started by deploy/local (`make up`).

No mocks: a unique index, bucket or prefix per test, removed afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from elasticsearch import Elasticsearch
from minio import Minio

from indexing.client import make_client as make_es_client
from indexing.enrich import Enricher
from schemas.access import Role
from services.access.db import Database
from services.settings import Settings
from services.storage import make_client as make_s3_client
from services.uploader import Uploader
from services.workflows import AirflowClient
from tests.access import Member, make_institution, staff_key

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session", autouse=True)
def stack_is_ready(settings: Settings) -> None:
    url = settings.gateway.public_url + "/readyz"
    try:
        body = httpx.get(url, timeout=15).json()
    except httpx.HTTPError as exc:
        pytest.fail(f"the stack is not running ({url}: {exc}); start it with `make up`", pytrace=False)
    if body.get("status") != "ok":
        pytest.fail(f"the stack is not ready: {body}; see `make status`", pytrace=False)


@pytest.fixture
def unique() -> str:
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture(scope="session")
def es(settings: Settings) -> Iterator[Elasticsearch]:
    client = make_es_client(settings.es)
    yield client
    client.close()


@pytest.fixture(scope="session")
def s3(settings: Settings) -> Minio:
    return make_s3_client(settings.s3)


@pytest.fixture
def bucket(s3: Minio, unique: str) -> Iterator[str]:
    name = f"wenyuan-test-{unique}"
    s3.make_bucket(name)
    yield name
    for obj in s3.list_objects(name, recursive=True):
        s3.remove_object(name, obj.object_name or "")
    s3.remove_bucket(name)


@pytest.fixture(scope="session")
def db(settings: Settings) -> Iterator[Database]:
    """The access database the running gateway uses (organisations, keys, grants, audit)."""
    database = Database(settings.db)
    yield database
    database.close()


@pytest.fixture
def curator(db: Database, unique: str) -> Member:
    """A curator (with an upload key) of a new institution `museum-<unique>` in CN-BJ."""
    return staff_key(db, make_institution(db, "CN-BJ", institution=f"museum-{unique}"), Role.CURATOR)


@pytest.fixture(scope="session")
def airflow(settings: Settings) -> Iterator[AirflowClient]:
    with AirflowClient(settings.airflow) as client:
        yield client


@pytest.fixture(scope="session")
def enricher(settings: Settings, es: Elasticsearch, s3: Minio) -> Enricher:
    """The pipeline's enricher with the configured models, loaded once for the session."""
    return Enricher(settings, es, s3)


@pytest.fixture
def uploader(settings: Settings, curator: Member) -> Iterator[Uploader]:
    """The upload client as the institution's curator."""
    client = Uploader(settings.gateway.public_url, curator.key)
    yield client
    client.close()
