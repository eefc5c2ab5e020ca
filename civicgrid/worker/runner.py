"""``civicgrid worker``: runs queued tasks and the periodic schedule in one process.

Built on django-tasks-db's worker, which claims a task under a row lock (PostgreSQL,
``SKIP LOCKED``) or an exclusive transaction (SQLite), so two workers never run the same
task. This loop adds what a lone queue runner lacks: a beat that says the worker is
alive (kept up by a thread while a long task runs), taking back tasks from workers that
died, and the schedule.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import threading
import time

from django.db import OperationalError, close_old_connections, connection
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker as QueueWorker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from civicgrid.worker import services
from civicgrid.worker.schedule import Job

logger = logging.getLogger("civicgrid.worker")

HOUSEKEEPING_SECONDS = 5.0


class _Beating:
    """Refresh the worker's beat from a thread while the main thread runs a task."""

    def __init__(self, worker_id: str, started_at: dt.datetime, every: float) -> None:
        self.worker_id = worker_id
        self.started_at = started_at
        self.every = every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="worker-beat", daemon=True)

    def _run(self) -> None:
        try:
            while not self.stop.wait(self.every):
                # SQLite is busy under a long write: the next beat tries again.
                with contextlib.suppress(OperationalError):
                    services.worker_beat(worker_id=self.worker_id, started_at=self.started_at)
        finally:
            connection.close()

    def __enter__(self) -> _Beating:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


class Worker(QueueWorker):
    def __init__(
        self,
        *,
        jobs: list[Job],
        tz: dt.tzinfo,
        schedule: bool = True,
        parent_pid: int = 0,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.parent_pid = parent_pid
        self.jobs = jobs
        self.tz = tz
        self.schedule = schedule
        self.started_at = timezone.now()
        self._next_housekeeping = 0.0

    def housekeeping(self) -> None:
        """Beat, take back lost tasks, enqueue due periodic jobs (at most every few seconds)."""
        if time.monotonic() < self._next_housekeeping:
            return
        self._next_housekeeping = time.monotonic() + min(
            HOUSEKEEPING_SECONDS, services.beat_seconds()
        )
        try:
            services.worker_beat(worker_id=self.worker_id, started_at=self.started_at)
            services.lost_tasks_requeue(worker_id=self.worker_id)
            if self.schedule:
                services.schedule_tick(jobs=self.jobs, worker_id=self.worker_id, tz=self.tz)
        except OperationalError as exc:
            if not is_locked_database_exception(exc):
                raise

    def claim(self) -> tuple[DBTaskResult | None, bool]:
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        try:
            with exclusive_transaction(tasks.db):
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(self.worker_id)
            return task_result, True
        except OperationalError as exc:
            if is_locked_database_exception(exc):
                return None, False
            raise

    def run(self) -> None:
        logger.info("Worker %s: queues %s", self.worker_id, ",".join(self.queue_names))
        try:
            while self.running:
                if self.parent_pid and os.getppid() != self.parent_pid:
                    logger.info("Worker %s: the parent process is gone", self.worker_id)
                    return
                close_old_connections()
                self.housekeeping()
                task_result, looked = self.claim()
                if task_result is not None:
                    with _Beating(self.worker_id, self.started_at, services.beat_seconds()):
                        self.run_task(task_result)
                if self.batch and looked and task_result is None:
                    return
                if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                    return
                close_old_connections()
                if self.running and task_result is None:
                    time.sleep(self.interval)
        finally:
            with contextlib.suppress(OperationalError):
                services.worker_gone(worker_id=self.worker_id)
