"""The one write of the evaluation app: the materialised daily figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import fields

from django.db import connection, transaction
from django.db.models import Min
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from civicgrid.cases.models import Case, CaseEvent
from civicgrid.evaluation.formulas import COUNT_FIELDS, Counts, contributions
from civicgrid.evaluation.models import DailyFigure, Level, MaterialiseRun
from civicgrid.evaluation.sources import case_tracks, local_day, reported_on
from civicgrid.geo.models import Grid
from civicgrid.patrol.models import DutyDay, Rule
from civicgrid.people.models import Department

Key = tuple[dt.date, str, int]


class _Unit:
    __slots__ = ("counts", "township", "village")

    def __init__(self, township: int, village: int | None) -> None:
        self.counts = Counts()
        self.township = township
        self.village = village


def figures_compute(
    days: Iterable[dt.date], *, as_of: dt.datetime | None = None
) -> dict[Key, _Unit]:
    """The daily counts of ``days`` per (day, level, unit), from the ledger and duty days."""
    wanted = sorted(set(days))
    units: dict[Key, _Unit] = {}
    if not wanted:
        return units
    departments = {(d.township_id, d.code): d.pk for d in Department.objects.all()}
    for track, township, village in case_tracks(reported_on(wanted), as_of=as_of):
        day = local_day(track.case.reported_at)
        for level, unit, counts in contributions(track):
            if level == Level.DEPARTMENT:
                unit = departments.get((township, str(unit)))
                if unit is None:
                    continue
            key = (day, level, int(unit))  # type: ignore[call-overload]
            found = units.get(key)
            if found is None:
                found = units[key] = _Unit(township, village)
            found.counts.add(counts)
    grids = {g.pk: (g.village.township_id, g.village_id)
             for g in Grid.objects.select_related("village")}  # fmt: skip
    duty = DutyDay.objects.filter(day__in=wanted).exclude(rule=Rule.EXEMPT)
    for day, user, grid, rule in duty.values_list("day", "user_id", "grid_id", "rule"):
        if grid is None or grid not in grids:
            continue
        township, village = grids[grid]
        for key in ((day, Level.GRID.value, grid), (day, Level.ADMINISTRATOR.value, user)):
            found = units.get(key)
            if found is None:
                found = units[key] = _Unit(township, village)
            found.counts.patrol_days += 1
            found.counts.patrol_days_met += int(rule == Rule.MET)
    return units


MATERIALISE_LOCK = "evaluation daily figures"


def _days_locked(days: list[dt.date]) -> None:
    """Hold the rewrite lock of each of ``days`` (sorted) until the transaction ends.

    Two rewrites of one day (a page and the worker, two app servers) would otherwise both
    delete the day's rows and insert their own, and the later insert breaks
    ``daily_figure_unique``. On PostgreSQL the second waits here for the first to commit and
    then reads what it wrote; ascending order keeps two runs over several days from
    deadlocking. SQLite's IMMEDIATE transactions already admit one writer at a time.
    """
    if connection.vendor != "postgresql" or not days:
        return
    if connection.get_autocommit():  # a lock outside a transaction would end at once
        raise TransactionManagementError("Lock the days inside a transaction.")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(hashtext(%s), d)) FROM unnest(%s::int[]) AS d",
            [MATERIALISE_LOCK, [day.toordinal() for day in days]],
        )


@transaction.atomic
def figures_materialise(*, days: Iterable[dt.date], as_of: dt.datetime | None = None) -> int:
    """Rewrite the daily figures of ``days`` (all units at once); returns the rows written."""
    wanted = sorted(set(days))
    moment = as_of or timezone.now()
    _days_locked(wanted)  # before reading: a rewrite that waited reads what the first wrote
    units = figures_compute(wanted, as_of=moment)
    DailyFigure.objects.filter(day__in=wanted).delete()
    rows = []
    for (day, level, unit), found in units.items():
        values = {name: getattr(found.counts, name) for name in COUNT_FIELDS}
        rows.append(
            DailyFigure(
                day=day,
                level=level,
                unit=unit,
                township_id=found.township,
                village_id=found.village,
                close_hours=found.counts.close_hours,
                computed_at=moment,
                **values,
            )
        )
    DailyFigure.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def days_changed_since(moment: dt.datetime | None) -> set[dt.date]:
    """Report days of the cases with an event since ``moment`` and days of new duty figures.

    ``None``: every day with a case or a duty day.
    """
    cases = Case.objects.all()
    duty = DutyDay.objects.all()
    if moment is not None:
        touched = CaseEvent.objects.filter(at__gte=moment).values("case_id")
        cases = cases.filter(pk__in=touched)
        duty = duty.filter(computed_at__gte=moment)
    days = {local_day(at) for at in cases.values_list("reported_at", flat=True).distinct()}
    days |= set(duty.values_list("day", flat=True).distinct())
    return days


def figures_refresh(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """Bring the daily figures up to date since the last run; (days, rows) recomputed.

    Today is always recomputed (its counts change all day); other days when one of their
    cases has a new event. A run starts from the start of the previous one, so an event
    written while the previous run was reading is not missed.
    """
    moment = now or timezone.now()
    last = MaterialiseRun.objects.order_by("-started_at").first()
    days = days_changed_since(last.started_at if last else None)
    days.add(local_day(moment))
    rows = figures_materialise(days=days, as_of=moment)
    MaterialiseRun.objects.create(started_at=moment, days=len(days))
    return len(days), rows


def first_day() -> dt.date | None:
    first = Case.objects.aggregate(first=Min("reported_at"))["first"]
    return local_day(first) if first else None


def counts_between(
    rows: Iterable[DailyFigure],
) -> Counts:
    """The sum of materialised rows as one ``Counts``."""
    total = Counts()
    for row in rows:
        part = Counts(**{f.name: getattr(row, f.name) for f in fields(Counts)})
        total.add(part)
    return total


TODAY_MAX_AGE = dt.timedelta(minutes=5)


def figures_today_refresh(*, now: dt.datetime | None = None) -> bool:
    """Recompute today's figures on demand when they are older than five minutes.

    Today's counts change all day; a page asking for a period that includes today calls
    this instead of waiting for the worker. Returns whether it recomputed. A page that
    finds another rewrite of today running waits for it and then uses its rows.
    """
    moment = now or timezone.now()
    today = local_day(moment)
    if _fresh(today, moment):
        return False
    with transaction.atomic():
        _days_locked([today])
        # Another page or the worker may have rewritten today while this one waited.
        if _fresh(today, moment):
            return False
        figures_materialise(days=[today], as_of=moment)
    return True


def _fresh(day: dt.date, moment: dt.datetime) -> bool:
    latest = (
        DailyFigure.objects.filter(day=day).order_by("-computed_at")
        .values_list("computed_at", flat=True).first()
    )  # fmt: skip
    return latest is not None and moment - latest < TODAY_MAX_AGE
