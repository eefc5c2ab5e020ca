"""The list arithmetic at its boundaries, without a database."""

from __future__ import annotations

import datetime as dt

import pytest

from civicgrid.care import targets

D = dt.date


def test_a_child_leaves_the_list_on_the_seventh_birthday() -> None:
    birth = D(2019, 5, 10)
    assert targets.is_child(birth, D(2026, 5, 9))
    assert not targets.is_child(birth, D(2026, 5, 10))
    earliest, latest = targets.child_birth_range(D(2026, 5, 10))
    assert earliest == D(2019, 5, 11) and latest == D(2026, 5, 10)


def test_a_newborn_is_on_the_list_and_an_unborn_is_not() -> None:
    assert targets.is_child(D(2026, 5, 10), D(2026, 5, 10))
    assert not targets.is_child(D(2026, 5, 11), D(2026, 5, 10))


@pytest.mark.parametrize(
    ("day", "on_list"),
    [(D(2027, 2, 27), True), (D(2027, 2, 28), False), (D(2027, 3, 1), False)],
)
def test_a_leap_day_child_leaves_on_28_february_of_a_common_year(
    day: dt.date, on_list: bool
) -> None:
    birth = D(2020, 2, 29)
    assert targets.is_child(birth, day) is on_list
    earliest, _latest = targets.child_birth_range(day)
    assert (birth >= earliest) is on_list


def test_range_and_predicate_agree_on_every_day_of_four_years() -> None:
    births = [D(2019, 1, 1) + dt.timedelta(days=n) for n in range(0, 400, 7)] + [D(2020, 2, 29)]
    day = D(2026, 1, 1)
    while day < D(2028, 3, 5):
        earliest, latest = targets.child_birth_range(day)
        senior = targets.senior_birth_latest(day, age=7)
        for birth in births:
            assert targets.is_child(birth, day) == (earliest <= birth <= latest), (birth, day)
            assert targets.is_senior(birth, day, age=7) == (birth <= senior), (birth, day)
        day += dt.timedelta(days=1)


def test_seniors_join_on_the_60th_and_80th_birthday() -> None:
    birth = D(1966, 8, 1)
    assert not targets.is_senior(birth, D(2026, 7, 31))
    assert targets.is_senior(birth, D(2026, 8, 1))
    assert targets.is_senior(D(1946, 8, 1), D(2026, 8, 1), age=80)
    assert not targets.is_senior(D(1946, 8, 2), D(2026, 8, 1), age=80)


def test_a_pregnancy_stays_listed_until_the_due_date_plus_the_window() -> None:
    due = D(2026, 6, 1)
    last = due + dt.timedelta(days=targets.POSTNATAL_WINDOW_DAYS)
    assert targets.is_pregnant_listed(due, last)
    assert not targets.is_pregnant_listed(due, last + dt.timedelta(days=1))
    assert targets.pregnancy_due_from(last) == due


def test_month_before_keeps_to_the_shorter_month() -> None:
    assert targets.month_before(D(2026, 3, 31)) == D(2026, 2, 28)
    assert targets.month_before(D(2026, 1, 15)) == D(2025, 12, 15)


@pytest.mark.parametrize(
    ("reached", "households", "share"),
    [(0, 400, 0.0), (100, 400, 0.25), (500, 400, 1.0), (10, 0, 0.0)],
)
def test_coverage_share_is_capped_at_the_grid(reached: int, households: int, share: float) -> None:
    assert targets.coverage_share(reached, households) == share
