"""``civicgrid worker``: run background tasks and the periodic schedule (no cron needed)."""

from __future__ import annotations

import logging
import signal
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django.utils.crypto import get_random_string

from civicgrid.worker import services
from civicgrid.worker.schedule import configured_jobs, township_zone


class Command(BaseCommand):
    help = (
        "Run queued background tasks and the periodic schedule (overdue sweep, webhooks, "
        "position purge, retention). Start one or more; each task runs once. With the RQ "
        "backend this runs the schedule only and `civicgrid rqworker` runs the tasks."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", action="store_true", help="run what is queued, then exit")
        parser.add_argument(
            "--no-schedule", action="store_true", help="run tasks only (another worker schedules)"
        )
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
        parser.add_argument("--max-tasks", type=int, default=None)
        parser.add_argument("--worker-id", default="", help="unique per worker (default: random)")
        parser.add_argument(
            "--parent-pid", type=int, default=0, help="stop when this process is gone (demo)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from django_tasks_db.backend import DatabaseBackend

        logging.getLogger("civicgrid.worker").setLevel(
            logging.INFO if options["verbosity"] >= 1 else logging.WARNING
        )
        worker_id = options["worker_id"] or get_random_string(32)
        if len(worker_id) > 64:
            raise CommandError("--worker-id: at most 64 characters.")
        jobs = configured_jobs()
        backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
        if not isinstance(backend, DatabaseBackend):
            if options["no_schedule"]:
                raise CommandError(
                    "The task backend is not the database: run its own worker for the tasks "
                    "(RQ: civicgrid rqworker --job-class django_tasks_rq.Job default)."
                )
            self.schedule_forever(jobs, worker_id, options["interval"])
            return
        from civicgrid.worker.runner import Worker

        self.stdout.write(f"worker {worker_id}: {len(jobs)} scheduled jobs")
        worker = Worker(
            jobs=jobs,
            tz=township_zone(),
            schedule=not options["no_schedule"],
            parent_pid=options["parent_pid"],
            queue_names=["*"],
            interval=options["interval"],
            batch=options["batch"],
            backend_name=DEFAULT_TASK_BACKEND_ALIAS,
            startup_delay=False,
            max_tasks=options["max_tasks"],
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        worker.configure_signals()
        worker.run()

    def schedule_forever(self, jobs: list[Any], worker_id: str, interval: float) -> None:
        self.stdout.write(f"scheduler {worker_id}: {len(jobs)} jobs (tasks run elsewhere)")
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        tz = township_zone()
        while True:
            services.schedule_tick(jobs=jobs, worker_id=worker_id, tz=tz)
            time.sleep(max(interval, 5.0))
