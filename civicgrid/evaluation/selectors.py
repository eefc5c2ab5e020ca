"""Indicator tables read from the materialised daily figures, through the caller's scope."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q, Sum, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.evaluation import charts, formulas
from civicgrid.evaluation.formulas import Counts
from civicgrid.evaluation.models import DailyFigure, Level
from civicgrid.geo.models import Grid, Township, Village
from civicgrid.people.models import Department, Role, User
from civicgrid.people.privacy import mask_name
from civicgrid.people.scopes import current_assignments, is_platform_admin

LEVELS = ("township", "village", "grid", "department", "administrator")
SUPERVISING = (Role.SUPERVISOR, Role.DISPATCHER)
FIELD = (Role.GRID_ADMINISTRATOR, Role.GRID_LEADER, Role.DEPUTY_GRID_LEADER)
FRESH_DAYS = 183  # registry records confirmed within about six months count as fresh
INSPECTION_COUNTS = ("due", "due_visited", "rectify_due", "rectified_in_time")
DEFAULT_WEIGHTS = {
    "on_time_closure_rate": 3,
    "closure_rate": 2,
    "accurate_dispatch_rate": 1,
    "satisfied_share": 2,
    "patrol_rule_rate": 2,
    "registry_freshness": 1,
}


def score_weights() -> dict[str, float]:
    """``CIVICGRID_EVALUATION_WEIGHTS`` (indicator → weight), else the defaults above."""
    return dict(getattr(settings, "CIVICGRID_EVALUATION_WEIGHTS", None) or DEFAULT_WEIGHTS)


@dataclass(frozen=True)
class Scope:
    """What one user may see: ``None`` means every unit of that kind within the township."""

    levels: frozenset[str]
    townships: frozenset[int] | None  # None: every township (platform administrators)
    village: int | None = None
    department: int | None = None
    user: int | None = None


def scope_for(user: User) -> Scope:
    """Supervisors and dispatchers: everything of their township; a village officer: the
    village, its grids and administrators; a department officer: the department; field
    staff: their own figures."""
    if not user.is_authenticated or not user.is_active:
        return Scope(frozenset(), frozenset())
    if is_platform_admin(user):
        return Scope(frozenset(LEVELS), None)
    township = frozenset({user.township_id}) if user.township_id else frozenset()
    if user.has_role(*SUPERVISING) and user.township_id:
        return Scope(frozenset(LEVELS), township)
    if user.has_role(Role.VILLAGE_OFFICER) and user.village_id:
        village = Village.objects.only("township_id").get(pk=user.village_id)
        return Scope(frozenset({"village", "grid", "administrator"}),
                     frozenset({village.township_id}), village=user.village_id)  # fmt: skip
    if user.has_role(Role.DEPARTMENT_OFFICER) and user.department_id:
        department = Department.objects.only("township_id").get(pk=user.department_id)
        return Scope(frozenset({"department"}), frozenset({department.township_id}),
                     department=user.department_id)  # fmt: skip
    if user.has_role(*FIELD):
        return Scope(frozenset({"administrator"}), None, user=user.pk)
    return Scope(frozenset(), frozenset())


def may_evaluate(user: User) -> bool:
    return bool(scope_for(user).levels)


@dataclass
class Row:
    level: str
    unit: int
    code: str
    name: str
    counts: Counts
    values: dict[str, float | None] = field(default_factory=dict)
    score: float | None = None
    # Counts read from other apps (inspections), beside the ledger's.
    other_counts: dict[str, int] = field(default_factory=dict)


@dataclass
class Period:
    first: dt.date
    last: dt.date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period of the same length just before (a calendar month: the month before)."""
        if self.first.day == 1 and (self.last + dt.timedelta(days=1)).day == 1:
            last = self.first - dt.timedelta(days=1)
            return Period(last.replace(day=1), last)
        return Period(self.first - dt.timedelta(days=self.days), self.first - dt.timedelta(days=1))


def period_parse(first: str | None, last: str | None, *, today: dt.date | None = None) -> Period:
    """``from``/``to`` as ISO dates; by default this month up to today."""
    now = today or timezone.localdate()

    def parse(text: str | None, name: str, default: dt.date) -> dt.date:
        if not text:
            return default
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise ValidationFailed(
                _("Give %(name)s as a date like 2026-11-01.") % {"name": name}, field=name
            ) from None

    period = Period(parse(first, "from", now.replace(day=1)), parse(last, "to", now))
    if period.last < period.first:
        raise ValidationFailed(_("The period ends before it starts."), field="to")
    if period.days > 366 * 3:
        raise ValidationFailed(_("Choose a period of at most three years."), field="from")
    return period


PERIOD_KINDS = ("day", "week", "month")


def period_named(kind: str, anchor: str | None, *, today: dt.date | None = None) -> Period:
    """A calendar period containing the day ``anchor`` (ISO date; default today in the
    township's zone, Asia/Shanghai): ``day``, ``week`` (Monday to Sunday) or ``month``
    (the whole calendar month)."""
    if kind not in PERIOD_KINDS:
        raise ValidationFailed(
            _("Unknown period %(period)s; choose one of: %(kinds)s.")
            % {"period": kind, "kinds": ", ".join(PERIOD_KINDS)},
            field="period",
        )
    day = today or timezone.localdate()
    if anchor:
        try:
            day = dt.date.fromisoformat(anchor)
        except ValueError:
            raise ValidationFailed(
                _("Give %(name)s as a date like 2026-11-01.") % {"name": "on"}, field="on"
            ) from None
    if kind == "day":
        return Period(day, day)
    if kind == "week":
        monday = day - dt.timedelta(days=day.weekday())
        return Period(monday, monday + dt.timedelta(days=6))
    first = day.replace(day=1)
    return Period(first, month_start(day, -1) - dt.timedelta(days=1))


def period_step(kind: str, period: Period, steps: int) -> dt.date:
    """The anchor day of the ``kind`` period ``steps`` before (negative) or after ``period``."""
    if kind == "month":
        return month_start(period.first, -steps)
    length = 7 if kind == "week" else 1
    return period.first + dt.timedelta(days=length * steps)


def check_level(scope: Scope, level: str) -> None:
    """422 for an unknown level, 403 for a level the scope does not reach."""
    if level not in LEVELS:
        raise ValidationFailed(
            _("Unknown level %(level)s; choose one of: %(levels)s.")
            % {"level": level, "levels": ", ".join(LEVELS)},
            field="level",
        )
    if level not in scope.levels:
        raise PermissionDenied(_("Your role does not see the figures of this level."))


def _rows_in_scope(scope: Scope, level: str, period: Period) -> Any:
    stored = Level.GRID if level in ("township", "village") else level
    rows = DailyFigure.objects.filter(level=stored, day__gte=period.first, day__lte=period.last)
    if scope.townships is not None:
        rows = rows.filter(township_id__in=scope.townships)
    if scope.village is not None and level != "administrator":
        rows = rows.filter(village_id=scope.village)
    if scope.village is not None and level == "administrator":
        staff = current_assignments().filter(grid__village_id=scope.village).values("user_id")
        rows = rows.filter(Q(village_id=scope.village) | Q(unit__in=staff))
    if scope.department is not None:
        rows = rows.filter(unit=scope.department)
    if scope.user is not None:
        rows = rows.filter(unit=scope.user)
    return rows


def units_in_scope(scope: Scope, level: str, period: Period) -> set[int]:
    """Every unit of ``level`` the scope reaches, whether or not it has figures: the
    townships, their villages, the grids of their active divisions, their departments, and
    the staff assigned to one of those grids at some time in ``period``."""
    from civicgrid.people.models import GridAssignment

    if level == "township":
        found: Any = Township.objects.all()
        if scope.townships is not None:
            found = found.filter(pk__in=scope.townships)
        return set(found.values_list("pk", flat=True))
    if level == "department":
        found = Department.objects.all()
        if scope.townships is not None:
            found = found.filter(township_id__in=scope.townships)
        if scope.department is not None:
            found = found.filter(pk=scope.department)
        return set(found.values_list("pk", flat=True))
    if level == "administrator" and scope.user is not None:
        return {scope.user}
    grids = Grid.objects.filter(division__status="active")
    if scope.townships is not None:
        grids = grids.filter(village__township_id__in=scope.townships)
    if scope.village is not None:
        grids = grids.filter(village_id=scope.village)
    if level == "grid":
        return set(grids.values_list("pk", flat=True))
    if level == "village":
        villages: Any = Village.objects.all()
        if scope.townships is not None:
            villages = villages.filter(township_id__in=scope.townships)
        if scope.village is not None:
            villages = villages.filter(pk=scope.village)
        return set(villages.values_list("pk", flat=True))
    served = GridAssignment.objects.filter(grid__in=grids, starts_on__lte=period.last).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=period.first)
    )
    return set(served.values_list("user_id", flat=True))


def unit_in_scope(scope: Scope, level: str, unit: int, period: Period) -> bool:
    """Whether ``unit`` is one of the table's rows for this scope and period."""
    return unit in units_in_scope(scope, level, period) or unit in period_counts(
        scope, level, period
    )


def _summed(
    rows: Any, group: str, *, hours: bool = True, names: Iterable[str] = formulas.COUNT_FIELDS
) -> dict[Any, Counts]:
    """``rows`` summed per ``group`` in the database (one row per group comes back): the
    counts ``names`` (the others stay 0); the hours to closure (a list per daily row, for
    the percentile) only with ``hours``, each row's list read as text and decoded once per
    group (decoding 7,000 small JSON lists one by one was a tenth of the page on SQLite)."""
    sums = {name: Sum(name) for name in names}
    totals: dict[Any, Counts] = {}
    for row in rows.order_by().values(group).annotate(**sums):
        key = row.pop(group)
        if key is None:
            continue
        sums_of_row: dict[str, Any] = {name: value or 0 for name, value in row.items()}
        totals[key] = Counts(**sums_of_row)
    if hours:
        texts: dict[Any, list[str]] = {}
        as_text = Cast("close_hours", TextField())
        for key, text in rows.filter(closed__gt=0).order_by().values_list(group, as_text):
            inner = (text or "").strip()[1:-1].strip()  # a JSON list's items
            if inner and key in totals:
                texts.setdefault(key, []).append(inner)
        for key, parts in texts.items():
            totals[key].close_hours.extend(json.loads(f"[{','.join(parts)}]"))
    return totals


def period_counts(scope: Scope, level: str, period: Period) -> dict[int, Counts]:
    """The sum of the daily counts of ``period`` per unit of ``level``."""
    group = {"township": "township_id", "village": "village_id"}.get(level, "unit")
    return _summed(_rows_in_scope(scope, level, period), group)


def _labels(level: str, units: Iterable[int]) -> dict[int, tuple[str, str]]:
    ids = list(units)
    if level == "township":
        found = Township.objects.filter(pk__in=ids).only("division_code", "code", "name")
        return {t.pk: (t.full_code, t.name) for t in found}
    if level == "village":
        return {
            v.pk: (v.full_code, v.name)
            for v in Village.objects.select_related("township")
            .filter(pk__in=ids)
            .only("code", "name", "township__division_code", "township__code")
        }
    if level == "grid":
        # The grid's own label names its village and number and spaces its code.
        grids = (
            Grid.objects.select_related("village")
            .filter(pk__in=ids)
            .only("code", "sequence", "village__name")
        )
        return {g.pk: (g.code, g.label) for g in grids}
    if level == "department":
        return {d.pk: (d.code, d.name) for d in Department.objects.filter(pk__in=ids)}
    return {
        u.pk: (u.username, mask_name(u.full_name) if u.full_name else u.username)
        for u in User.objects.filter(pk__in=ids)
    }


def unit_name(level: str, unit: int) -> str:
    """How people name one unit of ``level`` (a grid by its village and number)."""
    return _labels(level, [unit]).get(unit, ("", str(unit)))[1]


def registry_freshness(level: str, units: Iterable[int]) -> dict[int, float | None]:
    """Houses and persons changed in the last six months ÷ all of them, per unit."""
    from civicgrid.registry.models import House, Person

    ids = list(units)
    if level not in ("township", "village", "grid") or not ids:
        return {}
    path = {"township": "grid__village__township_id", "village": "grid__village_id",
            "grid": "grid_id"}[level]  # fmt: skip
    since = timezone.now() - dt.timedelta(days=FRESH_DAYS)
    totals: dict[int, list[int]] = {unit: [0, 0] for unit in ids}
    for model, prefix in ((House, ""), (Person, "house__")):
        key = prefix + path
        records = model.objects.filter(**{f"{key}__in": ids}).order_by().values(key)
        counted = records.annotate(
            all=Count("pk"), fresh=Count("pk", filter=Q(updated_at__gte=since))
        )
        for row in counted:
            totals[row[key]][0] += row["fresh"]
            totals[row[key]][1] += row["all"]
    return {unit: formulas.ratio(fresh, total) for unit, (fresh, total) in totals.items()}


def indicator_table(user: User, level: str, period: Period) -> list[Row]:
    """One row per unit of ``level`` the user may see, every indicator a number or None."""
    return table_in_scope(scope_for(user), level, period)


def _sum_per_unit(
    level: str,
    ids: list[int],
    by_grid: dict[str, dict[str, int]],
    by_administrator: dict[str, dict[str, int]],
) -> dict[int, dict[str, int]]:
    """Figures another app keys by grid code and by administrator's username, summed per
    unit of ``level`` (grids of the active division; villages and the township sum their
    grids). Units without figures are left out."""
    out: dict[int, dict[str, int]] = {}
    if level == "administrator":
        names = dict(User.objects.filter(pk__in=ids).values_list("username", "pk"))
        for username, found in by_administrator.items():
            if username in names:
                out[names[username]] = {k: int(v or 0) for k, v in found.items()}
        return out
    key = {"grid": "pk", "village": "village_id", "township": "village__township_id"}[level]
    active = Grid.objects.filter(division__status="active", code__in=list(by_grid))
    codes = dict(active.filter(**{f"{key}__in": ids}).values_list("code", key))
    for code, found in by_grid.items():
        unit = codes.get(code)
        if unit is None:
            continue
        total = out.setdefault(unit, {})
        for k, v in found.items():
            total[k] = total.get(k, 0) + int(v or 0)
    return out


def inspection_counts(
    level: str, units: Iterable[int], period: Period
) -> dict[int, dict[str, int]]:
    """Inspections due / done and findings rectified, per unit, from the inspections app."""
    from civicgrid.inspections.selectors import inspection_figures

    ids = list(units)
    if level == "department" or not ids:
        return {}
    figures = inspection_figures(start=period.first, end=period.last)

    def kept(found: dict[str, Any]) -> dict[str, int]:
        return {k: int(found.get(k) or 0) for k in INSPECTION_COUNTS}

    return _sum_per_unit(
        level,
        ids,
        {code: kept(found) for code, found in figures["grids"].items()},
        {name: kept(found) for name, found in figures["administrators"].items()},
    )


def households_visited_counts(level: str, units: Iterable[int], period: Period) -> dict[int, int]:
    """Distinct households visited in the period per unit, from the care app (no department
    level: visits belong to grids and administrators)."""
    from civicgrid.care.selectors import households_visited

    ids = list(units)
    if level == "department" or not ids:
        return {}
    figures = households_visited(start=period.first, end=period.last)
    summed = _sum_per_unit(
        level,
        ids,
        {code: {"n": n} for code, n in figures["by_grid"].items()},
        {name: {"n": n} for name, n in figures["by_administrator"].items()},
    )
    return {unit: summed.get(unit, {}).get("n", 0) for unit in ids}


def table_in_scope(
    scope: Scope,
    level: str,
    period: Period,
    *,
    freshness: dict[int, float | None] | None = None,
    units: set[int] | None = None,
    known: dict[int, tuple[str, str]] | None = None,
) -> list[Row]:
    """The rows of ``level`` in ``scope``; ``freshness`` (registry freshness per unit, read
    as of now whatever the period), ``units`` (``units_in_scope`` of this period) and
    ``known`` (labels of units: code, name) when the caller has them already."""
    check_level(scope, level)
    totals = period_counts(scope, level, period)
    # Units without a case or duty day in the period are rows too (their field work, their
    # registry), with zero counts and no rates where nothing is there to divide by.
    for unit in units_in_scope(scope, level, period) if units is None else units:
        totals.setdefault(unit, Counts())
    labels = dict(known or {})
    missing = [unit for unit in totals if unit not in labels]
    if missing:
        labels.update(_labels(level, missing))
    if freshness is None or not set(totals) <= set(freshness):
        freshness = registry_freshness(level, totals)
    inspections = inspection_counts(level, totals, period)
    visited = households_visited_counts(level, totals, period)
    weights = score_weights()
    rows = []
    for unit, counts in totals.items():
        code, name = labels.get(unit, (str(unit), str(unit)))
        extra: dict[str, float | None] = {}
        extra["patrol_rule_rate"] = formulas.patrol_rule_rate(counts)
        extra["registry_freshness"] = freshness.get(unit)
        extra["households_visited"] = visited.get(unit)
        seen = inspections.get(unit, {})
        extra["inspections_rate"] = formulas.inspections_rate(
            seen.get("due_visited", 0), seen.get("due", 0)
        )
        extra["findings_rectified_rate"] = formulas.findings_rectified_rate(
            seen.get("rectified_in_time", 0), seen.get("rectify_due", 0)
        )
        values = formulas.indicators(counts, extra)
        row = Row(level, unit, code, name, counts, values)
        if level != "department":  # every row the same keys; departments have none
            row.other_counts = {f"inspections_{k}": seen.get(k, 0) for k in INSPECTION_COUNTS}
        row.score = formulas.weighted_score(values, weights)
        rows.append(row)
    rows.sort(key=lambda r: r.code)
    return rows


def table_and_previous(scope: Scope, level: str, period: Period) -> tuple[list[Row], list[Row]]:
    """The rows of ``period`` and of the period before (the page's change column), the
    second reading again only what depends on the period: the units in scope are the same
    but for administrators (who serve grids for a time), and so are the labels and the
    registry freshness (read as of now whatever the period)."""
    check_level(scope, level)
    units = units_in_scope(scope, level, period)
    rows = table_in_scope(scope, level, period, units=units)
    before = period.previous()
    previous = table_in_scope(
        scope,
        level,
        before,
        freshness={r.unit: r.values.get("registry_freshness") for r in rows},
        units=units_in_scope(scope, level, before) if level == "administrator" else units,
        known={r.unit: (r.code, r.name) for r in rows},
    )
    return rows, previous


MAP_KEEP = 24 * 3600  # seconds an outline of grids stays in the cache


def grid_outline(units: Iterable[int]) -> charts.Outline:
    """The grids' map outline (``charts.outline``), kept in the cache under the grids' ids,
    last-change times and bounding boxes: a page reads those columns, and the GeoJSON
    boundaries only when a grid is new or was changed (``updated_at`` moves with every
    save)."""
    columns = ("pk", "updated_at", "min_lon", "min_lat", "max_lon", "max_lat")
    stamps = sorted(Grid.objects.filter(pk__in=list(units)).values_list(*columns))
    if not stamps:
        return charts.Outline(0, 0, {})
    digest = hashlib.sha256(repr([(pk, at.isoformat(), *box) for pk, at, *box in stamps]).encode())
    key = f"evaluation:grid-outline:{charts.MAP_TOLERANCE}:{digest.hexdigest()}"
    found = cache.get(key)
    if found is None:
        boundaries = Grid.objects.filter(pk__in=[row[0] for row in stamps])
        found = charts.outline(dict(boundaries.values_list("pk", "boundary")))
        cache.set(key, found, MAP_KEEP)
    return cast(charts.Outline, found)


def ranking(rows: list[Row], indicator: str, *, count: int = 5) -> tuple[list[Row], list[Row]]:
    """The best and the worst ``count`` rows by one indicator (rows without it left out)."""
    known = [r for r in rows if r.values.get(indicator, r.score) is not None]
    value = (lambda r: r.score) if indicator == "score" else (lambda r: r.values[indicator])
    reverse = indicator not in formulas.LOWER_IS_BETTER
    ordered = sorted(known, key=value, reverse=reverse)
    return ordered[:count], list(reversed(ordered[-count:])) if len(ordered) > count else []


def home_level(scope: Scope) -> str:
    """The widest level a scope sees whole: its trend line and its report."""
    for level in ("township", "village", "department", "administrator"):
        if level in scope.levels:
            return level
    return "administrator"


# Figures read from other apps month by month for the trend (not in the daily rows).
FIELD_TREND = (
    "registry_freshness",
    "inspections_rate",
    "findings_rectified_rate",
    "households_visited",
)


def registry_freshness_at(level: str, units: Iterable[int], at: dt.datetime) -> float | None:
    """Registry freshness of ``units`` together as of ``at`` (from the registry's history:
    ``registry.selectors.freshness_by_grid``); None for departments and administrators."""
    from civicgrid.registry.selectors import freshness_by_grid

    ids = list(units)
    if level not in ("township", "village", "grid") or not ids:
        return None
    key = {"township": "village__township_id", "village": "village_id", "grid": "pk"}[level]
    grids = Grid.objects.filter(**{f"{key}__in": ids}).values_list("pk", flat=True)
    found = freshness_by_grid(list(grids), at=at, days=FRESH_DAYS)
    fresh = sum(f for f, _total in found.values())
    return formulas.ratio(fresh, sum(total for _fresh, total in found.values()))


def field_figure(scope: Scope, level: str, indicator: str, period: Period) -> float | None:
    """One of ``FIELD_TREND`` for the whole scope at ``level`` over ``period``: households
    visited and inspections summed over the scope's units as the table sums them; registry
    freshness as of the period's end (or now, if sooner)."""
    from civicgrid.evaluation.sources import day_bounds

    ids = units_in_scope(scope, level, period)
    if level == "department" or not ids:
        return None
    if indicator == "households_visited":
        return sum(households_visited_counts(level, ids, period).values())
    if indicator == "registry_freshness":
        at = min(day_bounds(period.first, period.last)[1], timezone.now())
        return registry_freshness_at(level, ids, at)
    seen: dict[str, int] = {}
    for found in inspection_counts(level, ids, period).values():
        for k, v in found.items():
            seen[k] = seen.get(k, 0) + v
    if indicator == "inspections_rate":
        return formulas.inspections_rate(seen.get("due_visited", 0), seen.get("due", 0))
    return formulas.findings_rectified_rate(
        seen.get("rectified_in_time", 0), seen.get("rectify_due", 0)
    )


def month_start(day: dt.date, back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def trend(user: User, indicator: str, *, end: dt.date, months: int = 12) -> list[tuple[str, Any]]:
    """The indicator of the user's whole scope, month by month, the last ``months`` to ``end``."""
    return trend_in_scope(scope_for(user), indicator, end=end, months=months)


def trend_in_scope(
    scope: Scope, indicator: str, *, end: dt.date, months: int = 12
) -> list[tuple[str, Any]]:
    level = home_level(scope)
    first = month_start(end, months - 1)
    if indicator in FIELD_TREND:
        monthly: list[tuple[str, Any]] = []
        for back in range(months - 1, -1, -1):
            start = month_start(end, back)
            last = min(month_start(end, back - 1) - dt.timedelta(days=1), end)
            monthly.append((f"{start:%Y-%m}", field_figure(scope, level, indicator,
                                                           Period(start, last))))  # fmt: skip
        return monthly
    stored = Level.GRID if level in ("township", "village") else level
    rows = _rows_in_scope(scope, level, Period(first, end)).filter(level=stored)
    # Only the counts the indicator reads (all of them for one not in the table).
    inputs = formulas.INPUTS.get(indicator, formulas.COUNT_FIELDS)
    hours = "close_hours" in inputs
    names = [name for name in inputs if name != "close_hours"] or ["closed"]
    # Summed per day in the database, then per month here: grouping by TruncMonth calls a
    # Python function per row on SQLite (163 of a 425 ms page at 1 M cases), while a
    # GROUP BY day is native everywhere and returns at most 366 rows.
    by_month: dict[tuple[int, int], Counts] = {}
    for day, of_day in _summed(rows, "day", hours=hours, names=names).items():
        found = by_month.get((day.year, day.month))
        if found is None:
            by_month[(day.year, day.month)] = of_day
        else:
            found.add(of_day)
    points: list[tuple[str, Any]] = []
    for back in range(months - 1, -1, -1):
        start = month_start(end, back)
        counts = by_month.get((start.year, start.month))
        value = None
        if counts is not None:
            extra = {"patrol_rule_rate": formulas.patrol_rule_rate(counts)}
            value = formulas.indicators(counts, extra).get(indicator)
        points.append((f"{start:%Y-%m}", value))
    return points


def _cases_of_unit(level: str, unit: int) -> Q:
    from civicgrid.cases.models import CaseEvent

    if level == "township":
        return Q(township_id=unit)
    if level == "village":
        return Q(village_id=unit)
    if level == "grid":
        return Q(grid_id=unit)
    if level == "department":
        code = Department.objects.filter(pk=unit).values_list("code", flat=True).first()
        sent = CaseEvent.objects.filter(action="dispatch", payload__department=code)
        return Q(pk__in=sent.values("case_id"))
    verified = CaseEvent.objects.filter(actor_id=unit, action__in=["verify_pass", "verify_fail"])
    return Q(reporter_id=unit) | Q(pk__in=verified.values("case_id"))


LIST_LIMIT = 500


def counted_cases(
    user: User, level: str, unit: int, period: Period, count: str, limit: int = LIST_LIMIT
) -> list[Any]:
    """The cases behind one count of one unit (as they stand now), at most ``limit``."""
    from civicgrid.cases.models import Case
    from civicgrid.evaluation.sources import case_tracks, reported_between

    scope = scope_for(user)
    check_level(scope, level)
    if count != "overdue_steps" and count not in formulas.COUNT_FIELDS:
        raise ValidationFailed(_("Unknown count %(c)s.") % {"c": count}, field="count")
    if not unit_in_scope(scope, level, unit, period):
        return []
    key_level = "grid" if level in ("township", "village") else level
    wanted = Q(reported_between(period.first, period.last)) & _cases_of_unit(level, unit)
    code = None
    if level == "department":
        code = Department.objects.filter(pk=unit).values_list("code", flat=True).first()
    chosen: list[int] = []
    for track, _township, _village in case_tracks(wanted):
        for contribution_level, key, counts in formulas.contributions(track):
            if contribution_level != key_level:
                continue
            if level == "department" and key != code:
                continue
            if level == "administrator" and key != unit:
                continue
            value = (
                formulas.overdue_steps(counts)
                if count == "overdue_steps"
                else getattr(counts, count)
            )
            if value:
                chosen.append(track.case.id)
    found = Case.objects.filter(pk__in=chosen[:limit]).select_related(
        "category", "grid__village", "department"
    )
    return list(found.order_by("reported_at"))
