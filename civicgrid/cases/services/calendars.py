"""Working calendars per township and the step deadlines computed on them."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from civicgrid.cases.models import (
    CalendarDay,
    Category,
    WorkingCalendar,
)
from civicgrid.cases.taxonomy import STEP_DEFAULTS, STEP_OF_STATE
from civicgrid.cases.workcalendar import DEFAULT_PERIODS, TimeLimit, WorkCalendar
from civicgrid.geo.models import Township


def _parse_periods(raw: Iterable[Iterable[str]]) -> tuple[tuple[dt.time, dt.time], ...]:
    return tuple((dt.time.fromisoformat(a), dt.time.fromisoformat(b)) for a, b in raw)


def library_days(years: Iterable[int]) -> list[tuple[dt.date, str, str]]:
    """Days off and make-up working days of mainland China from the ``holidays`` package.

    Make-up working days are published by the State Council each autumn for the next year;
    until the package carries them, a year has days off only and the admin adds the rest.
    """
    import holidays

    wanted = set(years)
    table = holidays.China(years=sorted(wanted))
    rows = [(day, CalendarDay.Kind.HOLIDAY, str(name)) for day, name in table.items()]
    rows += [
        (day, CalendarDay.Kind.WORKDAY, "调休上班")
        for day in table.weekend_workdays
        if day.year in wanted
    ]
    return sorted(rows)


@transaction.atomic
def calendar_seed(*, township: Township, years: Iterable[int] | None = None) -> WorkingCalendar:
    """The township's calendar with the days of ``years`` (default this year and next)."""
    this_year = timezone.localdate().year
    chosen = list(years) if years is not None else [this_year, this_year + 1]
    calendar, _created = WorkingCalendar.objects.get_or_create(
        township=township,
        defaults={"periods": [[a.isoformat("minutes"), b.isoformat("minutes")]
                              for a, b in DEFAULT_PERIODS]},
    )  # fmt: skip
    known = set(calendar.days.values_list("date", flat=True))
    CalendarDay.objects.bulk_create(
        CalendarDay(calendar=calendar, date=day, kind=kind, name=name[:100])
        for day, kind, name in library_days(chosen)
        if day not in known
    )
    calendar_forget(township.pk)
    return calendar


# Calendars change a few times a year; each process keeps them for a minute.
CALENDAR_TTL = 60.0
_calendars: dict[int, tuple[float, WorkCalendar]] = {}


def calendar_forget(township_id: int | None = None) -> None:
    if township_id is None:
        _calendars.clear()
    else:
        _calendars.pop(township_id, None)


def calendar_for(township_id: int) -> WorkCalendar:
    cached = _calendars.get(township_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    calendar = _calendar_load(township_id)
    _calendars[township_id] = (time.monotonic() + CALENDAR_TTL, calendar)
    return calendar


def _calendar_load(township_id: int) -> WorkCalendar:
    tz = timezone.get_default_timezone()
    calendar = WorkingCalendar.objects.filter(township_id=township_id).first()
    if calendar is None:
        return WorkCalendar.build(tz=tz)
    days = list(calendar.days.values_list("date", "kind"))
    return WorkCalendar.build(
        tz=tz,
        periods=_parse_periods(calendar.periods) if calendar.periods else DEFAULT_PERIODS,
        holidays=[d for d, k in days if k == CalendarDay.Kind.HOLIDAY],
        workdays=[d for d, k in days if k == CalendarDay.Kind.WORKDAY],
    )


def step_limit(category: Category, urgency: str, step: str) -> TimeLimit:
    configured = (category.limits or {}).get(urgency, {}).get(step)
    return TimeLimit.parse(configured or STEP_DEFAULTS[urgency].get(step, "1d"))


def step_deadline(
    *, township_id: int, category: Category, urgency: str, state: str, start: dt.datetime
) -> dt.datetime | None:
    step = STEP_OF_STATE.get(state)
    if step is None:
        return None
    return calendar_for(township_id).add(start, step_limit(category, urgency, step))
