"""schemathesis over /openapi.json, every check on, as the public, a curator and an operator (issue 19).

A gateway of the test's own (tests/integration/live.py) with its own access database (SQLite, removed after),
its own index prefix and its own buckets, so what the fuzzer creates — institutions, keys, grants, batches —
never reaches the stack's data. Each caller gets a fixed budget (`-n` examples per operation, a fixed seed)
in the examples, coverage, fuzzing and stateful phases; the test fails on any failure schemathesis reports
(server errors, undocumented status codes or content types, responses that break their schema, schema-valid
requests rejected, wrong `Allow` on 405s), printing schemathesis's own account of each.

The few operations whose requests can be well formed by the schema and still refused on their meaning (a cursor
is signed; a picture must decode; a search needs words or a filter; a year range must be in order) are named in
tests/integration/schemathesis.toml with the refusal they may give and why; nothing is excluded.
"""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from minio import Minio

from indexing.aliases import ensure_assets_index
from indexing.client import make_client
from indexing.enrich import Enricher
from schemas.access import Role
from schemas.organisations import KeyIn
from services.access import keys, orgs
from services.access.db import Database, upgrade
from services.settings import Settings
from tests.access import OPERATOR, make_institution, staff_key
from tests.helpers import ROOT
from tests.integration.live import live_gateway

pytestmark = pytest.mark.integration

CONFIG = Path(__file__).with_name("schemathesis.toml")
EXAMPLES = 8  # per operation and phase; ~1,500 cases per caller
SEED = 19
SCHEMATHESIS = ROOT / ".venv" / "bin" / "schemathesis"


@pytest.fixture(scope="module")
def fuzzed(settings: Settings, s3: Minio, enricher: Enricher, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[str, dict[str, str]]]:
    """(base URL of the fuzzed gateway, key of each caller but the public)."""
    import uuid

    unique = uuid.uuid4().hex[:8]
    folder = tmp_path_factory.mktemp("fuzz")
    buckets = {f"bucket_{b}": f"fuzz-{unique}-{b}" for b in ("staging", "assets", "quarantine", "reports")}
    scoped = settings.model_copy(update={
        "db": settings.db.model_copy(update={"url": f"sqlite:///{folder / 'access.db'}"}),
        "es": settings.es.model_copy(update={"index_prefix": f"test-fuzz-{unique}"}),
        "s3": settings.s3.model_copy(update=buckets),
        "access": settings.access.model_copy(update={"anonymous_rate_per_min": 1_000_000,
                                                     "image_rate_per_min": 1_000_000}),
    })
    for bucket in buckets.values():
        s3.make_bucket(bucket)
    es = make_client(scoped.es)
    ensure_assets_index(es, scoped, enricher.encoders)
    upgrade(scoped.db)
    db = Database(scoped.db)
    try:
        institution = make_institution(db, "CN-BJ", ("fuzz-dept",))
        curator = staff_key(db, institution, Role.CURATOR)
        with db.session() as s:
            orgs.ensure_operator(s, "fuzz-operator", "Fuzz operator")
            operator = keys.create_key(s, OPERATOR, KeyIn(operator="fuzz-operator", rate_limit_per_min=100_000),
                                       100_000).key
        with live_gateway(scoped) as base:
            yield base, {"curator": curator.key, "operator": operator}
    finally:
        db.close()
        es.indices.delete(index=f"test-fuzz-{unique}-*", allow_no_indices=True)
        es.close()
        for bucket in buckets.values():
            for obj in s3.list_objects(bucket, recursive=True):
                s3.remove_object(bucket, obj.object_name or "")
            s3.remove_bucket(bucket)


def _run(base: str, key: str | None, report: Path) -> subprocess.CompletedProcess[str]:
    command = [str(SCHEMATHESIS), "--config-file", str(CONFIG), "run", f"{base}/openapi.json", "--checks", "all",
               "-n", str(EXAMPLES), "--seed", str(SEED), "--request-timeout", "60", "--no-color",
               "--report", "junit", "--report-junit-path", str(report)]
    if key:
        command += ["-H", f"Authorization: Bearer {key}"]
    return subprocess.run(command, capture_output=True, text=True, timeout=1200, cwd=report.parent)


@pytest.mark.slow
@pytest.mark.parametrize("caller", ["public", "curator", "operator"])
def test_schemathesis_finds_nothing_wrong_with_the_api(fuzzed: tuple[str, dict[str, str]], caller: str,
                                                       tmp_path: Path) -> None:
    base, keys_of = fuzzed
    report = tmp_path / "junit.xml"
    done = _run(base, keys_of.get(caller), report)
    summary = done.stdout[done.stdout.find("SUMMARY"):] if "SUMMARY" in done.stdout else done.stdout[-3000:]
    print(summary)  # cases tried, per phase: shown with -s, kept by pytest on failure

    suites = ET.parse(report).getroot()
    cases = suites.findall(".//testcase")
    failed = [c.get("name") for c in cases if c.find("failure") is not None or c.find("error") is not None]
    assert len(cases) > 40  # every operation was tried (49 today)
    assert not failed, f"{len(failed)} operations failed: {failed}\n{done.stdout[-20000:]}"
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
