"""Registry imports in the background: the upload is stored, the worker checks and writes it.

The import itself is ``transfer.registry_import`` unchanged; this module stores the file,
runs it in a task, keeps the progress where the pages can read it while the write's
transaction is still open (the ``progress`` cache), and keeps the report.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core.errors import DomainError, ValidationFailed
from civicgrid.people.models import User
from civicgrid.registry import services, transfer
from civicgrid.registry.models import ImportJob
from civicgrid.worker import jobs
from civicgrid.worker.queue import enqueue_with_write

logger = logging.getLogger("civicgrid.registry")
KEPT_PROBLEMS = 500
Job = ImportJob.State


def background_threshold() -> int:
    return int(getattr(settings, "CIVICGRID_IMPORT_BACKGROUND_BYTES", 1024 * 1024))


PROGRESS = jobs.JobProgress("registry-import")


@transaction.atomic
def import_job_create(
    *, kind: str, upload: UploadedFile, dry_run: bool, actor: User | None
) -> ImportJob:
    """Store the upload and queue its import; refuses what the import would refuse at once."""
    if kind not in transfer.KINDS:
        raise ValidationFailed(_("Unknown registry %(kind)s.") % {"kind": kind}, field="kind")
    services.require_write_rights(actor)
    name = upload.name or ""
    transfer.file_format(name)
    size = upload.size or 0
    if size > transfer.limits.import_max_bytes():
        raise ValidationFailed(
            _("The file is larger than %(mb)s MB. Split it into several imports.")
            % {"mb": transfer.limits.megabytes(transfer.limits.import_max_bytes())},
            field="file",
        )
    job = ImportJob(kind=kind, file_name=name[:255], size=size, dry_run=dry_run, actor=actor)
    job.upload.save(f"import.{transfer.file_format(name)}", upload, save=False)
    job.save()
    from civicgrid.registry.tasks import registry_import_job

    enqueue_with_write(registry_import_job, job.pk)
    return job


def _claim(job_id: int) -> ImportJob | None:
    """Take the job for this run (a new attempt number), or None when it is finished."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or job.state in {Job.DONE, Job.FAILED}:
        return None
    if job.state == Job.WRITTEN:
        # A run wrote every row and died before keeping its report: the rows are in.
        ImportJob.objects.filter(pk=job.pk, state=Job.WRITTEN).update(
            state=Job.DONE, created=job.rows, finished_at=timezone.now()
        )
        return None
    return jobs.claim(ImportJob, job.pk, running=Job.CHECKING)


def import_job_run(*, job_id: int) -> str:
    """Run a queued import; safe to run again after a crash or on a second worker."""
    job = _claim(job_id)
    if job is None:
        return "nothing to do"
    attempt = job.attempt

    def checked(done: int, total: int) -> None:
        PROGRESS.set(job.pk, "checking", done, total)

    def written(done: int, total: int) -> None:
        if done <= transfer.BATCH:
            # Inside the write's transaction: the rows and this mark commit together, and
            # a stale run (an older attempt) finds the mark moved and rolls back its rows.
            moved = ImportJob.objects.filter(pk=job.pk, attempt=attempt, state=Job.CHECKING)
            if not moved.update(state=Job.WRITTEN, rows=total):
                raise RuntimeError(f"import {job.pk}: attempt {attempt} is no longer current")
        PROGRESS.set(job.pk, "writing", done, total)

    try:
        with job.upload.open("rb") as stream:
            report = transfer.registry_import(
                kind=job.kind,
                stream=stream,
                name=job.file_name,
                actor=job.actor,
                dry_run=job.dry_run,
                progress=checked,
                written=written,
            )
    except DomainError as exc:
        ImportJob.objects.filter(pk=job.pk, attempt=attempt).update(
            state=Job.FAILED, error=str(exc.message), finished_at=timezone.now()
        )
        _upload_delete(job)
        return "refused"
    ImportJob.objects.filter(pk=job.pk, attempt=attempt).update(
        state=Job.DONE,
        rows=report.rows,
        created=report.created,
        problem_count=len(report.problems),
        duplicate_count=len(report.duplicates),
        problems=[p.__dict__ for p in report.problems[:KEPT_PROBLEMS]],
        finished_at=timezone.now(),
    )
    _upload_delete(job)
    PROGRESS.clear(job.pk)
    return "done"


def _upload_delete(job: ImportJob) -> None:
    """The upload holds personal data: it goes as soon as the import has read it."""
    if job.upload:
        job.upload.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(upload="")


def import_job_for(actor: User, pk: int) -> ImportJob | None:
    """The caller's own import (system administrators see every one)."""
    jobs = ImportJob.objects.filter(pk=pk)
    if not actor.is_superuser:
        jobs = jobs.filter(actor=actor)
    return jobs.first()


# Checking is the long part: it fills the bar's first 80 %, writing the rest.
SHARES = {"checking": (0, 80), "writing": (80, 20)}


def import_job_status(job: ImportJob) -> dict[str, Any]:
    """What the progress page shows: state, phase and counts (from the worker's progress)."""

    def labels(done: int, total: int) -> dict[str, str]:
        counts = {"done": done, "total": total}
        return {
            "queued": _("Waiting for a worker."),
            "checking": _("Checking rows: %(done)s of %(total)s.") % counts,
            "writing": _("Writing records: %(done)s of %(total)s.") % counts,
            "done": _("Finished."),
            "failed": _("The import was refused."),
        }

    return jobs.job_status(job, PROGRESS, shares=SHARES, labels=labels)


def import_uploads_purge(*, now: dt.datetime | None = None) -> int:
    """Uploads of jobs that never ran to the end (lost, refused by a crash) after a day."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=1)
    purged = 0
    for job in ImportJob.objects.filter(created_at__lt=cutoff).exclude(upload=""):
        _upload_delete(job)
        purged += 1
    return purged
