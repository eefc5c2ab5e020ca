"""The records behind one figure of one unit: cases, duty days, inspections, households
visited, registry records; each row linked to the page the viewer may open, or to none.

Every list answers to the same scope check as the table: the level must be one the viewer
sees and the unit one of the table's rows. A list holds at most ``LIST_LIMIT`` rows but
says how many there are (``total``), which is the figure it stands behind.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicgrid.core.errors import ValidationFailed
from civicgrid.evaluation import selectors
from civicgrid.geo.models import Grid
from civicgrid.people.models import Role, User
from civicgrid.people.privacy import mask_name
from civicgrid.people.scopes import current_assignments, is_platform_admin

LIST_LIMIT = 500

# The lists and the counts each one knows (the first is the default).
KINDS: dict[str, tuple[str, ...]] = {
    "patrol": ("patrol_days_met", "patrol_days"),
    "inspections": ("due_visited", "due", "rectified_in_time", "rectify_due"),
    "households": ("households_visited",),
    "registry": ("fresh", "records"),
}
COUNT_LABELS = {
    "patrol_days_met": gettext_lazy("duty days meeting the 4-hour rule"),
    "patrol_days": gettext_lazy("duty days (exempt days apart)"),
    "due_visited": gettext_lazy("inspections due and done"),
    "due": gettext_lazy("inspections due"),
    "rectified_in_time": gettext_lazy("findings rectified in time"),
    "rectify_due": gettext_lazy("rectification notices due"),
    "households_visited": gettext_lazy("households visited"),
    "fresh": gettext_lazy("houses and persons confirmed in the last 6 months"),
    "records": gettext_lazy("houses and persons"),
}


@dataclass
class Listed:
    """What a list page shows: column heads, rows of (cells, link) and the full count."""

    columns: list[str]
    rows: list[tuple[list[str], str]] = field(default_factory=list)
    total: int = 0


def _checked(user: User, level: str, unit: int, period: selectors.Period) -> selectors.Scope:
    scope = selectors.scope_for(user)
    selectors.check_level(scope, level)
    if not selectors.unit_in_scope(scope, level, unit, period):
        raise ValidationFailed(_("No figures of this unit in the period."), field="unit")
    return scope


def _grids(level: str, unit: int) -> QuerySet[Grid]:
    """The active grids of a township, village or grid unit."""
    grids = Grid.objects.filter(division__status="active")
    path = {"township": "village__township_id", "village": "village_id", "grid": "pk"}[level]
    return grids.filter(**{path: unit})


def grid_labels(ids: Any) -> dict[int, str]:
    """Grid id → how people name it: "东坑村 第01网格 (441900 123 001 01)"."""
    grids = Grid.objects.filter(pk__in=list(ids)).select_related("village")
    return {g.pk: g.label for g in grids.only("code", "sequence", "village__name")}


def _day(moment: dt.datetime | None) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else ""


# ---------------------------------------------------------------------------- cases


def case_section(user: User) -> str | None:
    """The case page the user may open (center, village, department, field), if any."""
    if is_platform_admin(user) or user.has_role(Role.DISPATCHER, Role.SUPERVISOR, Role.ASSESSOR):
        return "center_case"
    if user.has_role(Role.VILLAGE_OFFICER):
        return "village_case"
    if user.has_role(Role.DEPARTMENT_OFFICER):
        return "dept_case"
    if user.has_role(Role.GRID_ADMINISTRATOR, Role.GRID_LEADER, Role.DEPUTY_GRID_LEADER):
        return "field_case"
    return None


def case_links(user: User, cases: list[Any]) -> dict[int, str]:
    """Case id → the URL of its page for ``user``, for the cases that page would show."""
    from civicgrid.cases.selectors import cases_visible_to

    section = case_section(user)
    if section is None or not cases:
        return {}
    visible = cases_visible_to(user).filter(pk__in=[c.pk for c in cases])
    return {
        pk: reverse(section, kwargs={"ref": number})
        for pk, number in visible.order_by().values_list("pk", "number")
    }


# ---------------------------------------------------------------------------- patrol


def patrol_days(
    user: User,
    level: str,
    unit: int,
    period: selectors.Period,
    count: str,
    limit: int = LIST_LIMIT,
) -> Listed:
    """The duty days behind ``patrol_days`` / ``patrol_days_met`` (exempt days apart), as
    the materialisation counts them: days of a staff member in a grid."""
    from civicgrid.patrol.models import DutyDay, Rule

    _checked(user, level, unit, period)
    days = DutyDay.objects.filter(day__gte=period.first, day__lte=period.last, grid__isnull=False)
    days = days.exclude(rule=Rule.EXEMPT)
    if count == "patrol_days_met":
        days = days.filter(rule=Rule.MET)
    if level == "administrator":
        days = days.filter(user_id=unit)
    elif level == "department":
        days = days.none()
    else:
        days = days.filter(grid__in=_grids(level, unit))
    days = days.select_related("user", "grid__village").order_by("day", "grid__code", "user_id")
    listed = Listed([_("Day"), _("Staff member"), _("Grid"), _("Hours on patrol"),
                     _("4-hour rule")], total=days.count())  # fmt: skip
    for d in days[:limit]:
        name = mask_name(d.user.full_name) if d.user.full_name else d.user.username
        cells = [f"{d.day:%Y-%m-%d}", name, d.grid.label if d.grid else "",
                 f"{d.patrol_minutes / 60:.1f}", str(d.get_rule_display())]  # fmt: skip
        listed.rows.append((cells, ""))
    return listed


# ---------------------------------------------------------------------------- inspections


def _inspection_grids(level: str, unit: int, period: selectors.Period) -> QuerySet[Grid]:
    if level == "administrator":
        served = current_assignments(on=period.last).filter(user_id=unit).values("grid_id")
        return Grid.objects.filter(division__status="active", pk__in=served)
    return _grids(level, unit)


def inspections(
    user: User,
    level: str,
    unit: int,
    period: selectors.Period,
    count: str,
    limit: int = LIST_LIMIT,
) -> Listed:
    """The inspections behind a unit's figures, by the inspections app's definitions
    (``inspections.selectors.report_for_grids``): the premises × area due in the period and
    whether a visit in the period did them; the rectification notices due in the period and
    whether they were rectified by the deadline."""
    from civicgrid.inspections.models import Finding, Severity, Visit
    from civicgrid.inspections.present import area_name
    from civicgrid.inspections.selectors import due_in_grids, visits_for

    _checked(user, level, unit, period)
    if level == "department":
        return Listed([])
    begin, finish = selectors_day_bounds(period)
    may_open = set(visits_for(user).order_by().values_list("pk", flat=True))
    if count in ("due", "due_visited"):
        grids = _inspection_grids(level, unit, period)
        # The report marks an item done by a visit in any active grid it reads.
        everywhere = Grid.objects.filter(division__status="active")
        done: dict[tuple[str, int, str], Any] = {}
        visits = Visit.objects.filter(grid__in=everywhere, visited_at__gte=begin,
                                      visited_at__lt=finish).select_related("template")  # fmt: skip
        for v in visits.order_by("visited_at"):
            done.setdefault((v.premises_kind, v.premises_id, v.template.area), v)
        listed = Listed([_("Premises"), _("Area"), _("Due on"), _("Visit")])
        codes = grid_labels(grids.values_list("pk", flat=True))
        for d in due_in_grids(grids, before=begin, today=period.first):
            if d.reinspection or d.due_on > period.last:
                continue
            visit = done.get((d.premises_kind, d.premises_id, d.area))
            if count == "due_visited" and visit is None:
                continue
            listed.total += 1
            if len(listed.rows) < limit:
                href = ""
                if visit is not None and visit.pk in may_open:
                    href = reverse("inspections:visit", kwargs={"number": visit.number})
                cells = [f"{d.name} ({codes.get(d.grid_id, '')})", str(area_name(d.area)),
                         f"{d.due_on:%Y-%m-%d}", visit.number if visit else ""]  # fmt: skip
                listed.rows.append((cells, href))
        return listed
    notices = Finding.objects.filter(
        severity=Severity.RECTIFY, rectify_by__gte=begin, rectify_by__lt=finish
    ).select_related("visit")
    if level == "administrator":
        notices = notices.filter(visit__inspector_id=unit, grid__division__status="active")
    else:
        notices = notices.filter(grid__in=_grids(level, unit))
    listed = Listed([_("Visit"), _("Premises"), _("Area"), _("Rectify by"), _("Rectified at")])
    for f in notices.order_by("rectify_by", "pk"):
        in_time = f.rectified_at is not None and f.rectify_by is not None and (
            f.rectified_at <= f.rectify_by
        )  # fmt: skip
        if count == "rectified_in_time" and not in_time:
            continue
        listed.total += 1
        if len(listed.rows) < limit:
            href = ""
            if f.visit_id in may_open:
                href = reverse("inspections:visit", kwargs={"number": f.visit.number})
            cells = [f.visit.number, f.visit.premises_name, str(area_name(f.area)),
                     _day(f.rectify_by), _day(f.rectified_at)]  # fmt: skip
            listed.rows.append((cells, href))
    return listed


def selectors_day_bounds(period: selectors.Period) -> tuple[dt.datetime, dt.datetime]:
    from civicgrid.evaluation.sources import day_bounds

    return day_bounds(period.first, period.last)


# ---------------------------------------------------------------------------- care


def households(
    user: User,
    level: str,
    unit: int,
    period: selectors.Period,
    count: str,
    limit: int = LIST_LIMIT,
) -> Listed:
    """The households visited in the period (``care.selectors.households_visited``): per
    grid each house once whoever visited it; per administrator the houses they visited."""
    from django.db.models import Count, Max

    from civicgrid.care.models import Visit

    _checked(user, level, unit, period)
    if level == "department":
        return Listed([])
    visits = Visit.objects.filter(visited_on__gte=period.first, visited_on__lte=period.last)
    if level == "administrator":
        visits = visits.filter(visitor_id=unit)
        keys: tuple[str, ...] = ("house_id", "house__code", "house__address")
    else:
        visits = visits.filter(grid__in=_grids(level, unit))
        keys = ("grid__code", "house_id", "house__code", "house__address", "grid_id")
    rows = (
        visits.order_by()
        .values(*keys)
        .annotate(visits=Count("pk"), last=Max("visited_on"))
        .order_by(*keys[:2])
    )
    listed = Listed([_("House"), _("Address"), _("Grid"), _("Visits"), _("Last visit")])
    named = grid_labels({row["grid_id"] for row in rows if row.get("grid_id")})
    for row in rows:
        listed.total += 1
        if len(listed.rows) < limit:
            cells = [row["house__code"], row["house__address"], named.get(row.get("grid_id"), ""),
                     str(row["visits"]), f"{row['last']:%Y-%m-%d}"]  # fmt: skip
            listed.rows.append((cells, ""))
    return listed


# ---------------------------------------------------------------------------- registry


def registry(
    user: User,
    level: str,
    unit: int,
    period: selectors.Period,
    count: str,
    limit: int = LIST_LIMIT,
) -> Listed:
    """The houses and persons behind registry freshness (``selectors.registry_freshness``):
    the fresh ones (changed in the last six months), or all of them."""
    from civicgrid.registry.models import House, Person
    from civicgrid.registry.selectors import records_for

    _checked(user, level, unit, period)
    listed = Listed([_("Record"), _("Name or address"), _("Grid"), _("Confirmed")])
    if level not in ("township", "village", "grid"):
        return listed
    path = {"township": "grid__village__township_id", "village": "grid__village_id",
            "grid": "grid_id"}[level]  # fmt: skip
    since = timezone.now() - dt.timedelta(days=selectors.FRESH_DAYS)
    kinds: list[tuple[str, Any, str]] = [("houses", House, ""), ("persons", Person, "house__")]
    for kind, model, prefix in kinds:
        records = model.objects.filter(**{prefix + path: unit})
        if count == "fresh":
            records = records.filter(updated_at__gte=since)
        listed.total += records.count()
        room = limit - len(listed.rows)
        if room <= 0:
            continue
        shown = list(records.select_related(prefix + "grid__village")
                     .order_by("pk")[:room])  # fmt: skip
        may_open = set(
            records_for(kind, user)
            .filter(pk__in=[r.pk for r in shown])
            .values_list("pk", flat=True)
        )
        for r in shown:
            grid = r.house.grid if kind == "persons" else r.grid
            name = mask_name(r.full_name) if kind == "persons" else r.address
            label = _("person") if kind == "persons" else _("house")
            href = (
                reverse("registry:detail", kwargs={"kind": kind, "pk": r.pk})
                if r.pk in may_open
                else ""
            )
            cells = [f"{label} {r.pk}", name, grid.label, _day(r.updated_at)]
            listed.rows.append((cells, href))
    return listed


LISTS = {
    "patrol": patrol_days,
    "inspections": inspections,
    "households": households,
    "registry": registry,
}


def records_behind(
    user: User,
    kind: str,
    level: str,
    unit: int,
    period: selectors.Period,
    count: str,
    limit: int = LIST_LIMIT,
) -> Listed:
    if kind not in LISTS:
        raise ValidationFailed(_("Unknown list %(k)s.") % {"k": kind}, field="kind")
    if count not in KINDS[kind]:
        raise ValidationFailed(_("Unknown count %(c)s.") % {"c": count}, field="count")
    return LISTS[kind](user, level, unit, period, count, limit)
