"""Shifts opened and closed by a duty schedule; the month view per team and per village."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.patrol import services
from civicgrid.patrol.models import DutyDay, DutySchedule, Shift
from civicgrid.patrol.tests.conftest import Patrol
from civicgrid.patrol.tests.test_tracks import local, walked

pytestmark = pytest.mark.django_db

# A fixed day a few days back: nothing here depends on the time of day the tests run.
DAY = timezone.localdate() - dt.timedelta(days=4)


def morning_schedule(patrol: Patrol) -> None:
    services.schedule_create(
        user=patrol.admin,
        weekdays=str(DAY.isoweekday()),
        starts=dt.time(8),
        ends=dt.time(12),
        actor=patrol.leader,
    )


def test_a_schedule_opens_a_shift_when_its_hours_begin_and_closes_it_at_their_end(
    patrol: Patrol,
) -> None:
    morning_schedule(patrol)
    assert services.shifts_run_schedules(now=local(DAY, 7, 59)).opened == []
    run = services.shifts_run_schedules(now=local(DAY, 8, 1))
    assert run.opened == ["walker"]
    shift = Shift.objects.get(user=patrol.admin)
    assert shift.opened_by == Shift.Opening.SCHEDULE and shift.ended_at is None
    again = services.shifts_run_schedules(now=local(DAY, 8, 2))
    assert (again.opened, again.closed) == ([], [])
    closing = services.shifts_run_schedules(now=local(DAY, 12, 1))
    assert closing.closed == ["walker"]
    shift.refresh_from_db()
    assert shift.ended_at == local(DAY, 12) and shift.ending == Shift.Ending.SCHEDULE
    later = services.shifts_run_schedules(now=local(DAY, 12, 2))
    assert (later.opened, later.closed) == ([], [])
    assert Shift.objects.filter(user=patrol.admin).count() == 1


def test_a_scheduled_shift_ended_early_is_not_opened_again(patrol: Patrol) -> None:
    morning_schedule(patrol)
    services.shifts_run_schedules(now=local(DAY, 8, 1))
    services.shift_end(user=patrol.admin, actor=patrol.admin, now=local(DAY, 10))
    run = services.shifts_run_schedules(now=local(DAY, 10, 1))
    assert run.opened == [] and Shift.objects.filter(user=patrol.admin).count() == 1


def test_a_schedule_opens_nothing_on_other_weekdays(patrol: Patrol) -> None:
    morning_schedule(patrol)
    other_day = DAY + dt.timedelta(days=1)
    assert services.shifts_run_schedules(now=local(other_day, 9)).opened == []


def test_a_schedule_without_field_rights_says_why_it_opened_nothing(patrol: Patrol) -> None:
    # Set in the admin: the new colleague has no team yet and no certificates.
    DutySchedule.objects.create(
        user=patrol.uncertified, weekdays=str(DAY.isoweekday()), starts=dt.time(8), ends=dt.time(12)
    )
    run = services.shifts_run_schedules(now=local(DAY, 8, 1))
    assert run.opened == [] and len(run.refused) == 1
    assert run.refused[0].startswith("novice: ")
    assert not Shift.objects.exists()


def test_schedule_input_is_checked_and_only_leaders_set_it(patrol: Patrol) -> None:
    with pytest.raises(ValidationFailed) as bad_days:
        services.schedule_create(
            user=patrol.admin, weekdays="8", starts=dt.time(8), ends=dt.time(9), actor=patrol.leader
        )
    assert bad_days.value.field == "weekdays"
    with pytest.raises(ValidationFailed) as empty:
        services.schedule_create(
            user=patrol.admin, weekdays="1", starts=dt.time(9), ends=dt.time(9), actor=patrol.leader
        )
    assert empty.value.field == "ends"
    with pytest.raises(ValidationFailed) as too_long:  # 09:00 to 08:00 the next day
        services.schedule_create(
            user=patrol.admin, weekdays="1", starts=dt.time(9), ends=dt.time(8), actor=patrol.leader
        )
    assert too_long.value.field == "ends" and "12" in str(too_long.value.message)
    with pytest.raises(PermissionDenied):
        services.schedule_create(
            user=patrol.mate, weekdays="1", starts=dt.time(8), ends=dt.time(9), actor=patrol.admin
        )


def test_the_month_view_tallies_administrators_teams_and_villages(patrol: Patrol) -> None:
    first = (timezone.localdate() - dt.timedelta(days=40)).replace(day=1)
    walked(patrol.admin, local(first + dt.timedelta(days=2), 8), 241)
    walked(patrol.admin, local(first + dt.timedelta(days=3), 8), 100)
    walked(patrol.mate, local(first + dt.timedelta(days=3), 8), 250)
    services.exemption_record(
        user=patrol.mate,
        day=first + dt.timedelta(days=4),
        reason="training",
        note="培训",
        actor=patrol.leader,
    )
    pairs = [(patrol.admin, patrol.grid), (patrol.mate, patrol.grid)]
    month = services.duty_month(pairs, first, today=first + dt.timedelta(days=9))
    assert month["days"] == 10
    rows = {r["username"]: r for r in month["rows"]}
    assert (rows["walker"]["met"], rows["walker"]["not_met"], rows["walker"]["exempt"]) == (1, 9, 0)
    assert rows["walker"]["average_minutes"] == round(341 / 10, 1)
    assert (rows["mate"]["met"], rows["mate"]["not_met"], rows["mate"]["exempt"]) == (1, 8, 1)
    assert rows["mate"]["average_minutes"] == round(250 / 9, 1)
    (team,) = month["grids"]
    assert team["code"] == patrol.grid.code and team["administrators"] == 2
    assert (team["met"], team["not_met"], team["exempt"]) == (2, 17, 1)
    (village,) = month["villages"]
    assert village["code"] == patrol.grid.code[:12] and village["met"] == 2
    assert DutyDay.objects.filter(user=patrol.admin).count() == 10  # stored for next time


def test_the_month_api_follows_the_scope_and_checks_the_month(patrol: Patrol) -> None:
    leader = patrol.client(patrol.leader)
    answer = leader.get(f"/api/v1/patrol/duty/month?village={patrol.grid.code[:12]}")
    assert answer.status_code == 200, answer.content
    assert {r["username"] for r in answer.json()["rows"]} == {"walker", "mate"}
    own = patrol.client(patrol.admin).get("/api/v1/patrol/duty/month").json()
    assert [r["username"] for r in own["rows"]] == ["walker"]
    bad = leader.get("/api/v1/patrol/duty/month?month=2026-13")
    assert bad.status_code == 422 and bad.json()["field"] == "month"
