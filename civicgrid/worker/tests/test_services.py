import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.sessions.models import Session
from django.core.cache.backends.locmem import LocMemCache
from django.core.files.storage import FileSystemStorage
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from civicgrid.worker import services
from civicgrid.worker.models import ScheduledRun, WorkerBeat
from civicgrid.worker.queue import queue_lag
from civicgrid.worker.schedule import Job
from civicgrid.worker.tests.jobs import record_run

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 2, 8, 7, tzinfo=dt.UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
RECORD = "civicgrid.worker.tests.jobs.record_run"


def test_two_schedulers_enqueue_a_slot_once(database_tasks):
    jobs = [Job(name="record", task=RECORD, every=60)]
    first = services.schedule_tick(jobs=jobs, worker_id="a", tz=SHANGHAI, now=NOW)
    second = services.schedule_tick(jobs=jobs, worker_id="b", tz=SHANGHAI, now=NOW)
    assert first == ["record"] and second == []
    run = ScheduledRun.objects.get()
    assert run.worker_id == "a" and DBTaskResult.objects.filter(pk=run.task_id).exists()
    later = services.schedule_tick(
        jobs=jobs, worker_id="b", tz=SHANGHAI, now=NOW + dt.timedelta(minutes=1)
    )
    assert later == ["record"] and DBTaskResult.objects.count() == 2


def test_a_command_hook_waits_until_its_command_exists(database_tasks):
    jobs = [Job(name="later", command="no-such-command-yet", daily_at=dt.time(1, 30))]
    assert services.schedule_tick(jobs=jobs, worker_id="a", tz=SHANGHAI, now=NOW) == []
    assert not ScheduledRun.objects.exists()
    present = [Job(name="now", command="sweep-overdue", daily_at=dt.time(1, 30))]
    assert services.schedule_tick(jobs=present, worker_id="a", tz=SHANGHAI, now=NOW) == ["now"]


def _running(worker: str, attempts: int, started: dt.datetime) -> DBTaskResult:
    result = record_run.using(backend="default").enqueue("/dev/null", "x")
    row = DBTaskResult.objects.get(pk=result.id)
    row.status = TaskResultStatus.RUNNING
    row.worker_ids = [f"w{i}" for i in range(attempts - 1)] + [worker]
    row.started_at = started
    row.save()
    return row


def test_a_task_held_by_a_dead_worker_goes_back_to_the_queue(database_tasks):
    WorkerBeat.objects.create(worker_id="dead", started_at=NOW, seen_at=NOW - dt.timedelta(hours=1))
    WorkerBeat.objects.create(worker_id="alive", started_at=NOW, seen_at=NOW)
    lost = _running("dead", 1, NOW - dt.timedelta(minutes=30))
    busy = _running("alive", 1, NOW - dt.timedelta(minutes=30))
    assert services.lost_tasks_requeue(worker_id="me", now=NOW) == services.Requeued(1, 0)
    lost.refresh_from_db()
    busy.refresh_from_db()
    assert lost.status == TaskResultStatus.READY and lost.started_at is None
    assert busy.status == TaskResultStatus.RUNNING
    # Idempotent: nothing more to take back.
    assert services.lost_tasks_requeue(worker_id="me", now=NOW) == services.Requeued(0, 0)


def test_a_task_lost_on_its_last_attempt_fails_with_the_reason(database_tasks, settings):
    settings.CIVICGRID_TASK_MAX_ATTEMPTS = 3
    lost = _running("gone", 3, NOW - dt.timedelta(hours=2))  # a worker that never beat
    assert services.lost_tasks_requeue(worker_id="me", now=NOW) == services.Requeued(0, 1)
    lost.refresh_from_db()
    assert lost.status == TaskResultStatus.FAILED
    assert lost.exception_class_path == services.LOST_EXCEPTION
    assert "attempt 3 of 3" in lost.traceback


def test_a_worker_without_beats_keeps_its_task_for_the_grace_period(database_tasks):
    recent = _running("db-worker", 1, NOW - dt.timedelta(seconds=10))
    assert services.lost_tasks_requeue(worker_id="me", now=NOW) == services.Requeued(0, 0)
    recent.refresh_from_db()
    assert recent.status == TaskResultStatus.RUNNING


def test_queue_lag_is_the_wait_of_the_oldest_due_task(database_tasks):
    assert queue_lag() == dt.timedelta(0)
    record_run.enqueue("/dev/null", "x")
    DBTaskResult.objects.update(enqueued_at=timezone.now() - dt.timedelta(minutes=5))
    assert queue_lag() >= dt.timedelta(minutes=5)


def test_queue_lag_is_unknown_when_the_queue_is_elsewhere():
    assert queue_lag() is None  # tests run tasks at once (civicgrid/conftest.py)


def test_retention_removes_what_is_past_its_time(database_tasks):
    old = NOW - dt.timedelta(days=30)
    Session.objects.create(session_key="x" * 32, session_data="", expire_date=old)
    record_run.enqueue("/dev/null", "x")
    DBTaskResult.objects.update(status=TaskResultStatus.SUCCESSFUL, finished_at=old)
    record_run.enqueue("/dev/null", "y")  # still queued: kept
    ScheduledRun.objects.create(job="j", slot=old, worker_id="a")
    ScheduledRun.objects.filter(job="j").update(enqueued_at=old)
    WorkerBeat.objects.create(worker_id="gone", started_at=old, seen_at=old)
    pruned = services.retention_prune(now=NOW)
    assert pruned == services.Pruned(sessions=1, task_results=1, scheduled_runs=1, workers=1)
    assert DBTaskResult.objects.count() == 1
    assert services.retention_prune(now=NOW) == services.Pruned(0, 0, 0, 0)


def test_the_health_checks_report_database_caches_and_queue_lag(database_tasks, client, settings):
    settings.CIVICGRID_HEALTH_MAX_QUEUE_LAG_SECONDS = 60
    answer = client.get("/api/v1/health/checks")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok" and body["database"]["ok"] and body["cache:progress"]["ok"]
    assert body["tasks"] == {"ok": True, "lag_seconds": 0, "workers": 0}
    record_run.enqueue("/dev/null", "x")
    DBTaskResult.objects.update(enqueued_at=timezone.now() - dt.timedelta(minutes=5))
    answer = client.get("/api/v1/health/checks")
    assert answer.status_code == 503 and answer.json()["status"] == "failing"
    assert answer.json()["tasks"]["lag_seconds"] >= 300


class BrokenCache(LocMemCache):
    def set(self, *args, **kwargs):
        raise ConnectionError("cache down")


class BrokenStorage(FileSystemStorage):
    def exists(self, name):
        raise OSError("store down")


def test_the_health_checks_fail_on_a_cache_or_the_photo_storage(database_tasks, client, settings):
    answer = client.get("/api/v1/health/checks")
    assert answer.status_code == 200 and answer.json()["storage"] == {"ok": True}
    settings.CACHES = {
        **settings.CACHES,
        "shared": {"BACKEND": "civicgrid.worker.tests.test_services.BrokenCache"},
    }
    answer = client.get("/api/v1/health/checks")
    assert answer.status_code == 503 and answer.json()["status"] == "failing"
    assert answer.json()["cache:shared"] == {"ok": False, "error": "ConnectionError"}
    assert answer.json()["database"]["ok"] and answer.json()["tasks"]["ok"]
    settings.CACHES = {k: v for k, v in settings.CACHES.items() if k != "shared"}
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "civicgrid.worker.tests.test_services.BrokenStorage"},
    }
    answer = client.get("/api/v1/health/checks")
    assert answer.status_code == 503
    assert answer.json()["storage"] == {"ok": False, "error": "OSError"}


def _drop(*tables: str) -> None:
    """Drop tables inside the test's transaction (rolled back with it, on both databases)."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DROP TABLE {connection.ops.quote_name(table)}")


def test_the_health_checks_report_a_database_without_tables_instead_of_failing(
    database_tasks, client
):
    _drop(DBTaskResult._meta.db_table, WorkerBeat._meta.db_table)
    answer = client.get("/api/v1/health/checks")
    assert answer.status_code == 503 and answer.json()["status"] == "failing"
    assert answer.json()["database"]["ok"]
    assert answer.json()["tasks"]["ok"] is False and answer.json()["tasks"]["error"]
    _drop("django_migrations")
    answer = client.get("/api/v1/health/checks")
    assert answer.status_code == 503
    assert answer.json()["database"]["ok"] is False and "tasks" not in answer.json()
