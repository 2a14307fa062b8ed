"""Every command shown in README.md and docs/*.md runs against the running stack.

Shell blocks (```bash, ```sh, ```console) are run one by one with bash, in a scratch folder that links the
repository's top level (so `.venv/bin/wenyuan`, `make status` and `tests/fixtures/…` resolve, and files the
commands write land outside the checkout). Placeholders are filled from a batch this module ingests as a curator
of an institution of its own (removed when the module ends, tests/cleanup.py): `<batch-id>`, `<asset-id>`,
`<image-id>`, `<institution-id>`, and the variables `$KEY` and `$BATCH_DIR`. curl runs with `--fail-with-body`
(from a curlrc), so an HTTP error fails the block. A block that cannot run in a test is marked in the page by
`<!-- not run: reason -->` on the line before it, and counted here.
"""

from __future__ import annotations

import re
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from indexing.aliases import assets_alias
from schemas.access import Role
from services.access.db import Database
from services.settings import Settings, process_environment
from services.uploader import Uploader
from tests.access import Member, make_institution, staff_key
from tests.factories import make_good_batch
from tests.helpers import ROOT
from tests.integration.uploading import ingest

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```(bash|sh|console)\n(.*?)^```", re.M | re.S)
NOT_RUN = re.compile(r"<!--\s*not run:\s*(.+?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    text: str
    not_run: str | None

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def blocks() -> list[Block]:
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
            reason = NOT_RUN.search(before)
            found.append(Block(str(page.relative_to(ROOT)), text.count("\n", 0, match.start()) + 1, match.group(2),
                               reason.group(1) if reason else None))
    return found


BLOCKS = blocks()
TO_RUN = [b for b in BLOCKS if b.not_run is None]


def test_the_pages_have_blocks_to_run_and_every_other_block_says_why_not() -> None:
    skipped = [b for b in BLOCKS if b.not_run is not None]

    assert len(TO_RUN) >= 10
    assert all(b.not_run for b in skipped)
    assert len(skipped) <= 6, [b.id for b in skipped]  # a new marker is a decision: raise this with its reason


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("docs")
    for entry in ROOT.iterdir():
        if entry.name not in {".git"}:
            (work / entry.name).symlink_to(entry)
    (work / "curlrc").mkdir()
    (work / "curlrc" / ".curlrc").write_text("fail-with-body\n", encoding="utf-8")
    return work


@pytest.fixture(scope="module")
def docs_env(settings: Settings, es: Elasticsearch, db: Database, scratch: Path,
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    member: Member = staff_key(db, make_institution(db, "CN-BJ", institution=f"museum-t{uuid.uuid4().hex[:12]}"),
                               Role.CURATOR)
    uploader = Uploader(settings.gateway.public_url, member.key)
    try:
        batch, _ = ingest(uploader, make_good_batch(tmp_path_factory.mktemp("ingested"), 2, prefix="DOC"),
                          member.institution)
    finally:
        uploader.close()
    es.indices.refresh(index=assets_alias(settings.es))
    hit = es.search(index=assets_alias(settings.es), size=1, query={"term": {"institution": member.institution}},
                    sort=[{"asset_id": "asc"}],  # the first of the two: `?after=<asset-id>` then has a next part
                    source_includes=["images"])["hits"]["hits"][0]
    env = process_environment()
    env.update(KEY=member.key, BATCH_DIR=str(make_good_batch(tmp_path_factory.mktemp("upload"), 2, prefix="UP")),
               CURL_HOME=str(scratch / "curlrc"), HOME=str(scratch / "curlrc"))
    env.pop("WENYUAN_CLIENT__API_KEY", None)
    env["_placeholders"] = "\n".join([f"<batch-id>={batch['batch_id']}", f"<asset-id>={hit['_id']}",
                                      f"<image-id>={hit['_source']['images'][0]['id']}",
                                      f"<institution-id>={member.institution}"])
    return env


def _filled(text: str, env: dict[str, str]) -> str:
    for pair in env["_placeholders"].split("\n"):
        name, value = pair.split("=", 1)
        text = text.replace(name, value)
    return text


@pytest.mark.parametrize("block", TO_RUN, ids=[b.id for b in TO_RUN])
def test_the_documented_commands_run(block: Block, docs_env: dict[str, str], scratch: Path) -> None:
    script = _filled(block.text, docs_env)
    env = {k: v for k, v in docs_env.items() if not k.startswith("_")}

    done = subprocess.run(["bash", "-e", "-c", script], cwd=scratch, env=env, capture_output=True, text=True,
                          timeout=400, check=False)

    assert not re.search(r"<[a-z-]+-id>", script), script
    assert done.returncode == 0, (f"{block.id} failed ({done.returncode}):\n{script}\n"
                                  f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
