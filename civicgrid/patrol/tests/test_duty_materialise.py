"""Daily duty figures are stored ahead by the worker; a read computes a bounded number of
missing staff-days and hands the rest to the worker instead of computing a township's month
inside the request.

March 2026 throughout: a month in the past whatever day the tests run.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django_tasks_db.models import DBTaskResult

from civicgrid.patrol import services
from civicgrid.patrol.models import DutyDay
from civicgrid.patrol.tasks import duty_days_materialise_job
from civicgrid.patrol.tests.conftest import Patrol
from civicgrid.patrol.tests.test_tracks import local, walked
from civicgrid.people.models import GridAssignment
from civicgrid.worker.schedule import configured_jobs

MARCH = [dt.date(2026, 3, 1) + dt.timedelta(days=n) for n in range(31)]
FIELD_STAFF = {"walker", "mate", "faraway"}


@pytest.fixture
def march(patrol: Patrol) -> Patrol:
    GridAssignment.objects.update(starts_on=dt.date(2026, 1, 1))
    walked(patrol.admin, local(dt.date(2026, 3, 2), 8), 241)
    return patrol


def stored_users(day: dt.date) -> set[str]:
    return set(DutyDay.objects.filter(day=day).values_list("user__username", flat=True))


def test_the_worker_stores_every_administrators_days_once(march: Patrol) -> None:
    assert services.duty_days_materialise(days=MARCH) == 31 * len(FIELD_STAFF)
    assert stored_users(dt.date(2026, 3, 17)) == FIELD_STAFF
    assert DutyDay.objects.get(user=march.admin, day=dt.date(2026, 3, 2)).rule == "met"
    assert services.duty_days_materialise(days=MARCH) == 0


def test_the_worker_recomputes_a_day_that_positions_reached_later(march: Patrol) -> None:
    services.duty_days_materialise(days=MARCH[:3])
    walked(march.mate, local(dt.date(2026, 3, 3), 9), 30)
    assert services.duty_days_materialise(days=MARCH[:3]) == 1
    assert DutyDay.objects.get(user=march.mate, day=dt.date(2026, 3, 3)).patrol_minutes == 30.0


def test_the_periodic_run_keeps_this_month_and_the_last() -> None:
    due = services.duty_days_due(dt.date(2026, 3, 5))
    assert due[0] == dt.date(2026, 2, 1) and due[-1] == dt.date(2026, 3, 5)
    assert len(due) == 28 + 5
    jobs = {job.name: job for job in configured_jobs()}
    assert jobs["patrol-duty-days"].task == "civicgrid.patrol.tasks.duty_days_materialise_job"


def test_a_month_read_computes_a_bounded_number_of_days_and_queues_the_rest(
    march: Patrol, settings, database_tasks
) -> None:
    settings.CIVICGRID_PATROL_READ_COMPUTE_MAX = 5
    page = march.client(march.dispatcher).get(
        "/patrol/month/?month=2026-03", headers={"accept-language": "en"}
    )
    assert page.status_code == 200
    assert DutyDay.objects.count() == 5
    assert "still being computed" in page.content.decode()
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "civicgrid.patrol.tasks.duty_days_materialise_job"

    duty_days_materialise_job.call(**queued.args_kwargs["kwargs"])
    assert DutyDay.objects.count() == 31 * len(FIELD_STAFF)
    again = march.client(march.dispatcher).get(
        "/patrol/month/?month=2026-03", headers={"accept-language": "en"}
    )
    assert "still being computed" not in again.content.decode()
    assert DBTaskResult.objects.count() == 1  # nothing more asked of the worker


def test_the_month_api_counts_the_staff_days_left_to_the_worker(
    march: Patrol, settings, database_tasks
) -> None:
    settings.CIVICGRID_PATROL_READ_COMPUTE_MAX = 10
    month = march.client(march.dispatcher).get("/api/v1/patrol/duty/month?month=2026-03").json()
    assert month["pending"] == 31 * len(FIELD_STAFF) - 10
    assert DutyDay.objects.count() == 10


def test_a_day_read_beyond_the_bound_answers_pending_rows(
    march: Patrol, settings, database_tasks
) -> None:
    settings.CIVICGRID_PATROL_READ_COMPUTE_MAX = 1
    rows = march.client(march.dispatcher).get("/api/v1/patrol/duty?date=2026-03-02").json()
    rules = sorted(r["rule"] for r in rows)
    assert len(rows) == len(FIELD_STAFF) and rules.count("pending") == len(FIELD_STAFF) - 1
    pending = next(r for r in rows if r["rule"] == "pending")
    assert pending["patrol_minutes"] is None
    queued = DBTaskResult.objects.get()
    assert queued.args_kwargs["kwargs"]["days"] == ["2026-03-02"]
