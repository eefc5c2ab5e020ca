"""Working-time arithmetic across weekends, public holidays and make-up working days."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicgrid.cases.workcalendar import CalendarError, TimeLimit, WorkCalendar

TZ = ZoneInfo("Asia/Shanghai")
# 2026 National Day: 1–7 October off (Thu–Wed), Saturday 10 October a make-up working day.
NATIONAL_DAY = [dt.date(2026, 10, d) for d in range(1, 8)]
CAL = WorkCalendar.build(tz=TZ, holidays=NATIONAL_DAY, workdays=[dt.date(2026, 10, 10)])


def at(day: int, hour: int, minute: int = 0, month: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=TZ)


def test_hours_within_one_morning() -> None:
    assert CAL.add_working_hours(at(12, 9), 2) == at(12, 11)


def test_hours_skip_the_lunch_break() -> None:
    assert CAL.add_working_hours(at(12, 11), 2) == at(12, 15)


def test_hours_carry_over_the_weekend() -> None:
    # Friday 16 October 16:30 + 4 h: one hour on Friday, three on Monday morning.
    assert CAL.add_working_hours(at(16, 16, 30), 4) == at(19, 11, 30)


def test_hours_skip_the_holiday_and_use_the_make_up_saturday() -> None:
    # Wednesday 30 September 17:00 + 1 h: 30 min that day, then 1–9 Oct are off (the
    # weekend 3–4 inside the holiday, 8–9 Thu/Fri are working days).
    assert CAL.add_working_hours(at(30, 17, 0, month=9), 1) == at(8, 9, 0)


def test_make_up_saturday_is_a_working_day() -> None:
    assert CAL.is_working_day(dt.date(2026, 10, 10))
    assert not CAL.is_working_day(dt.date(2026, 10, 11))
    assert not CAL.is_working_day(dt.date(2026, 10, 5))


def test_report_in_the_evening_starts_next_morning() -> None:
    assert CAL.next_working_time(at(9, 20)) == at(10, 8, 30)  # Friday night → make-up Sat


def test_days_keep_the_time_of_day() -> None:
    assert CAL.add_working_days(at(12, 10), 1) == at(13, 10)
    assert CAL.add_working_days(at(16, 10), 1) == at(19, 10)  # Friday → Monday


def test_days_across_the_holiday() -> None:
    # Tuesday 29 September 10:00 + 3 working days: 30 Sep, 8 Oct, 9 Oct.
    assert CAL.add_working_days(at(29, 10, month=9), 3) == at(9, 10)


def test_seven_working_days_is_nine_calendar_days_over_a_weekend() -> None:
    assert CAL.add_working_days(at(12, 9), 7) == at(21, 9)


def test_working_hours_between_counts_only_working_time() -> None:
    assert CAL.working_hours_between(at(16, 16), at(19, 10)) == pytest.approx(3.0)
    assert CAL.working_hours_between(at(19, 10), at(16, 16)) == 0


def test_time_limit_parsing() -> None:
    assert TimeLimit.parse("4h") == TimeLimit(4, "h")
    assert str(TimeLimit.parse(" 20D ")) == "20d"
    for bad in ("", "h", "4", "-1d", "0h", "4w"):
        with pytest.raises(CalendarError):
            TimeLimit.parse(bad)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(CalendarError):
        CAL.add_working_hours(dt.datetime(2026, 10, 12, 9), 1)


def test_overlapping_periods_are_refused() -> None:
    with pytest.raises(CalendarError):
        WorkCalendar.build(tz=TZ, periods=[(dt.time(9), dt.time(12)), (dt.time(11), dt.time(13))])


moments = st.datetimes(
    min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 1), timezones=st.just(TZ)
)


@given(moments, st.integers(min_value=1, max_value=80))
def test_added_hours_are_exactly_that_much_working_time(start: dt.datetime, hours: int) -> None:
    end = CAL.add_working_hours(start, hours)
    assert CAL.working_hours_between(start, end) == pytest.approx(hours, abs=1e-6)


@given(moments, st.integers(min_value=0, max_value=30))
def test_added_days_land_on_a_working_day_in_working_hours(start: dt.datetime, days: int) -> None:
    end = CAL.add_working_days(start, days)
    assert CAL.is_working_day(end.date()) and CAL.next_working_time(end) == end
    assert end >= start
