"""Demo patrols: a few days of plausible tracks along the demo roads, kept small and fast,
and the planning around them: duty exemptions (one of them on a day the tracks leave out)
and weekly duty schedules, recorded by the township's supervisor."""

from __future__ import annotations

import datetime as dt

import numpy as np
import shapely
from django.utils import timezone
from shapely.geometry import LineString

from civicgrid.geo.models import Township
from civicgrid.geo.synthetic import SyntheticTownship
from civicgrid.patrol import services
from civicgrid.patrol.duty import project
from civicgrid.patrol.models import Shift
from civicgrid.people.models import Position as TeamPosition
from civicgrid.people.models import Role, User
from civicgrid.people.scopes import current_assignments

WALKERS = 6
DAYS = 3
FIX_SECONDS = 30
WALK_MS = 1.1
# Minutes on patrol per walker and day (index = day back): some under 4 hours.
PLANS = [(265, 250, 180), (245, 200, 260), (150, 250, 250)]
# The exempt day inside the tracked days: walker 1, two days back (no track that day).
TRACKED_EXEMPTION = (1, 2, "training", "镇网格员业务培训（全天）")
# Other exemptions, by walker and days from today (negative: past, outside the tracked
# days; 0: today, so the current month's list is never empty; positive: planned ahead).
EXEMPTIONS = [
    (2, -(DAYS + 1), "illness", "发烧就医，已交病假条"),
    (4, 0, "meeting", "参加镇综治工作例会"),
    (5, 3, "leave", "年休假，已经网格长批准"),
]
# Weekly duty hours by walker: weekdays (ISO digits), start, end (at or before the start:
# the next day), in use. The morning hours match the tracks (they start at 08:30).
SCHEDULES = [
    (0, "12345", dt.time(8, 30), dt.time(12, 30), True),
    (1, "12345", dt.time(8, 30), dt.time(12, 30), True),
    (2, "12345", dt.time(8, 30), dt.time(12, 30), True),
    (3, "246", dt.time(14, 0), dt.time(18, 0), True),
    (5, "5", dt.time(20, 0), dt.time(0, 30), True),  # Friday evening into Saturday
    (4, "6", dt.time(9, 0), dt.time(11, 0), False),  # paused
]


def _route(grid_shape: shapely.Geometry, roads: list[LineString]) -> LineString:
    """The longest piece of demo road inside the grid, or the grid's outline."""
    pieces: list[shapely.Geometry] = []
    for road in roads:
        cut = road.intersection(grid_shape)
        pieces.extend(getattr(cut, "geoms", [cut]))
    lines = [p for p in pieces if isinstance(p, LineString) and p.length > 0]
    return max(lines, key=lambda p: p.length) if lines else grid_shape.exterior


def _walk(
    route: LineString, start: dt.datetime, minutes: int, rng: np.random.Generator
) -> list[services.Incoming]:
    coords = np.asarray(route.coords)
    origin = float(coords[:, 1].mean())
    x, y = project(coords[:, 0], coords[:, 1], origin)
    line = shapely.linestrings(np.stack([x, y], 1))
    length = max(float(line.length), 1.0)
    scale_y = float(project(np.array([0.0]), np.array([1.0]), origin)[1][0])
    scale_x = float(project(np.array([1.0]), np.array([0.0]), origin)[0][0])
    fixes = []
    for step in range(minutes * 60 // FIX_SECONDS + 1):
        travelled = step * FIX_SECONDS * WALK_MS
        along = travelled % (2 * length)
        along = along if along <= length else 2 * length - along  # there and back
        point = shapely.line_interpolate_point(line, along)
        noise = rng.normal(0, 3.0, 2)
        fixes.append(
            services.Incoming(
                time=start + dt.timedelta(seconds=step * FIX_SECONDS),
                lon=(point.x + noise[0]) / scale_x,
                lat=(point.y + noise[1]) / scale_y,
                accuracy=float(abs(rng.normal(6, 2))) + 2,
                speed=WALK_MS,
                battery=max(15.0, 95.0 - step * 0.08),
            )
        )
    return fixes


def demo_patrols_create(*, township: Township, town: SyntheticTownship, seed: int = 0) -> int:
    """Shifts and positions for a few administrators over the last days; returns fixes stored."""
    rng = np.random.default_rng(seed)
    walkers = list(
        current_assignments()
        .filter(position=TeamPosition.ADMINISTRATOR, grid__village__township=township)
        .select_related("user", "grid")
        .order_by("grid__code", "user__username")[:WALKERS]
    )
    chief = User.objects.filter(is_superuser=True).order_by("pk").first()
    # The township's supervisor plans the duty (a system administrator if there is none).
    planner = (
        User.objects.filter(role_grants__role=Role.SUPERVISOR, township=township)
        .order_by("pk")
        .first()
        or chief
    )
    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    stored = 0
    for number, assignment in enumerate(walkers):
        user = assignment.user
        services.device_register(user=user, identifier=f"demo-{user.username}", actor=chief)
        route = _route(assignment.grid.geometry, town.roads)
        for back in range(1, DAYS + 1):
            day = today - dt.timedelta(days=back)
            if (number, back) == TRACKED_EXEMPTION[:2] and planner is not None:
                reason, note = TRACKED_EXEMPTION[2:]
                services.exemption_record(
                    user=user, day=day, reason=reason, note=note, actor=planner
                )
                services.duty_day_compute(user=user, day=day)
                continue
            minutes = PLANS[number % len(PLANS)][back - 1]
            start = dt.datetime.combine(day, dt.time(8, 30), tzinfo=zone)
            Shift.objects.create(
                user=user,
                started_at=start,
                ended_at=start + dt.timedelta(minutes=minutes),
                ending=Shift.Ending.ENDED,
            )
            fixes = _walk(route, start, minutes, rng)
            stored += services.positions_record(user=user, fixes=fixes, source="batch").stored
            services.duty_day_compute(user=user, day=day)
    if planner is not None:
        _plans_create(walkers=[a.user for a in walkers], planner=planner, today=today)
    return stored


def _plans_create(*, walkers: list[User], planner: User, today: dt.date) -> None:
    """The exemptions and schedules of ``EXEMPTIONS`` and ``SCHEDULES`` (for the walkers
    there are; a small township may have fewer)."""
    for number, offset, reason, note in EXEMPTIONS:
        if number < len(walkers):
            day = today + dt.timedelta(days=offset)
            services.exemption_record(
                user=walkers[number], day=day, reason=reason, note=note, actor=planner
            )
            if offset <= 0:
                services.duty_day_compute(user=walkers[number], day=day)
    for number, weekdays, starts, ends, active in SCHEDULES:
        if number < len(walkers):
            services.schedule_create(
                user=walkers[number], weekdays=weekdays, starts=starts, ends=ends,
                actor=planner, active=active,
            )  # fmt: skip
