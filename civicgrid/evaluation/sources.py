"""Reading the other apps' records into the plain rows of ``formulas``.

The ledger (``cases.CaseEvent``) is read through its model, the deadlines through the
cases app's calendar and time limits, the duty days through the patrol model; nothing here
writes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from django.db.models import Q
from django.utils import timezone

from civicgrid.cases.models import Case, CaseEvent, Category
from civicgrid.cases.services import calendar_for, step_limit
from civicgrid.cases.workcalendar import WorkCalendar
from civicgrid.evaluation.formulas import CaseInfo, CaseTrack, Event, case_track

BATCH = 2000


class TownshipClock:
    """``formulas.Clock`` on a township's working calendar and the categories' limits."""

    def __init__(self, township_id: int) -> None:
        self.calendar: WorkCalendar = calendar_for(township_id)
        self.categories = {c.code: c for c in Category.objects.all()}
        self._deadline = lru_cache(maxsize=65536)(self._compute_deadline)

    def _compute_deadline(
        self, step: str, start: dt.datetime, category: str, urgency: str
    ) -> dt.datetime | None:
        found = self.categories.get(category)
        if found is None:
            return None
        return self.calendar.add(start, step_limit(found, urgency or "normal", step))

    def deadline(
        self, step: str, start: dt.datetime, category: str, urgency: str
    ) -> dt.datetime | None:
        return self._deadline(step, start, category, urgency)

    def extend(self, deadline: dt.datetime | None, at: dt.datetime, days: int) -> dt.datetime:
        return self.calendar.add_working_days(max(deadline or at, at), days)

    def hours(self, start: dt.datetime, end: dt.datetime) -> float:
        return round(self.calendar.working_hours_between(start, end), 2)


def local_day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def day_bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The instants from the start of ``first`` to the start of the day after ``last``."""
    tz = timezone.get_default_timezone()
    start = dt.datetime.combine(first, dt.time(0), tzinfo=tz)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    return start, end


def _event(case_id: int, row: tuple[Any, ...]) -> Event:
    seq, at, action, role, actor, payload = row
    payload = payload or {}
    rating = payload.get("rating")
    days = payload.get("working_days")
    return Event(
        case=case_id,
        seq=seq,
        at=at,
        action=action,
        role=role,
        actor=actor,
        department=payload.get("department"),
        category=payload.get("category"),
        urgency=payload.get("urgency"),
        rating=int(rating) if rating is not None else None,
        working_days=int(days) if days is not None else None,
    )


def ledger_rows(cases: Q) -> Iterator[tuple[CaseInfo, list[Event], int, int | None]]:
    """(case, its events, township id, village id) for the cases matching ``cases``."""
    rows = (
        Case.objects.filter(cases)
        .order_by("pk")
        .values_list(
            "pk", "reported_at", "grid_id", "reporter_id", "reporter_kind",
            "category__code", "urgency", "township_id", "village_id",
        )
    )  # fmt: skip
    batch: list[tuple[Any, ...]] = []
    for row in rows.iterator(chunk_size=BATCH):
        batch.append(row)
        if len(batch) == BATCH:
            yield from _with_events(batch)
            batch = []
    if batch:
        yield from _with_events(batch)


def _with_events(
    batch: list[tuple[Any, ...]],
) -> Iterator[tuple[CaseInfo, list[Event], int, int | None]]:
    events: dict[int, list[Event]] = defaultdict(list)
    found = (
        CaseEvent.objects.filter(case_id__in=[row[0] for row in batch])
        .order_by("case_id", "seq")
        .values_list("case_id", "seq", "at", "action", "role", "actor_id", "payload")
    )
    for case_id, *rest in found:
        events[case_id].append(_event(case_id, tuple(rest)))
    for pk, reported_at, grid, reporter, kind, category, urgency, township, village in batch:
        info = CaseInfo(
            id=pk,
            reported_at=reported_at,
            grid=grid,
            reporter=reporter,
            reporter_kind=kind,
            category=category,
            urgency=urgency,
        )
        yield info, events[pk], township, village


def case_tracks(
    cases: Q, *, as_of: dt.datetime | None = None
) -> Iterator[tuple[CaseTrack, int, int | None]]:
    """Each matching case's track, with its township and village ids."""
    moment = as_of or timezone.now()
    clocks: dict[int, TownshipClock] = {}
    for info, events, township, village in ledger_rows(cases):
        clock = clocks.get(township)
        if clock is None:
            clock = clocks[township] = TownshipClock(township)
        yield case_track(info, events, clock, moment), township, village


def reported_between(first: dt.date, last: dt.date) -> Q:
    start, end = day_bounds(first, last)
    return Q(reported_at__gte=start, reported_at__lt=end)


def reported_on(days: Iterable[dt.date]) -> Q:
    condition = Q(pk__in=[])
    for day in sorted(set(days)):
        condition |= reported_between(day, day)
    return condition
