"""The calendars of the duty month page: per administrator, per grid team, per village.

Built from stored staff-days (``services.duty_month_days``); no database here. Which
calendars a page shows follows what the selection holds: one administrator, one team (its
calendar and each member's), one village (its calendar and each team's) or several
villages (one calendar each, to narrow down from).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


class DayFigure(Protocol):
    day: dt.date
    patrol_minutes: float
    good_fixes: int
    rejected_fixes: int
    rule: str


@dataclass(frozen=True)
class DayCell:
    day: dt.date | None  # None: a day of the neighbouring month, left blank
    state: str = "none"  # met, not_met, exempt, partial (teams and villages), none
    hours: float | None = None  # a person's hours on patrol
    met: int = 0  # a team's or village's administrators who met the rule that day …
    counted: int = 0  # … out of those not exempt
    exempt: int = 0
    reason: str = ""  # why the day is exempt
    link: str = ""  # the day's track, for those who may see it


@dataclass(frozen=True)
class Calendar:
    kind: str  # person, team, village
    key: str  # username or code
    title: str
    subtitle: str
    narrow: str  # query string that selects just this calendar's people, or ""
    tally: dict[str, Any]
    weeks: list[list[DayCell]] = field(default_factory=list)
    members: int = 1


@dataclass(frozen=True)
class Member:
    username: str
    full_name: str
    grid_code: str
    grid_name: str
    village_name: str
    days: Sequence[DayFigure]
    exemptions: dict[dt.date, str]  # day → reason label
    track_url: str  # the replay page without its date, or "" when not visible


def weeks_of(first: dt.date) -> list[list[dt.date | None]]:
    """The month's weeks, Monday first, with None for the days outside it."""
    weeks = calendar.Calendar(firstweekday=0).monthdayscalendar(first.year, first.month)
    return [[first.replace(day=d) if d else None for d in week] for week in weeks]


def tally(days: Iterable[DayFigure]) -> dict[str, Any]:
    found = list(days)
    counted = [d for d in found if d.rule != "exempt"]
    return {
        "met": sum(1 for d in counted if d.rule == "met"),
        "not_met": sum(1 for d in counted if d.rule == "not_met"),
        "exempt": len(found) - len(counted),
        "average_minutes": (
            round(sum(d.patrol_minutes for d in counted) / len(counted), 1) if counted else None
        ),
    }


def person_calendar(member: Member, first: dt.date, narrow: str) -> Calendar:
    by_day = {d.day: d for d in member.days}
    weeks = []
    for week in weeks_of(first):
        cells = []
        for day in week:
            figure = by_day.get(day) if day else None
            if day is None or figure is None:
                cells.append(DayCell(day))
                continue
            moved = figure.good_fixes + figure.rejected_fixes > 0
            cells.append(
                DayCell(
                    day,
                    state=figure.rule,
                    hours=round(figure.patrol_minutes / 60, 1),
                    reason=member.exemptions.get(day, ""),
                    link=f"{member.track_url}?date={day.isoformat()}"
                    if member.track_url and moved
                    else "",
                )
            )
        weeks.append(cells)
    return Calendar(
        "person",
        member.username,
        member.full_name or member.username,
        f"{member.username} · {member.grid_name or member.grid_code}",
        narrow,
        tally(member.days),
        weeks,
    )


def group_calendar(
    kind: str, code: str, title: str, members: Sequence[Member], first: dt.date, narrow: str
) -> Calendar:
    per_day: dict[dt.date, list[DayFigure]] = {}
    for member in members:
        for figure in member.days:
            per_day.setdefault(figure.day, []).append(figure)
    weeks = []
    for week in weeks_of(first):
        cells = []
        for day in week:
            figures = per_day.get(day, []) if day else []
            if day is None or not figures:
                cells.append(DayCell(day))
                continue
            met = sum(1 for f in figures if f.rule == "met")
            exempt = sum(1 for f in figures if f.rule == "exempt")
            counted = len(figures) - exempt
            state = (
                "exempt"
                if counted == 0
                else "met"
                if met == counted
                else "not_met"
                if met == 0
                else "partial"
            )
            cells.append(DayCell(day, state=state, met=met, counted=counted, exempt=exempt))
        weeks.append(cells)
    return Calendar(
        kind,
        code,
        title,
        code if title != code else "",
        narrow,
        tally(f for m in members for f in m.days),
        weeks,
        len(members),
    )


def calendars(
    members: Sequence[Member],
    first: dt.date,
    *,
    one_person: bool,
    query: Callable[..., str],
) -> list[Calendar]:
    """The calendars for the selection; ``query(**filters)`` writes a page's query string."""
    teams: dict[str, list[Member]] = {}
    villages: dict[str, list[Member]] = {}
    for member in members:
        teams.setdefault(member.grid_code, []).append(member)
        villages.setdefault(member.grid_code[:12], []).append(member)

    def person(m: Member) -> Calendar:
        return person_calendar(m, first, query(user=m.username))

    def team(code: str) -> Calendar:
        found = teams[code]
        return group_calendar("team", code, found[0].grid_name or code, found, first,
                              query(grid=code))  # fmt: skip

    def village(code: str) -> Calendar:
        found = villages[code]
        return group_calendar("village", code, found[0].village_name or code, found, first,
                              query(village=code))  # fmt: skip

    if one_person or len(members) <= 1:
        return [person(m) for m in members]
    if len(teams) == 1:
        return [team(next(iter(teams))), *(person(m) for m in members)]
    if len(villages) == 1:
        return [village(next(iter(villages))), *(team(code) for code in teams)]
    return [village(code) for code in villages]
