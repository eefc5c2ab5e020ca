"""What every long job run by the worker shares (registry imports, the division engine).

A job is a row with a ``state`` and an ``attempt`` number. A run claims the job by moving the
attempt on (``claim``): a run that finds the number moved since it started lost the job to a
newer attempt and rolls its work back, so a job retried after a crash, or taken by two
workers, is done once. While a run works inside its transaction, its progress goes to the
``progress`` cache (``JobProgress``), which the pages of every process read
(``job_status``); the states ``queued``, ``done`` and ``failed`` mean the same for every
job.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from django.core.cache import caches
from django.db.models import Model
from django.utils.translation import gettext as _

QUEUED, DONE, FAILED = "queued", "done", "failed"
FINISHED = frozenset({DONE, FAILED})
# Kept a day: a page left open overnight still finds the last progress of a lost run.
PROGRESS_SECONDS = 86400


class JobRow(Protocol):
    pk: Any
    state: str
    attempt: int


class JobProgress:
    """The progress of one kind of job, by job id, in the ``progress`` cache."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def key(self, job_id: int) -> str:
        return f"{self.kind}:{job_id}"

    def set(self, job_id: int, phase: str, done: int, total: int) -> None:
        value = {"phase": phase, "done": done, "total": total}
        caches["progress"].set(self.key(job_id), value, timeout=PROGRESS_SECONDS)

    def get(self, job_id: int) -> dict[str, Any]:
        return caches["progress"].get(self.key(job_id)) or {}

    def clear(self, job_id: int) -> None:
        caches["progress"].delete(self.key(job_id))


def claim[Row: Model](model: type[Row], job_id: int, *, running: str) -> Row | None:
    """Take the job for this run (state ``running``, a new attempt number), or None when
    it is gone, finished, or another run claimed it first."""
    job = model._default_manager.filter(pk=job_id).first()
    if job is None or getattr(job, "state") in FINISHED:  # noqa: B009  (any job model)
        return None
    attempt = getattr(job, "attempt")  # noqa: B009
    claimed = model._default_manager.filter(pk=job.pk, attempt=attempt).update(
        state=running, attempt=attempt + 1
    )
    if not claimed:
        return None
    job.refresh_from_db()
    return job


def percent(shares: Mapping[str, tuple[int, int]], phase: str, done: int, total: int) -> int:
    """The bar: each phase fills its (start, width) of 100 by done/total; finished is 100."""
    if phase in FINISHED:
        return 100
    start, width = shares.get(phase, (0, 0))
    return start + int(width * (done / total if total else 0.0))


def job_status(
    job: JobRow,
    progress: JobProgress,
    *,
    shares: Mapping[str, tuple[int, int]],
    labels: Callable[[int, int], Mapping[str, Any]],
) -> dict[str, Any]:
    """What a job's progress page shows: state, phase, counts, percentage and message.

    ``labels(done, total)``: the message of each phase of this kind of job (``queued``,
    ``done`` and ``failed`` included); a phase without one reads "Starting.".
    """
    found = progress.get(job.pk)
    phase = str(found.get("phase", ""))
    if job.state == QUEUED:
        phase = QUEUED
    elif job.state in FINISHED:
        phase = job.state
    done, total = int(found.get("done", 0)), int(found.get("total", 0))
    return {
        "state": job.state,
        "phase": phase,
        "done": done,
        "total": total,
        "percent": percent(shares, phase, done, total),
        "message": str(labels(done, total).get(phase, _("Starting."))),
        "finished": job.state in FINISHED,
    }
