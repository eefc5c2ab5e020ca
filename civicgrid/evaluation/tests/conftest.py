"""The cases app's personas (``loop``) and a clock the tests move by hand."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from civicgrid.cases.tests.conftest import loop  # noqa: F401  (a fixture)

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def monday_weeks_back(weeks: int = 2) -> dt.date:
    day = timezone.localdate() - dt.timedelta(weeks=weeks)
    return day - dt.timedelta(days=day.weekday())


class HandClock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start
        self.day1 = start.date()  # a Monday two weeks back (staff got field rights before)

    def at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        self.now = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)
        return self.now

    def advance(self, minutes: int) -> dt.datetime:
        self.now += dt.timedelta(minutes=minutes)
        return self.now


@pytest.fixture
def hand_clock(monkeypatch) -> HandClock:
    """``timezone.now`` at fixed moments a few weeks back (never near today's midnight)."""
    clock = HandClock(dt.datetime.combine(monday_weeks_back(), dt.time(9), tzinfo=SHANGHAI))
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    return clock


def few_and_many(loop, hand_clock: HandClock, measure):  # noqa: F811  (loop is the fixture's value)
    """``measure()`` over two days of figures: once with 10 mixed cases, then with 100, each
    time after materialising the days (issue 20's query-count tests)."""
    from civicgrid.cases.tests.test_list_reads import _mixed_cases
    from civicgrid.evaluation import services

    day1, day2 = hand_clock.day1, hand_clock.day1 + dt.timedelta(days=1)
    results = []
    for count, (report_hour, materialise_hour) in [(10, (9, 18)), (90, (15, 19))]:
        hand_clock.at(day1, report_hour)
        _mixed_cases(loop, count)
        hand_clock.at(day2, materialise_hour)
        services.figures_materialise(days=[day1, day2])
        results.append(measure())
    return results[0], results[1]
