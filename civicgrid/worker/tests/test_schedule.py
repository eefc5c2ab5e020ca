import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured

from civicgrid.worker.schedule import Job, parse_schedule

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_an_interval_job_is_due_at_each_multiple_of_its_period():
    job = Job(name="sweep", task="x.y", every=300)
    now = dt.datetime(2026, 3, 2, 8, 7, 42, tzinfo=dt.UTC)
    assert job.current_slot(now, SHANGHAI) == dt.datetime(2026, 3, 2, 8, 5, tzinfo=dt.UTC)
    later = now + dt.timedelta(minutes=2)
    assert job.current_slot(later, SHANGHAI) == job.current_slot(now, SHANGHAI)
    assert job.current_slot(now + dt.timedelta(minutes=3), SHANGHAI) > job.current_slot(
        now, SHANGHAI
    )


def test_a_daily_job_is_due_at_its_local_time_and_stays_due_until_the_next_day():
    job = Job(name="purge", task="x.y", daily_at=dt.time(3, 10))
    before = dt.datetime(2026, 3, 2, 3, 0, tzinfo=SHANGHAI)
    after = dt.datetime(2026, 3, 2, 3, 20, tzinfo=SHANGHAI)
    evening = dt.datetime(2026, 3, 2, 23, 50, tzinfo=SHANGHAI)
    assert job.current_slot(before, SHANGHAI) == dt.datetime(2026, 3, 1, 3, 10, tzinfo=SHANGHAI)
    assert job.current_slot(after, SHANGHAI) == dt.datetime(2026, 3, 2, 3, 10, tzinfo=SHANGHAI)
    assert job.current_slot(evening, SHANGHAI) == job.current_slot(after, SHANGHAI)


def test_schedule_entries_are_checked_strictly():
    jobs = parse_schedule(
        {"a": {"task": "m.t", "every": 60}, "b": {"command": "evaluation-materialise",
                                                  "daily_at": "01:30"}}
    )  # fmt: skip
    assert [j.name for j in jobs] == ["a", "b"]
    assert jobs[1].daily_at == dt.time(1, 30)
    with pytest.raises(ImproperlyConfigured, match="either a task or a command"):
        parse_schedule({"a": {"every": 60}})
    with pytest.raises(ImproperlyConfigured, match="either every or daily_at"):
        parse_schedule({"a": {"task": "m.t", "every": 60, "daily_at": "01:00"}})
    with pytest.raises(ImproperlyConfigured, match="not HH:MM"):
        parse_schedule({"a": {"task": "m.t", "daily_at": "noon"}})
    with pytest.raises(ImproperlyConfigured, match="not seconds"):
        parse_schedule({"a": {"task": "m.t", "every": 0}})
    with pytest.raises(ImproperlyConfigured, match="unknown keys"):
        parse_schedule({"a": {"task": "m.t", "every": 5, "cron": "* * *"}})


def test_the_configured_schedule_covers_the_jobs_cron_used_to_run(settings):
    names = {job.name for job in parse_schedule(settings.CIVICGRID_SCHEDULE)}
    assert {"sweep-overdue", "send-webhooks", "purge-positions", "retention"} <= names
    assert "evaluation-materialise" in names


def test_the_task_backend_is_chosen_by_configuration():
    from civicgrid.core.env import task_settings

    tasks, apps, queues = task_settings("database", "")
    assert tasks["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
    assert apps == ["django_tasks_db"] and queues == {}
    tasks, apps, queues = task_settings("rq", "redis://cache.internal:6379/1")
    assert tasks["default"]["BACKEND"] == "django_tasks_rq.RQBackend"
    assert "django_tasks_rq" in apps and queues["default"]["URL"].endswith("/1")
    with pytest.raises(ImproperlyConfigured, match="needs CIVICGRID_REDIS_URL"):
        task_settings("rq", "")
    with pytest.raises(ImproperlyConfigured, match="not one of"):
        task_settings("celery", "")


def test_the_cache_is_shared_through_redis_only_when_configured(tmp_path):
    from civicgrid.core.env import cache_settings

    local = cache_settings("", data_dir=tmp_path)
    assert local["default"]["BACKEND"].endswith("LocMemCache")
    # Progress of background tasks is read by other processes: files, not process memory.
    assert local["progress"]["BACKEND"].endswith("FileBasedCache")
    assert local["progress"]["LOCATION"].startswith(str(tmp_path))
    shared = cache_settings("redis://127.0.0.1:6379/2", data_dir=tmp_path)
    assert {c["BACKEND"] for c in shared.values()} == {
        "django.core.cache.backends.redis.RedisCache"
    }
    with pytest.raises(ImproperlyConfigured, match="not a redis"):
        cache_settings("memcached://x", data_dir=tmp_path)
