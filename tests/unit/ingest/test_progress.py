"""Per-stage progress of a batch: elapsed and ETA from the work done (services/ingest/progress.py), and how the
CLI shows it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.cli.main import progress_line
from services.ingest.batches import BatchProgress, BatchRecord
from services.ingest.keys import BatchKeys
from services.ingest.progress import estimate

START = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_eta_extrapolates_the_pace_of_the_three_steps_over_the_validated_rows() -> None:
    progress = BatchProgress(validated=100, stored=50, enriched=25, indexed=25, started_at=START)

    # 100 of 300 step-items done in 60 s: 200 left at the same pace
    out = estimate(progress, 100, START + timedelta(seconds=60))

    assert out.elapsed_s == 60.0
    assert out.eta_s == 120.0
    assert (out.stored, out.enriched, out.indexed) == (50, 25, 25)


def test_no_eta_before_any_step_finished_and_none_without_a_start() -> None:
    assert estimate(BatchProgress(validated=10, started_at=START), 0, START + timedelta(seconds=5)).eta_s is None
    assert estimate(BatchProgress(validated=10, started_at=START), 0, START + timedelta(seconds=5)).elapsed_s == 5.0
    unstarted = BatchProgress(validated=10)
    assert estimate(unstarted, 5, START) == unstarted


def test_all_done_leaves_nothing_to_wait_for() -> None:
    out = estimate(BatchProgress(validated=10, stored=10, enriched=10, indexed=10, started_at=START), 30,
                   START + timedelta(seconds=9))
    assert out.eta_s == 0.0


def test_a_batch_record_written_before_progress_existed_still_reads() -> None:
    old = {"batch_id": "b-1", "institution": "museum", "state": "succeeded"}
    assert BatchRecord.model_validate(old).progress == BatchProgress()


def test_each_chunk_has_its_own_progress_key_under_the_batch_work_folder() -> None:
    keys = BatchKeys("b-1")
    assert keys.progress("00007") == "batches/b-1/work/progress/00007.json"
    assert keys.progress("00007").startswith(keys.progress())


def test_the_cli_shows_counts_per_stage_elapsed_and_eta_instead_of_chunks() -> None:
    progress = {"validated": 250, "stored": 120, "enriched": 100, "indexed": 100, "elapsed_s": 42.4, "eta_s": 30.2}

    assert progress_line(progress) == " · stored 120/250, enriched 100, indexed 100 · 42 s, about 30 s left"
    assert progress_line({**progress, "eta_s": None}) == " · stored 120/250, enriched 100, indexed 100 · 42 s"
    assert progress_line({"validated": 0}) == ""
    assert progress_line(None) == ""
