"""What the workers share besides the task queue: who is alive, and which periodic runs happened."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerBeat(models.Model):
    """A running ``civicgrid worker``, refreshed while it lives (also while a task runs).

    A task left RUNNING by a worker whose beat has gone stale was interrupted by a crash
    (kill -9, power cut, lost machine) and is put back in the queue.
    """

    worker_id = models.CharField(_("worker"), max_length=64, primary_key=True)
    host = models.CharField(_("host"), max_length=255, blank=True)
    pid = models.PositiveIntegerField(_("process id"), default=0)
    started_at = models.DateTimeField(_("started at"))
    seen_at = models.DateTimeField(_("last seen at"), db_index=True)

    class Meta:
        verbose_name = _("worker")
        verbose_name_plural = _("workers")

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.host}:{self.pid})"


class ScheduledRun(models.Model):
    """One run of a periodic job for one slot; the unique pair makes it happen once.

    Every worker's scheduler tries to insert the row for the current slot; only the first
    insert succeeds and enqueues the job, so two workers never enqueue it twice.
    """

    job = models.CharField(_("job"), max_length=64)
    slot = models.DateTimeField(_("slot"))
    worker_id = models.CharField(_("worker"), max_length=64)
    task_id = models.CharField(_("task"), max_length=64, blank=True)
    enqueued_at = models.DateTimeField(_("enqueued at"), auto_now_add=True)

    class Meta:
        verbose_name = _("scheduled run")
        verbose_name_plural = _("scheduled runs")
        constraints = [
            models.UniqueConstraint(fields=["job", "slot"], name="scheduled_run_once"),
        ]
        indexes = [models.Index(fields=["enqueued_at"], name="scheduled_run_enqueued")]

    def __str__(self) -> str:
        return f"{self.job} @ {self.slot:%Y-%m-%d %H:%M}"
