"""The job base the registry imports and the division engine share: the bar, the progress
store and the status the pages read. Claiming is exercised by both jobs' own tests (a run
after the finish does nothing; a run that lost its attempt rolls back)."""

from __future__ import annotations

from types import SimpleNamespace

from civicgrid.worker import jobs

SHARES = {"reading": (0, 60), "writing": (60, 40)}


def _labels(done: int, total: int) -> dict[str, str]:
    return {"queued": "waiting", "reading": f"read {done}/{total}", "done": "finished"}


def test_each_phase_fills_its_share_and_a_finished_job_is_full() -> None:
    assert jobs.percent(SHARES, "reading", 0, 10) == 0
    assert jobs.percent(SHARES, "reading", 5, 10) == 30
    assert jobs.percent(SHARES, "writing", 1, 4) == 70
    assert jobs.percent(SHARES, "writing", 0, 0) == 60  # no total yet: the phase's start
    assert jobs.percent(SHARES, "unknown", 3, 4) == 0
    assert jobs.percent(SHARES, "done", 0, 0) == jobs.percent(SHARES, "failed", 0, 0) == 100


def test_the_status_reads_the_progress_and_the_state_wins_when_queued_or_finished() -> None:
    progress = jobs.JobProgress("test-job")
    progress.clear(7)
    job = SimpleNamespace(pk=7, state="queued", attempt=0)
    status = jobs.job_status(job, progress, shares=SHARES, labels=_labels)  # type: ignore[arg-type]
    assert (status["phase"], status["message"], status["finished"]) == ("queued", "waiting", False)

    job.state = "running"
    progress.set(7, "reading", 5, 10)
    status = jobs.job_status(job, progress, shares=SHARES, labels=_labels)  # type: ignore[arg-type]
    assert status == {"state": "running", "phase": "reading", "done": 5, "total": 10,
                      "percent": 30, "message": "read 5/10", "finished": False}  # fmt: skip
    progress.set(7, "writing", 1, 4)  # a phase without a label reads "Starting."
    status = jobs.job_status(job, progress, shares=SHARES, labels=_labels)  # type: ignore[arg-type]
    assert (status["percent"], status["message"]) == (70, "Starting.")

    job.state = "done"
    status = jobs.job_status(job, progress, shares=SHARES, labels=_labels)  # type: ignore[arg-type]
    assert (status["phase"], status["percent"], status["finished"]) == ("done", 100, True)
    progress.clear(7)
    assert progress.get(7) == {}
