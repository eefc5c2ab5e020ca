"""Duty hours across midnight (20:00–02:00 in Asia/Shanghai) and the schedules API.

Every moment here is a fixed date in the past, so nothing depends on when the tests run.
"""

from __future__ import annotations

import datetime as dt

import pytest

from civicgrid.core.errors import ValidationFailed
from civicgrid.patrol import services
from civicgrid.patrol.models import DutySchedule, Shift
from civicgrid.patrol.tests.conftest import Patrol
from civicgrid.patrol.tests.test_tracks import local
from civicgrid.people import services as people
from civicgrid.people.models import User

pytestmark = pytest.mark.django_db

FRIDAY = dt.date(2026, 3, 6)
SATURDAY = dt.date(2026, 3, 7)
SUNDAY = dt.date(2026, 3, 1)  # the hours of its night end on Monday 2 March
LAST_OF_FEBRUARY = dt.date(2026, 2, 28)  # a Saturday; its night ends in March


def certified_in_2026(user: User, number: str) -> None:
    """Field rights on the fixed days of these tests, whatever today is."""
    people.training_record(user=user, course="岗前培训", completed_on=dt.date(2026, 1, 5),
                           actor=None)  # fmt: skip
    people.examination_record(user=user, taken_on=dt.date(2026, 1, 6), score=80, actor=None)
    people.work_permit_issue(user=user, number=number, issued_on=dt.date(2026, 1, 7),
                             expires_on=dt.date(2026, 12, 31), actor=None)  # fmt: skip


@pytest.fixture
def night(patrol: Patrol) -> Patrol:
    certified_in_2026(patrol.admin, "N-00001")
    return patrol


def night_hours(patrol: Patrol, weekdays: str) -> DutySchedule:
    return services.schedule_create(
        user=patrol.admin,
        weekdays=weekdays,
        starts=dt.time(20),
        ends=dt.time(2),
        actor=patrol.leader,
    )


def test_night_hours_open_in_the_evening_and_close_after_midnight(night: Patrol) -> None:
    night_hours(night, str(FRIDAY.isoweekday()))
    assert services.shifts_run_schedules(now=local(FRIDAY, 19, 59)).opened == []
    assert services.shifts_run_schedules(now=local(FRIDAY, 20, 0)).opened == ["walker"]
    for moment in (local(FRIDAY, 23, 59), local(SATURDAY, 0, 0), local(SATURDAY, 1, 59)):
        run = services.shifts_run_schedules(now=moment)
        assert (run.opened, run.closed) == ([], []), moment
    shift = Shift.objects.get(user=night.admin)
    assert shift.ended_at is None
    assert services.shifts_run_schedules(now=local(SATURDAY, 2, 0)).closed == ["walker"]
    shift.refresh_from_db()
    assert shift.started_at == local(FRIDAY, 20)
    assert shift.ended_at == local(SATURDAY, 2) and shift.ending == Shift.Ending.SCHEDULE
    later = services.shifts_run_schedules(now=local(SATURDAY, 2, 1))
    assert (later.opened, later.closed) == ([], [])
    assert Shift.objects.filter(user=night.admin).count() == 1


def test_the_small_hours_belong_to_the_night_that_began_the_day_before(night: Patrol) -> None:
    night_hours(night, str(SATURDAY.isoweekday()))  # Saturday nights only
    # Saturday 01:00 is Friday's night: nothing opens.
    assert services.shifts_run_schedules(now=local(SATURDAY, 1)).opened == []
    assert services.shifts_run_schedules(now=local(SATURDAY, 20, 5)).opened == ["walker"]


def test_a_worker_that_starts_after_midnight_still_opens_the_night_shift(night: Patrol) -> None:
    night_hours(night, str(FRIDAY.isoweekday()))
    run = services.shifts_run_schedules(now=local(SATURDAY, 0, 30))
    assert run.opened == ["walker"]
    assert Shift.objects.get(user=night.admin).started_at == local(SATURDAY, 0, 30)
    assert services.shifts_run_schedules(now=local(SATURDAY, 2)).closed == ["walker"]


def test_a_worker_down_at_the_end_closes_the_shift_at_the_scheduled_end(night: Patrol) -> None:
    night_hours(night, str(FRIDAY.isoweekday()))
    services.shifts_run_schedules(now=local(FRIDAY, 20, 1))
    assert services.shifts_run_schedules(now=local(SATURDAY, 7)).closed == ["walker"]
    assert Shift.objects.get(user=night.admin).ended_at == local(SATURDAY, 2)


def test_a_night_shift_ended_early_is_not_opened_again_after_midnight(night: Patrol) -> None:
    night_hours(night, str(FRIDAY.isoweekday()))
    services.shifts_run_schedules(now=local(FRIDAY, 20, 1))
    services.shift_end(user=night.admin, actor=night.admin, now=local(FRIDAY, 23))
    assert services.shifts_run_schedules(now=local(SATURDAY, 0, 30)).opened == []
    assert Shift.objects.filter(user=night.admin).count() == 1


def test_sunday_night_runs_into_monday_and_february_into_march(night: Patrol) -> None:
    night_hours(night, f"{SUNDAY.isoweekday()}{LAST_OF_FEBRUARY.isoweekday()}")
    assert services.shifts_run_schedules(now=local(LAST_OF_FEBRUARY, 21)).opened == ["walker"]
    assert services.shifts_run_schedules(now=local(SUNDAY, 1, 59)).closed == []
    assert services.shifts_run_schedules(now=local(SUNDAY, 2)).closed == ["walker"]
    assert services.shifts_run_schedules(now=local(SUNDAY, 20)).opened == ["walker"]
    monday = SUNDAY + dt.timedelta(days=1)
    assert services.shifts_run_schedules(now=local(monday, 2)).closed == ["walker"]
    ends = sorted(s.ended_at for s in Shift.objects.filter(user=night.admin))
    assert ends == [local(SUNDAY, 2), local(monday, 2)]


def test_a_schedule_switched_off_closes_its_shift_at_the_next_run(night: Patrol) -> None:
    schedule = night_hours(night, str(FRIDAY.isoweekday()))
    services.shifts_run_schedules(now=local(FRIDAY, 20, 1))
    services.schedule_update(schedule=schedule, active=False, actor=night.leader)
    assert services.shifts_run_schedules(now=local(FRIDAY, 22)).closed == ["walker"]
    assert Shift.objects.get(user=night.admin).ended_at == local(FRIDAY, 22)


def test_night_hours_are_limited_to_the_longest_shift(night: Patrol) -> None:
    assert services.schedule_hours(dt.time(20), dt.time(2)) == 6
    assert services.schedule_hours(dt.time(8), dt.time(12)) == 4
    assert services.schedule_hours(dt.time(18), dt.time(6)) == 12
    night_hours(night, "5")  # 6 hours: fine
    with pytest.raises(ValidationFailed) as too_long:
        services.schedule_create(user=night.admin, weekdays="5", starts=dt.time(18),
                                 ends=dt.time(6, 30), actor=night.leader)  # fmt: skip
    assert too_long.value.field == "ends"


# ------------------------------------------------------------------------------------ API


def test_a_leader_creates_lists_changes_and_deletes_a_schedule(night: Patrol) -> None:
    leader = night.client(night.leader)
    created = leader.post(
        "/api/v1/patrol/schedules",
        {"username": "walker", "weekdays": "5", "starts": "20:00", "ends": "02:00"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["crosses_midnight"] is True and body["hours"] == 6.0
    assert (body["starts"], body["ends"], body["weekdays"]) == ("20:00:00", "02:00:00", "5")
    pk = body["id"]
    listed = leader.get("/api/v1/patrol/schedules?username=walker").json()
    assert [s["id"] for s in listed] == [pk]
    changed = leader.patch(
        f"/api/v1/patrol/schedules/{pk}",
        {"weekdays": "67", "ends": "01:30"},
        content_type="application/json",
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["weekdays"], changed.json()["ends"]) == ("67", "01:30:00")
    assert changed.json()["starts"] == "20:00:00"
    assert leader.delete(f"/api/v1/patrol/schedules/{pk}").status_code == 204
    assert not DutySchedule.objects.exists()


def test_the_schedules_api_names_the_field_in_error(night: Patrol) -> None:
    leader = night.client(night.leader)
    cases = [
        ({"weekdays": "8", "starts": "08:00", "ends": "12:00"}, "weekdays"),
        ({"weekdays": "1", "starts": "8 o'clock", "ends": "12:00"}, "starts"),
        ({"weekdays": "1", "starts": "08:00", "ends": "08:00"}, "ends"),
        ({"weekdays": "1", "starts": "06:00", "ends": "20:00"}, "ends"),
        ({"weekdays": "1", "starts": "08:00"}, "ends"),
    ]
    for fields, field in cases:
        answer = leader.post(
            "/api/v1/patrol/schedules",
            {"username": "walker", **fields},
            content_type="application/json",
            headers={"accept-language": "en"},
        )
        assert answer.status_code == 422, (fields, answer.content)
        assert answer.json()["field"] == field, (fields, answer.json())
        assert answer.json()["message"]
    assert not DutySchedule.objects.exists()
    schedule = night_hours(night, "5")
    answer = leader.patch(
        f"/api/v1/patrol/schedules/{schedule.pk}", {"ends": "20:00"},
        content_type="application/json",
    )  # fmt: skip
    assert answer.status_code == 422 and answer.json()["field"] == "ends"
    schedule.refresh_from_db()
    assert schedule.ends == dt.time(2)  # nothing half-written


def test_schedules_are_set_by_the_leader_or_a_supervisor_and_read_in_scope(
    night: Patrol,
) -> None:
    schedule = night_hours(night, "5")
    own = night.client(night.admin)
    assert [s["id"] for s in own.get("/api/v1/patrol/schedules").json()] == [schedule.pk]
    refused = own.patch(
        f"/api/v1/patrol/schedules/{schedule.pk}", {"active": False},
        content_type="application/json",
    )  # fmt: skip
    assert refused.status_code == 403
    assert own.delete(f"/api/v1/patrol/schedules/{schedule.pk}").status_code == 403
    far = night.client(night.far_admin)
    assert far.get("/api/v1/patrol/schedules").json() == []
    assert far.delete(f"/api/v1/patrol/schedules/{schedule.pk}").status_code == 404
    dispatcher = night.client(night.dispatcher)
    assert [s["id"] for s in dispatcher.get("/api/v1/patrol/schedules").json()] == [schedule.pk]
    refused = dispatcher.post(
        "/api/v1/patrol/schedules",
        {"username": "walker", "weekdays": "1", "starts": "08:00", "ends": "12:00"},
        content_type="application/json",
    )
    assert refused.status_code == 403
    assert DutySchedule.objects.count() == 1


def test_the_admin_form_checks_schedules_like_the_api(night: Patrol) -> None:
    from civicgrid.patrol.admin import DutyScheduleForm

    base = {"user": night.admin.pk, "weekdays": "51", "starts": "20:00", "active": True}
    night_form = DutyScheduleForm(data={**base, "ends": "02:00"})
    assert night_form.is_valid(), night_form.errors
    assert night_form.cleaned_data["weekdays"] == "15"
    too_long = DutyScheduleForm(data={**base, "ends": "09:00"})
    assert not too_long.is_valid() and "ends" in too_long.errors
    bad_days = DutyScheduleForm(data={**base, "weekdays": "9", "ends": "02:00"})
    assert not bad_days.is_valid() and "weekdays" in bad_days.errors
