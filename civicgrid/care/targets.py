"""Who is on which service list on a given day: the age and date arithmetic, no database.

The manual's duty 3 names the groups: children aged 0-6, pregnant women and seniors for the
Social Health Center, and widows, widowers, the motherless or fatherless, households with
special needs and people having a difficult time for customized services. Ages are whole
years on the day (a child is on the 0-6 list up to the day before the 7th birthday); a
pregnancy stays on the list until the expected delivery date plus a window for the
postnatal visits; someone born on 29 February has birthdays on 28 February in other years.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

CHILD_MAX_AGE = 6
SENIOR_AGE = 60
VERY_OLD_AGE = 80
# Days after the expected delivery date a woman stays on the pregnant list: the postnatal
# visit and the 42-day check of the basic public health services.
POSTNATAL_WINDOW_DAYS = 42

# Lists derived from a date and lists of a registry flag (one field each).
FLAG_LISTS = ("disability", "living_alone", "widowed", "orphaned", "low_income", "special_needs")
DATE_LISTS = ("children", "pregnant", "seniors", "seniors80")
LISTS = (*DATE_LISTS, *FLAG_LISTS)
# The Social Health Center's lists (manual, duty 3 and area 5).
HEALTH_LISTS = ("children", "pregnant", "seniors", "seniors80")


def birthday_in(birth: dt.date, year: int) -> dt.date:
    """The birthday in ``year``: 28 February for someone born on 29 February, in a common year."""
    try:
        return birth.replace(year=year)
    except ValueError:
        return birth.replace(year=year, day=28)


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` earlier (28 February for a 29 February)."""
    return birthday_in(day, day.year - years)


def age_on(birth: dt.date, day: dt.date) -> int:
    """Whole years from ``birth`` to ``day``."""
    age = day.year - birth.year
    return age - 1 if birthday_in(birth, day.year) > day else age


def latest_birth_for_age(day: dt.date, age: int) -> dt.date:
    """The latest birth date of someone aged at least ``age`` on ``day``.

    On 28 February of a common year, someone born on 29 February ``age`` years back (a
    leap year) has their birthday today, so the bound is that 29 February.
    """
    latest = birthday_in(day, day.year - age)
    if (day.month, day.day) == (2, 28):
        try:
            leap_day = dt.date(day.year - age, 2, 29)
        except ValueError:
            return latest
        if birthday_in(leap_day, day.year) <= day:
            return leap_day
    return latest


def is_child(birth: dt.date | None, day: dt.date) -> bool:
    return birth is not None and birth <= day and age_on(birth, day) <= CHILD_MAX_AGE


def is_senior(birth: dt.date | None, day: dt.date, *, age: int = SENIOR_AGE) -> bool:
    return birth is not None and age_on(birth, day) >= age


def is_pregnant_listed(due: dt.date | None, day: dt.date) -> bool:
    """On the pregnant list until the due date plus the postnatal window, both included."""
    return due is not None and day <= due + dt.timedelta(days=POSTNATAL_WINDOW_DAYS)


def pregnancy_due_from(day: dt.date) -> dt.date:
    """The earliest due date still on the pregnant list on ``day``."""
    return day - dt.timedelta(days=POSTNATAL_WINDOW_DAYS)


def child_birth_range(day: dt.date) -> tuple[dt.date, dt.date]:
    """Birth dates (earliest, latest) of the children aged 0-6 on ``day``: on the 7th
    birthday a child has left the list."""
    return latest_birth_for_age(day, CHILD_MAX_AGE + 1) + dt.timedelta(days=1), day


def senior_birth_latest(day: dt.date, *, age: int = SENIOR_AGE) -> dt.date:
    return latest_birth_for_age(day, age)


def on_list(
    name: str,
    *,
    birth: dt.date | None,
    due: dt.date | None,
    flags: dict[str, bool],
    day: dt.date,
) -> bool:
    if name == "children":
        return is_child(birth, day)
    if name == "pregnant":
        return is_pregnant_listed(due, day)
    if name == "seniors":
        return is_senior(birth, day)
    if name == "seniors80":
        return is_senior(birth, day, age=VERY_OLD_AGE)
    if name in FLAG_LISTS:
        return bool(flags.get(name))
    raise ValueError(f"unknown list {name}")


class Change(StrEnum):
    """How a person's place on a list changed in a month (``history.change_of``)."""

    NEW = "new"  # on the list now, not a month ago, for a reason other than age
    MOVED_OUT = "moved_out"  # on the list a month ago, moved out since
    AGED_IN = "aged_in"  # joined the list by a birthday (or a birth)
    AGED_OUT = "aged_out"  # left the list by a birthday or the end of the window
    ENDED = "ended"  # left for another reason (a flag cleared)


def month_before(day: dt.date) -> dt.date:
    """The same day a month earlier (the month's last day when it has fewer days)."""
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def coverage_share(households_reached: int, households: int) -> float:
    """The share of a grid's households a campaign reached, 0-1 (capped: repeat visits to
    the same households can add up to more than the grid holds)."""
    if households <= 0:
        return 0.0
    return min(1.0, max(0, households_reached) / households)
