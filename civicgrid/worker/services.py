"""Worker bookkeeping: beats, tasks lost with a crashed worker, the periodic schedule, retention.

Everything here is safe with several workers at once. Claims are compare-and-swap
updates or unique inserts, which hold on PostgreSQL (row locks) and on SQLite (whose
IMMEDIATE transactions let one writer in at a time).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django.utils.module_loading import import_string

from civicgrid.worker.models import ScheduledRun, WorkerBeat
from civicgrid.worker.queue import enqueue_with_write
from civicgrid.worker.schedule import Job

logger = logging.getLogger("civicgrid.worker")

LOST_EXCEPTION = "civicgrid.worker.WorkerLost"


def beat_seconds() -> int:
    return int(getattr(settings, "CIVICGRID_WORKER_BEAT_SECONDS", 10))


def lost_after() -> dt.timedelta:
    return dt.timedelta(seconds=int(getattr(settings, "CIVICGRID_WORKER_LOST_SECONDS", 120)))


def max_attempts() -> int:
    return int(getattr(settings, "CIVICGRID_TASK_MAX_ATTEMPTS", 3))


def worker_beat(*, worker_id: str, started_at: dt.datetime, now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    updated = WorkerBeat.objects.filter(worker_id=worker_id).update(seen_at=now)
    if not updated:
        WorkerBeat.objects.update_or_create(
            worker_id=worker_id,
            defaults={
                "host": socket.gethostname()[:255],
                "pid": os.getpid(),
                "started_at": started_at,
                "seen_at": now,
            },
        )


def worker_gone(*, worker_id: str) -> None:
    WorkerBeat.objects.filter(worker_id=worker_id).delete()


@dataclass(frozen=True)
class Requeued:
    requeued: int
    given_up: int


def lost_tasks_requeue(*, worker_id: str = "", now: dt.datetime | None = None) -> Requeued:
    """Put tasks held by dead workers back in the queue, or fail them after the last attempt.

    A worker is dead when its beat is older than ``CIVICGRID_WORKER_LOST_SECONDS`` (it
    beats while a task runs too), or when it never beat and its task started that long
    ago. Each task is taken back with a compare-and-swap on (status, started_at): if the
    worker was alive after all and finished meanwhile, or another worker took the task
    back first, nothing changes.
    """
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    cutoff = now - lost_after()
    alive = set(WorkerBeat.objects.filter(seen_at__gte=cutoff).values_list("worker_id", flat=True))
    alive.add(worker_id)
    known = set(WorkerBeat.objects.values_list("worker_id", flat=True))
    requeued = given_up = 0
    for task in DBTaskResult.objects.running().only("id", "worker_ids", "started_at"):
        holder = task.worker_ids[-1] if task.worker_ids else ""
        if holder in alive:
            continue
        if holder not in known and task.started_at and task.started_at > cutoff:
            continue  # a worker without beats (db_worker): give it the same grace
        claimed = DBTaskResult.objects.filter(
            pk=task.pk, status=TaskResultStatus.RUNNING, started_at=task.started_at
        )
        if len(task.worker_ids) >= max_attempts():
            changed = claimed.update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path=LOST_EXCEPTION,
                traceback=(
                    f"The worker {holder} stopped while running this task "
                    f"(attempt {len(task.worker_ids)} of {max_attempts()}); not retried."
                ),
            )
            given_up += changed
        else:
            changed = claimed.update(status=TaskResultStatus.READY, started_at=None)
            requeued += changed
        if changed:
            logger.warning("Task %s was held by the lost worker %s", task.pk, holder or "?")
    return Requeued(requeued, given_up)


def _job_task(job: Job) -> tuple[Any, tuple[Any, ...]]:
    if job.command:
        from civicgrid.worker.tasks import command_job

        return command_job, (job.command,)
    return import_string(job.task), ()


def command_available(name: str) -> bool:
    from django.core.management import get_commands

    return name.replace("-", "_") in get_commands()


def schedule_tick(
    *, jobs: list[Job], worker_id: str, tz: dt.tzinfo, now: dt.datetime | None = None
) -> list[str]:
    """Enqueue every job whose current slot has no run yet; the names enqueued by this call.

    A worker that was down for a while runs each job once for the latest slot, not once
    per missed slot: every job here catches up on everything due in one run.
    """
    now = now or timezone.now()
    enqueued = []
    for job in jobs:
        slot = job.current_slot(now, tz)
        if ScheduledRun.objects.filter(job=job.name, slot=slot).exists():
            continue
        if job.command and not command_available(job.command):
            continue  # a hook for an app that is not installed (yet)
        task, args = _job_task(job)
        try:
            with transaction.atomic():
                run = ScheduledRun.objects.create(job=job.name, slot=slot, worker_id=worker_id)
                task_id = enqueue_with_write(task, *args)
                if task_id:
                    run.task_id = task_id
                    run.save(update_fields=["task_id"])
        except IntegrityError:
            continue  # another worker enqueued this slot first
        enqueued.append(job.name)
    return enqueued


def task_retention_days() -> int:
    return int(getattr(settings, "CIVICGRID_TASK_RESULT_RETENTION_DAYS", 14))


@dataclass(frozen=True)
class Pruned:
    sessions: int
    task_results: int
    scheduled_runs: int
    workers: int


def retention_prune(*, now: dt.datetime | None = None) -> Pruned:
    """Expired sessions, finished task results, old schedule rows, workers long gone."""
    from django.contrib.sessions.models import Session
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    sessions, _detail = Session.objects.filter(expire_date__lt=now).delete()
    results, _detail = (
        DBTaskResult.objects.finished()
        .filter(finished_at__lt=now - dt.timedelta(days=task_retention_days()))
        .delete()
    )
    runs, _detail = ScheduledRun.objects.filter(enqueued_at__lt=now - dt.timedelta(days=2)).delete()
    workers, _detail = WorkerBeat.objects.filter(seen_at__lt=now - dt.timedelta(days=1)).delete()
    return Pruned(sessions, results, runs, workers)
