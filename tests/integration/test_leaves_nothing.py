"""The suite leaves nothing behind in the service's own stores (runs last: tests/conftest.py orders it).

Every institution, app and region a test makes through tests/access.py is removed, with its documents,
batch objects and rows, when its module ends (tests/cleanup.py). This check lists whatever test data is still
in the `wenyuan-assets` alias, the four buckets and the access database. Run alone it checks the stores as
they are; an engineer's suite running at the same moment against the same stack can show up here.
"""

from __future__ import annotations

from elasticsearch import Elasticsearch
from minio import Minio

from services.access.db import Database
from services.settings import Settings
from tests import cleanup


def test_no_test_institution_batch_key_or_object_is_left_in_the_service_stores(
    settings: Settings, es: Elasticsearch, s3: Minio, db: Database
) -> None:
    cleanup.purge(cleanup.SESSION_REGISTRY.take(), settings, es, s3, db)  # session fixtures: no test needs them now

    left = cleanup.leftovers(settings, es, s3, db)

    assert left == [], f"{len(left)} things the tests made are still there:\n" + "\n".join(left[:200])
