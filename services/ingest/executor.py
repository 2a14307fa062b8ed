"""Airflow's LocalExecutor with warm workers: each worker process imports the pipeline's code and loads the
text model and its concept vectors once, before it takes tasks.

Airflow 3's LocalExecutor runs every task in a process forked from one of its long-lived worker
processes (airflow.sdk.execution_time.supervisor forks on Linux). A task therefore starts with
whatever its worker holds: here, services.ingest.tasks and everything it imports (~8 s of imports on
two busy cores), the text encoder with the taxonomy's concept vectors (~11 s), jieba's dictionary
(~6 s) and what the first derivative imports (~3 s), shared copy-on-write. Only fork-safe state is
warmed: pure-numpy weights and modules; no network client, no ONNX Runtime session (its thread pool
would not survive the fork), so a task still opens its own connections and its image session (< 1 s).

The local stack sets `AIRFLOW__CORE__EXECUTOR` to this class (deploy/local/stacklib/services.py).
Where a worker fails to warm, it logs why and runs tasks cold, as the plain LocalExecutor would.
Before each task a worker checks that no warmed source file changed since it warmed; if one did (a
checkout moved on, a developer edited the pipeline), it drops the project's modules and warms again,
so a task never runs code older than the files on disk. This module itself is not reloaded: a change to
it takes effect when the scheduler restarts (`python3 deploy/local/stack.py down airflow-scheduler`, then `up`).
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import sys
import time
from pathlib import Path
from typing import Any

from airflow.executors import local_executor
from airflow.executors.base_executor import BaseExecutor
from airflow.executors.local_executor import LocalExecutor

log = logging.getLogger(__name__)
PACKAGES = ("services", "indexing", "schemas")  # the project's code, as the tasks import it
_ROOT = Path(__file__).resolve().parents[2]
_warmed: dict[str, float] = {}  # source file → its mtime when this worker warmed


def _project_files() -> dict[str, float]:
    out = {}
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if name.split(".", 1)[0] in PACKAGES and file and file.startswith(str(_ROOT)):
            out[file] = _mtime(file)
    return out


def rewarm_if_stale() -> bool:
    """Warm again when a warmed source file changed on disk (True if it did)."""
    if not _warmed or all(_mtime(f) == m for f, m in _warmed.items()):
        return False
    log.info("ingest worker: the pipeline's code changed on disk, warming again")
    gc.unfreeze()  # the old modules and models must be collectable, or every rewarm would add their memory
    for name in [n for n in sys.modules if n.split(".", 1)[0] in PACKAGES and n != __name__]:
        del sys.modules[name]
    gc.collect()
    _warm_and_freeze()
    return True


def _mtime(file: str) -> float:
    try:
        return Path(file).stat().st_mtime
    except OSError:
        return -1.0


def warm() -> None:
    """Import the tasks' code and load what every chunk task needs and may share across a fork."""
    started = time.perf_counter()
    import services.ingest.tasks  # noqa: F401 - imported for the forked tasks
    from indexing.classify import concept_vectors
    from indexing.encoders import text_encoder
    from schemas.asset import LabelKind
    from schemas.taxonomy import categories, materials
    from services.settings import get_settings

    encoder = text_encoder(get_settings().models)
    concept_vectors(encoder, {LabelKind.CATEGORY: categories(), LabelKind.MATERIAL: materials()})
    _derive_once()
    from indexing.terms import default_analyzer

    default_analyzer().load()  # jieba's dictionary and the museum words (~6 s on first use)
    if get_settings().models.image_runtime == "onnx":
        import onnxruntime  # noqa: F401 - the module only: a session's thread pool would not survive the fork
    log.info("ingest worker warm", extra={"seconds": round(time.perf_counter() - started, 1)})


def _warm_and_freeze() -> None:
    try:
        warm()
    except Exception:  # a worker that cannot warm still runs tasks, cold
        log.exception("ingest worker could not warm; its tasks load their own code and models")
    _warmed.clear()
    _warmed.update(_project_files())
    gc.freeze()  # what was warmed stays shared with the forked tasks (no copy-on-write from the collector)


def _derive_once() -> None:
    """Inspect and derive one tiny image: what the store step imports on first use (scipy's FFT for the
    perceptual hash, Pillow's plugins: ~3 s) is then imported here."""
    import tempfile

    from PIL import Image

    from services.ingest.media import inspect_image, make_derivatives

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "warm.jpg"
        Image.new("RGB", (32, 24), (120, 80, 40)).save(path, "JPEG")
        inspect_image(path, max_bytes=1 << 20, max_pixels=1 << 20)
        make_derivatives(path, Path(tmp), thumbnail_px=16, preview_px=24)


def _run_warm_worker(**kwargs: Any) -> None:
    _warm_and_freeze()
    run_workload = BaseExecutor.run_workload

    def fresh_run_workload(*args: Any, **kw: Any) -> Any:
        rewarm_if_stale()
        return run_workload(*args, **kw)

    BaseExecutor.run_workload = staticmethod(fresh_run_workload)  # type: ignore[method-assign]  # this worker only
    local_executor._run_worker(**kwargs)


class WarmLocalExecutor(LocalExecutor):
    """LocalExecutor whose workers are warmed (`warm`) before their first task."""

    def _spawn_worker(self) -> None:
        p = multiprocessing.Process(
            target=_run_warm_worker,
            kwargs={"logger_name": self.log.name, "input": self.activity_queue, "output": self.result_queue,
                    "unread_messages": self._unread_messages, "team_conf": self.conf},
        )
        p.start()
        assert p.pid is not None
        self.workers[p.pid] = p
