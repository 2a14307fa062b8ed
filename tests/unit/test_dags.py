"""Every DAG file imports cleanly, with tags, retries and no catch-up (Airflow's best practices)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import ROOT


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory: pytest.TempPathFactory) -> object:
    mp = pytest.MonkeyPatch()
    mp.setenv("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow_home")))
    mp.setenv("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    mp.setenv("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    mp.undo()
    return bag


def test_every_dag_file_imports_without_errors(dagbag: object) -> None:
    assert dagbag.import_errors == {}  # type: ignore[attr-defined]
    assert {Path(d.fileloc).name for d in dagbag.dags.values()}  # type: ignore[attr-defined]


def test_every_dag_has_tags_retries_and_no_catchup(dagbag: object) -> None:
    for dag_id, dag in dagbag.dags.items():  # type: ignore[attr-defined]
        assert dag.tags, dag_id
        assert dag.default_args.get("retries", 0) >= 1, dag_id
        assert dag.catchup is False, dag_id
        assert dag.doc_md, dag_id
