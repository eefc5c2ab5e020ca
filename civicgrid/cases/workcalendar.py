"""Working-time arithmetic on a township calendar, with no database.

A day is a working day when it is a make-up working day (调休上班), or a Monday to Friday
that is not a public holiday. Working hours are one or more periods per day (08:30–12:00,
14:00–17:30). Deadlines:

- *N working hours* from an instant: walk forward through the working periods, counting
  only time inside them.
- *N working days* from an instant: the instant is first moved to the next working time
  (a report at 20:00 on Friday starts Monday 08:30); the deadline is the same time of day
  on the N-th following working day.

All functions take and return aware datetimes; they work in the calendar's time zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

DEFAULT_PERIODS = ((dt.time(8, 30), dt.time(12, 0)), (dt.time(14, 0), dt.time(17, 30)))
# A deadline search never walks further than this: a calendar with no working day at all
# is a configuration error, not an endless loop.
MAX_DAYS = 3660
SHANGHAI = ZoneInfo("Asia/Shanghai")


class CalendarError(ValueError):
    pass


@dataclass(frozen=True)
class WorkCalendar:
    tz: dt.tzinfo = SHANGHAI
    periods: tuple[tuple[dt.time, dt.time], ...] = DEFAULT_PERIODS
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    workdays: frozenset[dt.date] = field(default_factory=frozenset)  # make-up working days

    def __post_init__(self) -> None:
        previous_end: dt.time | None = None
        for start, end in self.periods:
            if start >= end or (previous_end is not None and start < previous_end):
                raise CalendarError("Working periods must be ordered and not overlap.")
            previous_end = end
        if not self.periods:
            raise CalendarError("A calendar needs at least one working period.")

    @classmethod
    def build(
        cls,
        *,
        tz: dt.tzinfo,
        periods: Iterable[tuple[dt.time, dt.time]] = DEFAULT_PERIODS,
        holidays: Iterable[dt.date] = (),
        workdays: Iterable[dt.date] = (),
    ) -> WorkCalendar:
        return cls(tz, tuple(periods), frozenset(holidays), frozenset(workdays))

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def hours_per_day(self) -> float:
        return sum(_seconds(s, e) for s, e in self.periods) / 3600

    def _local(self, moment: dt.datetime) -> dt.datetime:
        if moment.tzinfo is None:
            raise CalendarError("Naive datetime: pass an aware one.")
        return moment.astimezone(self.tz)

    def _at(self, day: dt.date, time: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, time, tzinfo=self.tz)

    def next_working_time(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` itself when inside working hours, else the start of the next period."""
        local = self._local(moment)
        day = local.date()
        for _ in range(MAX_DAYS):
            if self.is_working_day(day):
                for start, end in self.periods:
                    begin, finish = self._at(day, start), self._at(day, end)
                    if local < finish:
                        return max(local, begin)
            day += dt.timedelta(days=1)
            local = self._at(day, dt.time(0, 0))
        raise CalendarError("No working day within ten years.")

    def add_working_hours(self, moment: dt.datetime, hours: float) -> dt.datetime:
        if hours < 0:
            raise CalendarError("Hours must not be negative.")
        remaining = dt.timedelta(hours=hours)
        current = self.next_working_time(moment)
        for _ in range(MAX_DAYS * len(self.periods)):
            day = current.date()
            period_end = next(
                self._at(day, end)
                for start, end in self.periods
                if self._at(day, start) <= current < self._at(day, end)
            )
            available = period_end - current
            if remaining <= available:
                return current + remaining
            remaining -= available
            current = self.next_working_time(period_end)
        raise CalendarError("No working time within ten years.")

    def add_working_days(self, moment: dt.datetime, days: int) -> dt.datetime:
        if days < 0:
            raise CalendarError("Days must not be negative.")
        start = self.next_working_time(moment)
        day = start.date()
        counted = 0
        for _ in range(MAX_DAYS):
            if counted == days:
                return self._at(day, start.timetz().replace(tzinfo=None))
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        raise CalendarError("No working day within ten years.")

    def working_hours_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Working hours elapsed from ``start`` to ``end`` (0 when ``end`` is earlier)."""
        a, b = self._local(start), self._local(end)
        if b <= a:
            return 0.0
        total = 0.0
        day = a.date()
        while day <= b.date():
            if self.is_working_day(day):
                for s, e in self.periods:
                    lo = max(a, self._at(day, s))
                    hi = min(b, self._at(day, e))
                    if hi > lo:
                        total += (hi - lo).total_seconds()
            day += dt.timedelta(days=1)
        return total / 3600

    def add(self, moment: dt.datetime, limit: TimeLimit) -> dt.datetime:
        if limit.unit == "h":
            return self.add_working_hours(moment, limit.amount)
        return self.add_working_days(moment, limit.amount)


@dataclass(frozen=True)
class TimeLimit:
    """``4h`` is four working hours, ``7d`` seven working days."""

    amount: int
    unit: str

    @classmethod
    def parse(cls, text: str) -> TimeLimit:
        raw = text.strip().lower()
        if len(raw) < 2 or raw[-1] not in "hd" or not raw[:-1].isdigit():
            raise CalendarError(f"{text!r} is not a time limit like 4h or 7d.")
        amount = int(raw[:-1])
        if amount <= 0:
            raise CalendarError(f"{text!r}: a time limit must be positive.")
        return cls(amount, raw[-1])

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


def _seconds(start: dt.time, end: dt.time) -> float:
    return (
        dt.datetime.combine(dt.date.min, end) - dt.datetime.combine(dt.date.min, start)
    ).total_seconds()
