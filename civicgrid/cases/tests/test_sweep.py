"""Deadlines on the township calendar and the overdue sweep: once per step, notified once."""

from __future__ import annotations

import datetime as dt

from django.core.management import call_command
from django.utils import timezone

from civicgrid.cases import services
from civicgrid.cases.models import Case, CaseEvent, Notification
from civicgrid.cases.tests.conftest import Loop


def later(hours: int = 24 * 40) -> dt.datetime:
    return timezone.now() + dt.timedelta(hours=hours)


def expire(case: Case) -> None:
    """The current step's deadline passed a minute ago."""
    Case.objects.filter(pk=case.pk).update(deadline=timezone.now() - dt.timedelta(minutes=1))
    case.refresh_from_db()


def test_deadline_follows_the_category_limit_on_the_calendar(loop: Loop) -> None:
    case = loop.case_in("dispatched")
    calendar = services.calendar_for(loop.township.pk)
    expected = calendar.add_working_hours(case.step_started_at, 4)  # exposed garbage: 4 h
    assert case.deadline == expected


def test_urgency_shortens_the_deadline(loop: Loop) -> None:
    normal = loop.case_in("filed")
    urgent = loop.report()
    loop.act(urgent, "file", urgency="critical")
    assert urgent.deadline - urgent.step_started_at < normal.deadline - normal.step_started_at


def test_sweep_marks_each_overdue_step_once_and_notifies_once(loop: Loop) -> None:
    case = loop.case_in("dispatched")
    expire(case)
    assert services.sweep_overdue() == 1
    assert services.sweep_overdue() == 0
    assert CaseEvent.objects.filter(case=case, action="mark_overdue").count() == 1
    notified = set(
        Notification.objects.filter(kind="overdue").values_list("user__username", flat=True)
    )
    assert notified == {"disp1", "disp2", "urban1"}
    case.refresh_from_db()
    assert case.overdue_step_seq == case.step_seq and case.state == "dispatched"


def test_a_new_step_can_be_overdue_again(loop: Loop) -> None:
    case = loop.case_in("dispatched")
    expire(case)
    services.sweep_overdue()
    case.refresh_from_db()
    loop.act(case, "dispose", loop.officer, result="已处置")
    assert services.sweep_overdue() == 0
    expire(case)
    assert services.sweep_overdue() == 1
    assert CaseEvent.objects.filter(case=case, action="mark_overdue").count() == 2


def test_backlog_and_closed_cases_are_not_swept(loop: Loop) -> None:
    backlog = loop.case_in("dispatched")
    loop.act(backlog, "backlog", note="需专项资金")
    closed = loop.case_in("closed")
    Case.objects.filter(pk=closed.pk).update(deadline=timezone.now() - dt.timedelta(minutes=1))
    assert services.sweep_overdue() == 0


def test_sweep_command(loop: Loop, capsys) -> None:  # type: ignore[no-untyped-def]
    case = loop.case_in("filed")
    expire(case)
    call_command("sweep_overdue")
    assert "Marked 1" in capsys.readouterr().out


def test_overdue_is_visible_in_the_case(loop: Loop) -> None:
    case = loop.case_in("filed")
    assert not case.is_overdue()
    assert case.is_overdue(later())


def test_calendar_seed_has_holidays_and_make_up_days(loop: Loop) -> None:
    services.calendar_seed(township=loop.township, years=[2026])
    days = dict(loop.township.working_calendar.days.values_list("date", "kind"))
    assert days[dt.date(2026, 10, 1)] == "holiday"
    assert days[dt.date(2026, 2, 14)] == "workday"  # Saturday before the Spring Festival
    calendar = services.calendar_for(loop.township.pk)
    assert calendar.is_working_day(dt.date(2026, 2, 14))
    assert not calendar.is_working_day(dt.date(2026, 2, 18))
