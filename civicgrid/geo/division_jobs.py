"""The division engine in the background: the page asks, the worker divides, writes and checks.

The engine itself is ``services.division_draft_create`` unchanged; this module queues a run,
runs it in a task, keeps the progress where the pages can read it while the draft's
transaction is still open (the ``progress`` cache, as registry imports do), and keeps what
the result page shows.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core.errors import DomainError
from civicgrid.core.idempotency import body_digest, client_key, other_body
from civicgrid.geo import activation, services
from civicgrid.geo.models import DivisionJob, Township
from civicgrid.worker import jobs
from civicgrid.worker.queue import enqueue_with_write

logger = logging.getLogger("civicgrid.geo")
Job = DivisionJob.State
MAX_ERROR = 500


class _Superseded(Exception):
    """Another run took the job over meanwhile: this run's draft is rolled back."""


PROGRESS = jobs.JobProgress("division-job")


@transaction.atomic
def division_job_create(
    *,
    township: Township,
    village_codes: list[str] | None,
    seed: int,
    min_households: int,
    max_households: int,
    note: str,
    actor: Any,
) -> DivisionJob:
    """Queue a division; refuses at once what the engine would refuse."""
    services.division_request_check(
        township=township,
        village_codes=village_codes,
        min_households=min_households,
        max_households=max_households,
    )
    job = DivisionJob.objects.create(
        township=township,
        villages=sorted(village_codes) if village_codes is not None else None,
        seed=seed,
        min_households=min_households,
        max_households=max_households,
        note=note[:200],
        actor=actor,
    )
    from civicgrid.geo.tasks import division_job

    enqueue_with_write(division_job, job.pk)
    return job


def division_job_create_once(
    *, actor: Any, key: str, body: dict[str, Any], **request: Any
) -> tuple[DivisionJob, bool]:
    """``division_job_create`` under an API client's Idempotency-Key: a retried request
    (same key, same body) finds the run it queued first instead of queueing another. The
    same key with another body is refused, naming the header. Returns (run, queued now)."""
    key = client_key(key)
    digest = body_digest(body)

    def earlier() -> DivisionJob | None:
        seen = DivisionJob.objects.filter(actor=actor, idempotency_key=key).first()
        if seen is not None and seen.body_digest != digest:
            raise other_body()
        return seen

    found = earlier()
    if found is not None:
        return found, False
    try:
        with transaction.atomic():
            job = division_job_create(actor=actor, **request)
            DivisionJob.objects.filter(pk=job.pk).update(idempotency_key=key, body_digest=digest)
    except IntegrityError:
        found = earlier()  # a concurrent retry with the same key committed first
        if found is None:
            raise
        return found, False
    job.idempotency_key, job.body_digest = key, digest
    return job, True


def _fail(job: DivisionJob, attempt: int, message: str) -> None:
    DivisionJob.objects.filter(pk=job.pk, attempt=attempt).update(
        state=Job.FAILED, error=message[:MAX_ERROR], finished_at=timezone.now()
    )
    PROGRESS.clear(job.pk)


def division_job_run(*, job_id: int) -> str:
    """Run a queued division; safe to run again after a crash or on a second worker."""
    job = jobs.claim(DivisionJob, job_id, running=Job.RUNNING)
    if job is None:
        return "nothing to do"
    attempt = job.attempt

    def progress(phase: str, done: int, total: int) -> None:
        PROGRESS.set(job.pk, phase, done, total)

    try:
        with transaction.atomic():
            draft = services.division_draft_create(
                township=job.township,
                village_codes=job.villages,
                seed=job.seed,
                min_households=job.min_households,
                max_households=job.max_households,
                note=job.note,
                actor=job.actor,
                progress=progress,
            )
            # The coverage check the review page would run first, counted for the result.
            progress("checking", 0, 1)
            problems = len(activation.coverage_violations(draft))
            progress("checking", 1, 1)
            # The draft and this mark commit together; a run that lost the job to a newer
            # attempt finds the mark moved and rolls its draft back.
            finished = DivisionJob.objects.filter(pk=job.pk, attempt=attempt).update(
                state=Job.DONE,
                division=draft,
                problem_count=problems,
                finished_at=timezone.now(),
            )
            if not finished:
                raise _Superseded
    except _Superseded:
        return "superseded"
    except DomainError as exc:
        _fail(job, attempt, str(exc.message))
        return "refused"
    except Exception as exc:  # the engine's own failure: shown on the page, logged whole
        logger.exception("division job %s failed", job.pk)
        _fail(
            job,
            attempt,
            _(
                "The division engine stopped with an error and made no draft (%(error)s). "
                "Try another seed or other bounds; if it happens again, tell the system "
                "administrator."
            )
            % {"error": f"{type(exc).__name__}: {exc}"[:200]},
        )
        return "failed"
    PROGRESS.clear(job.pk)
    return "done"


def division_job_for(actor: Any, pk: int) -> DivisionJob | None:
    """A run the caller may follow: their own (system administrators see every one)."""
    jobs = DivisionJob.objects.select_related("division", "township").filter(pk=pk)
    if not actor.is_superuser:
        jobs = jobs.filter(actor=actor)
    return jobs.first()


def division_jobs_recent(actor: Any, *, finished: int = 10) -> list[DivisionJob]:
    """The runs the caller may follow (``division_job_for``'s rule): every one still queued
    or running, then the latest ``finished`` done or failed, newest first."""
    jobs = DivisionJob.objects.select_related("division")
    if not actor.is_superuser:
        jobs = jobs.filter(actor=actor)
    going = list(jobs.filter(state__in=[Job.QUEUED, Job.RUNNING]))
    ended = list(jobs.filter(state__in=[Job.DONE, Job.FAILED])[:finished])
    return going + ended


# Dividing is the long part: it fills the bar's first 80 %, writing and checking the rest.
SHARES = {"dividing": (0, 80), "writing": (80, 15), "checking": (95, 5)}


def division_job_status(job: DivisionJob) -> dict[str, Any]:
    """What the progress page shows: state, phase and counts (from the worker's progress)."""

    def labels(done: int, total: int) -> dict[str, str]:
        counts = {"done": done, "total": total}
        return {
            "queued": _("Waiting for a worker."),
            "dividing": _("Dividing villages: %(done)s of %(total)s.") % counts,
            "writing": _("Writing grids: %(done)s of %(total)s.") % counts,
            "checking": _("Checking coverage: gaps, overlaps, crossings."),
            "done": _("Finished."),
            "failed": _("The division failed."),
        }

    return jobs.job_status(job, PROGRESS, shares=SHARES, labels=labels)
