"""Enqueueing from inside a write, so a task never runs against rows that were rolled back.

With the database backend the task row is written in the caller's transaction: it
commits or rolls back with the rows the task will read (no task for a photo whose case
was never saved, no saved photo without its task). Other backends (RQ) keep their queue
elsewhere, so the task is enqueued only after the commit. The immediate backend (tests,
``CIVICGRID_TASKS_BACKEND=immediate``) runs the task at once, inside the transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.tasks import Task
from django.tasks.backends.immediate import ImmediateBackend
from django.utils import timezone


def runs_in_transaction(task: Task[Any, Any]) -> bool:
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(task.get_backend(), DatabaseBackend | ImmediateBackend)


def enqueue_with_write(task: Task[Any, Any], *args: Any, **kwargs: Any) -> str | None:
    """Enqueue ``task`` as part of the current transaction; its id when known now."""
    if runs_in_transaction(task):
        return str(task.enqueue(*args, **kwargs).id)
    transaction.on_commit(lambda: task.enqueue(*args, **kwargs))
    return None


def queue_lag(*, now: dt.datetime | None = None) -> dt.timedelta | None:
    """How long the oldest due task has waited; None when the queue is not in the database."""
    from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult, get_date_max

    if not isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend):
        return None
    now = now or timezone.now()
    oldest = DBTaskResult.objects.ready().order_by("enqueued_at").first()
    if oldest is None:
        return dt.timedelta(0)
    since = oldest.enqueued_at
    if oldest.run_after != get_date_max():
        since = max(since, oldest.run_after)
    return max(now - since, dt.timedelta(0))
