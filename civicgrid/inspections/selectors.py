"""Reads of the inspections, always through the caller's grids: templates, visits,
findings, what is due, the report, and the figures the evaluation reads."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max, Prefetch, Q, QuerySet
from django.utils import timezone

from civicgrid.geo.models import DivisionVersion, Grid
from civicgrid.inspections import due as rules
from civicgrid.inspections.defaults import FREQUENCIES
from civicgrid.inspections.models import (
    Answer,
    Finding,
    FindingState,
    Frequency,
    Item,
    Risk,
    Severity,
    Template,
    Visit,
)
from civicgrid.people.models import User
from civicgrid.people.scopes import current_assignments, grids_visible_to
from civicgrid.registry import selectors as registry
from civicgrid.registry.models import House, LegalPerson, Site

PREMISES_FIELD = {"house": "house_id", "legal_person": "legal_person_id", "site": "site_id"}


# ---- templates, visits, findings ------------------------------------------------------------


def templates_in_use() -> QuerySet[Template]:
    return Template.objects.filter(active=True).prefetch_related("items").order_by("area")


def visits_for(
    user: User,
    *,
    grid: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[Visit]:
    qs = Visit.objects.filter(grid__in=grids_visible_to(user)).select_related(
        "template", "grid", "inspector"
    )
    if grid:
        qs = qs.filter(grid__code=grid)
    if since is not None:
        qs = qs.filter(visited_at__gte=since)
    if until is not None:
        qs = qs.filter(visited_at__lt=until)
    return qs.order_by("-visited_at", "-pk")


def visit_for(user: User, number: str) -> Visit | None:
    """One visit with the answers and the items of the version it was filled with."""
    return (
        visits_for(user)
        .select_related("grid__village")
        .prefetch_related(
            Prefetch(
                "answers", queryset=Answer.objects.select_related("item").order_by("item__position")
            ),
            "findings",
        )
        .filter(number=number)
        .first()
    )


def findings_for(
    user: User, *, state: str | None = None, grid: str | None = None, area: str | None = None
) -> QuerySet[Finding]:
    qs = Finding.objects.filter(grid__in=grids_visible_to(user)).select_related(
        "visit", "item", "grid", "case"
    )
    if state:
        qs = qs.filter(state=state)
    if grid:
        qs = qs.filter(grid__code=grid)
    if area:
        qs = qs.filter(area=area)
    return qs.order_by("-created_at", "-pk")


# ---- due -------------------------------------------------------------------------------------


def frequencies() -> dict[tuple[str, str], int]:
    found = {(f.area, f.risk): f.every_days for f in Frequency.objects.all()}
    for area, (high, normal) in FREQUENCIES.items():
        found.setdefault((area, Risk.HIGH), high)
        found.setdefault((area, Risk.NORMAL), normal)
    return found


def _local_day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def due_in_grids(
    grids: QuerySet[Grid], *, before: dt.datetime | None = None, today: dt.date | None = None
) -> list[rules.Due]:
    """Every premises × area of the grids with its next due day, and the re-inspections.

    ``before`` counts only visits and findings before that moment (for figures of a past
    period); ``today`` decides which licences count as expired.
    """
    day = today or timezone.localdate()
    visits = Visit.objects.all()
    findings = Finding.objects.filter(state=FindingState.OPEN)
    if before is not None:
        visits = visits.filter(visited_at__lt=before)
        findings = Finding.objects.filter(created_at__lt=before).filter(
            Q(state=FindingState.OPEN) | Q(rectified_at__gte=before) | Q(escalated_at__gte=before)
        )
    last: dict[tuple[str, int, str], dt.date] = {}
    for row in visits.values("premises_kind", "house_id", "legal_person_id", "site_id",
                             "template__area").annotate(last=Max("visited_at")):  # fmt: skip
        pk = row[PREMISES_FIELD[row["premises_kind"]]]  # type: ignore[literal-required]
        last[(row["premises_kind"], pk, row["template__area"])] = _local_day(row["last"])
    open_findings: dict[tuple[str, int, str], list[Finding]] = defaultdict(list)
    for f in findings.select_related("visit"):
        v = f.visit
        open_findings[(v.premises_kind, v.premises_id, f.area)].append(f)
    every = frequencies()
    out: list[rules.Due] = []

    def add(kind: str, pk: int, name: str, grid_id: int, areas: tuple[str, ...],
            registered: dt.date, high: set[str], point: tuple[float, float]) -> None:  # fmt: skip
        for area in areas:
            key = (kind, pk, area)
            pending = open_findings.get(key, [])
            risk = Risk.HIGH if pending or area in high else Risk.NORMAL
            due_on = rules.next_due(last_visit=last.get(key), registered_on=registered,
                                    every_days=every[(area, risk)])  # fmt: skip
            out.append(rules.Due(kind, pk, name, grid_id, area, risk, last.get(key), due_on,
                                 lon=point[0], lat=point[1]))  # fmt: skip
            for f in pending:
                if f.severity == Severity.RECTIFY and f.rectify_by is not None:
                    again = _local_day(f.rectify_by)
                    out.append(rules.Due(kind, pk, name, grid_id, area, Risk.HIGH, last.get(key),
                                         again, reinspection=True, notice=f.notice_number,
                                         lon=point[0], lat=point[1]))  # fmt: skip

    houses = House.objects.filter(grid__in=grids, use__in=(*rules.RENTAL_USES, "business"))
    for h in houses.only("pk", "code", "address", "grid_id", "use", "rental_registered",
                         "rental_tenants", "created_at", "lon", "lat"):  # fmt: skip
        hidden = h.use in rules.RENTAL_USES and (
            not h.rental_registered or h.rental_tenants >= rules.CROWDED_TENANTS
        )
        high = {"01", "02"} if hidden else set()
        add("house", h.pk, f"{h.code} {h.address}", h.grid_id, rules.house_areas(h.use),
            _local_day(h.created_at), high, (h.lon, h.lat))  # fmt: skip
    legal = (
        LegalPerson.objects.filter(house__grid__in=grids, closed_on__isnull=True)
        .select_related("house")
        .prefetch_related("licences")
    )
    for lp in legal:
        problems = registry.licence_problems(lp, today=day)
        high = set(rules.LICENCE_AREAS) if problems else set()
        add("legal_person", lp.pk, lp.name, lp.house.grid_id,
            rules.legal_person_areas(lp.industry, lp.employees), _local_day(lp.created_at), high,
            (lp.house.lon, lp.house.lat))  # fmt: skip
    for s in Site.objects.filter(grid__in=grids, closed_on__isnull=True):
        expired = not s.permit_number or (
            s.permit_expires_on is not None and s.permit_expires_on < day
        )
        high = set(rules.site_areas(s.kind)) if (s.demolition or expired) else set()
        add("site", s.pk, s.name, s.grid_id, rules.site_areas(s.kind), _local_day(s.created_at),
            high, (s.lon, s.lat))  # fmt: skip
    return out


def _active(grids: QuerySet[Grid]) -> QuerySet[Grid]:
    return grids.filter(division__status=DivisionVersion.Status.ACTIVE)


def grids_of_administrator(user: User, administrator: User) -> QuerySet[Grid]:
    served = current_assignments().filter(user=administrator).values("grid_id")
    return grids_visible_to(user).filter(pk__in=served)


def due_for(
    user: User,
    *,
    grid: str | None = None,
    administrator: User | None = None,
    within_days: int | None = None,
    today: dt.date | None = None,
) -> list[rules.Due]:
    """What is due (and overdue) in the user's grids, a grid, or an administrator's grids;
    ``within_days`` keeps what falls due up to that many days ahead. Overdue first."""
    day = today or timezone.localdate()
    grids = grids_visible_to(user)
    if administrator is not None:
        grids = grids_of_administrator(user, administrator)
    if grid:
        grids = grids.filter(code=grid)
    items = due_in_grids(_active(grids), today=day)
    if within_days is not None:
        horizon = day + dt.timedelta(days=within_days)
        items = [d for d in items if d.due_on <= horizon]
    return sorted(items, key=lambda d: (d.due_on, d.area, d.name))


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (walking distances within a grid: close enough)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


def due_this_week(
    user: User, *, lon: float | None = None, lat: float | None = None, today: dt.date | None = None
) -> list[tuple[rules.Due, float | None]]:
    """The field home's list: due within 7 days in the grids the user serves, nearest first
    from the user's position (by due day without one)."""
    items = due_for(user, administrator=user, within_days=7, today=today)
    if lon is None or lat is None:
        return [(d, None) for d in items]
    measured = [
        (d, distance_m(lon, lat, d.lon, d.lat) if d.lon is not None and d.lat is not None else None)
        for d in items
    ]
    return sorted(measured, key=lambda p: (p[1] is None, p[1] or 0.0, p[0].due_on))


# ---- reports and figures ----------------------------------------------------------------------


def _range(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    begin = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    finish = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return begin, finish


@dataclass
class Figures:
    visits: int = 0
    due: int = 0
    due_visited: int = 0
    findings: int = 0
    rectify_due: int = 0
    rectified: int = 0
    rectified_in_time: int = 0
    rectify_days: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "visits": self.visits,
            "due": self.due,
            "due_visited": self.due_visited,
            "due_visited_share": round(self.due_visited / self.due, 3) if self.due else None,
            "findings": self.findings,
            "rectify_due": self.rectify_due,
            "rectified": self.rectified,
            "rectified_in_time": self.rectified_in_time,
            "rectification_rate": round(self.rectified / self.rectify_due, 3)
            if self.rectify_due
            else None,
            "mean_days_to_rectify": round(sum(self.rectify_days) / len(self.rectify_days), 1)
            if self.rectify_days
            else None,
        }


@dataclass
class Report:
    start: dt.date
    end: dt.date
    total: Figures
    by_grid: dict[str, Figures]
    by_area: dict[str, Figures]
    by_administrator: dict[str, Figures]
    by_month: dict[str, Figures]
    findings_by_area_severity: dict[tuple[str, str], int]


def report_for_grids(grids: QuerySet[Grid], *, start: dt.date, end: dt.date) -> Report:
    """Figures of the inspections in ``grids`` from ``start`` to ``end`` (local days,
    inclusive).

    - visits: visits made in the period; per administrator, their own visits.
    - due: premises × area due on a day up to ``end`` counting the visits before the
      period (overdue at its start included); due_visited: those visited in the period.
      Per administrator: what is due in the grids they serve.
    - findings: failed items found in the period.
    - rectify_due: rectification notices whose deadline fell in the period; rectified, and
      rectified in time (by the deadline); mean days from notice to rectification.
    """
    begin, finish = _range(start, end)
    grid_codes = dict(grids.values_list("pk", "code"))
    by_grid: dict[str, Figures] = defaultdict(Figures)
    by_area: dict[str, Figures] = defaultdict(Figures)
    by_admin: dict[str, Figures] = defaultdict(Figures)
    by_month: dict[str, Figures] = defaultdict(Figures)
    total = Figures()
    visits = Visit.objects.filter(grid__in=grids, visited_at__gte=begin, visited_at__lt=finish)
    visited: set[tuple[str, int, str]] = set()
    for v in visits.select_related("template", "inspector"):
        month = f"{timezone.localtime(v.visited_at):%Y-%m}"
        for bucket in (total, by_grid[grid_codes[v.grid_id]], by_area[v.template.area],
                       by_admin[v.inspector.username], by_month[month]):  # fmt: skip
            bucket.visits += 1
        visited.add((v.premises_kind, v.premises_id, v.template.area))
    served: dict[int, set[str]] = defaultdict(set)
    for grid_id, username in (
        current_assignments(on=end).filter(grid__in=grids).values_list("grid_id", "user__username")
    ):
        served[grid_id].add(username)
    for d in due_in_grids(grids, before=begin, today=start):
        if d.reinspection or d.due_on > end:
            continue
        done = (d.premises_kind, d.premises_id, d.area) in visited
        buckets = [total, by_grid[grid_codes.get(d.grid_id, "?")], by_area[d.area]]
        buckets += [by_admin[name] for name in served.get(d.grid_id, ())]
        for bucket in buckets:
            bucket.due += 1
            bucket.due_visited += int(done)
    severity_counts: Counter[tuple[str, str]] = Counter()
    found = Finding.objects.filter(grid__in=grids, created_at__gte=begin, created_at__lt=finish)
    for f in found.select_related("visit__inspector"):
        month = f"{timezone.localtime(f.created_at):%Y-%m}"
        for bucket in (total, by_grid[grid_codes[f.grid_id]], by_area[f.area],
                       by_admin[f.visit.inspector.username], by_month[month]):  # fmt: skip
            bucket.findings += 1
        severity_counts[(f.area, f.severity)] += 1
    notices = Finding.objects.filter(
        grid__in=grids, severity=Severity.RECTIFY, rectify_by__gte=begin, rectify_by__lt=finish
    ).select_related("visit__inspector")
    for f in notices:
        month = f"{timezone.localtime(f.rectify_by):%Y-%m}"
        buckets = (total, by_grid[grid_codes[f.grid_id]], by_area[f.area],  # type: ignore[assignment]
                   by_admin[f.visit.inspector.username], by_month[month])  # fmt: skip
        for bucket in buckets:
            bucket.rectify_due += 1
            if f.rectified_at is not None:
                bucket.rectified += 1
                bucket.rectify_days.append((f.rectified_at - f.created_at).total_seconds() / 86400)
                if f.rectify_by is not None and f.rectified_at <= f.rectify_by:
                    bucket.rectified_in_time += 1
    return Report(start, end, total, dict(sorted(by_grid.items())), dict(sorted(by_area.items())),
                  dict(sorted(by_admin.items())), dict(sorted(by_month.items())),
                  dict(sorted(severity_counts.items())))  # fmt: skip


def report_for(user: User, *, start: dt.date, end: dt.date, grid: str | None = None) -> Report:
    grids = _active(grids_visible_to(user))
    if grid:
        grids = grids.filter(code=grid)
    return report_for_grids(grids, start=start, end=end)


def inspection_figures(
    *, start: dt.date, end: dt.date, township_id: int | None = None
) -> dict[str, dict[str, dict[str, Any]]]:
    """The figures the evaluation reads, per grid code and per administrator's username,
    for ``start``–``end`` (local days, inclusive): ``visits``, ``due``, ``due_visited``,
    ``findings``, ``rectify_due``, ``rectified``, ``rectified_in_time`` (and the shares).
    See ``report_for_grids`` for the definitions. No scope: the caller decides who sees it.
    """
    grids = _active(Grid.objects.all())
    if township_id is not None:
        grids = grids.filter(village__township_id=township_id)
    report = report_for_grids(grids, start=start, end=end)
    return {
        "grids": {code: f.as_dict() for code, f in report.by_grid.items()},
        "administrators": {name: f.as_dict() for name, f in report.by_administrator.items()},
    }


def items_of(template: Template) -> list[Item]:
    return list(template.items.all())
