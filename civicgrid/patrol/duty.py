"""The daily duty figures of one staff member, from their fixes of a day. No database.

Time on patrol is the sum of the intervals between consecutive good fixes that are not
longer than the gap threshold (default 5 minutes): a phone that stops reporting for longer
is not counted as patrolling. Intervals that cross midnight count only their part inside
the day, so a night patrol splits between two days. An interval counts as time in the grid
when both of its fixes lie inside the grid. Flagged fixes (speed jump, poor accuracy, time
in the future) are counted as rejected and left out of everything else.

Distances use a local equirectangular projection around the day's mean latitude: at a
township's extent (a few km) its error is far below GPS noise, and it is vectorised.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

EARTH_RADIUS_M = 6_371_008.8
# Metres per degree of latitude (of longitude: times the cosine of the latitude).
METRES_PER_DEGREE = math.radians(1.0) * EARTH_RADIUS_M
DEFAULT_GAP_SECONDS = 300.0
DEFAULT_MINIMUM_MINUTES = 240.0
HOUSE_RADIUS_M = 50.0


@dataclass(frozen=True)
class DutyFigures:
    patrol_minutes: float
    in_grid_minutes: float
    distance_m: float
    houses_passed: int
    houses_total: int
    good_fixes: int
    rejected_fixes: int
    rule: str  # "met", "not_met" or "exempt"

    @property
    def houses_share(self) -> float | None:
        return self.houses_passed / self.houses_total if self.houses_total else None


def project(lons: np.ndarray, lats: np.ndarray, origin_lat: float) -> tuple[np.ndarray, np.ndarray]:
    """Metres east and north on a plane tangent at ``origin_lat`` (good over a few km)."""
    scale = METRES_PER_DEGREE
    return lons * scale * math.cos(math.radians(origin_lat)), lats * scale


def duty_figures(
    *,
    times: Sequence[float] | np.ndarray,
    lons: Sequence[float] | np.ndarray,
    lats: Sequence[float] | np.ndarray,
    flagged: Sequence[bool] | np.ndarray,
    day_start: float,
    day_end: float,
    grid: BaseGeometry | None = None,
    houses: Sequence[tuple[float, float]] = (),
    exempt: bool = False,
    gap_seconds: float = DEFAULT_GAP_SECONDS,
    minimum_minutes: float = DEFAULT_MINIMUM_MINUTES,
    house_radius_m: float = HOUSE_RADIUS_M,
) -> DutyFigures:
    """Figures for the day ``[day_start, day_end)`` (Unix seconds).

    Pass the fixes from ``day_start - gap_seconds`` to ``day_end + gap_seconds`` so the
    intervals crossing midnight are seen; any order.
    """
    t = np.asarray(times, dtype=float)
    x_lon = np.asarray(lons, dtype=float)
    y_lat = np.asarray(lats, dtype=float)
    bad = np.asarray(flagged, dtype=bool)
    in_day = (t >= day_start) & (t < day_end)
    rejected = int(np.count_nonzero(bad & in_day))
    good = ~bad
    order = np.argsort(t[good], kind="stable")
    t, x_lon, y_lat = t[good][order], x_lon[good][order], y_lat[good][order]
    good_fixes = int(np.count_nonzero((t >= day_start) & (t < day_end)))
    houses_total = len(houses)
    if len(t) < 2:
        return _result(
            0.0, 0.0, 0.0, 0, houses_total, good_fixes, rejected, exempt, minimum_minutes
        )

    origin = float(np.mean(y_lat))
    x, y = project(x_lon, y_lat, origin)
    t0, t1 = t[:-1], t[1:]
    span = t1 - t0
    overlap = np.clip(np.minimum(t1, day_end) - np.maximum(t0, day_start), 0.0, None)
    counted = (span > 0) & (span <= gap_seconds) & (overlap > 0)
    fraction = np.where(counted, overlap / np.where(span > 0, span, 1.0), 0.0)
    step = np.hypot(np.diff(x), np.diff(y))
    patrol_s = float(np.sum(overlap[counted]))
    distance = float(np.sum(step * fraction))

    in_grid_s = 0.0
    if grid is not None:
        shapely.prepare(grid)
        inside = shapely.contains_xy(grid, x_lon, y_lat)
        both = counted & inside[:-1] & inside[1:]
        in_grid_s = float(np.sum(overlap[both]))

    passed = 0
    if houses_total and np.any(counted):
        hx, hy = project(
            np.array([h[0] for h in houses], dtype=float),
            np.array([h[1] for h in houses], dtype=float),
            origin,
        )
        tree = shapely.STRtree(shapely.points(hx, hy))
        idx = np.flatnonzero(counted)
        segments = shapely.linestrings(
            np.stack([np.stack([x[idx], y[idx]], 1), np.stack([x[idx + 1], y[idx + 1]], 1)], 1)
        )
        hits = tree.query(segments, predicate="dwithin", distance=house_radius_m)
        passed = int(np.unique(hits[1]).size)
    return _result(
        patrol_s / 60.0,
        in_grid_s / 60.0,
        distance,
        passed,
        houses_total,
        good_fixes,
        rejected,
        exempt,
        minimum_minutes,
    )


def _result(
    patrol_minutes: float,
    in_grid_minutes: float,
    distance_m: float,
    passed: int,
    houses_total: int,
    good_fixes: int,
    rejected: int,
    exempt: bool,
    minimum_minutes: float,
) -> DutyFigures:
    met = patrol_minutes >= minimum_minutes
    rule = "exempt" if exempt else ("met" if met else "not_met")
    return DutyFigures(
        patrol_minutes=patrol_minutes,
        in_grid_minutes=in_grid_minutes,
        distance_m=distance_m,
        houses_passed=passed,
        houses_total=houses_total,
        good_fixes=good_fixes,
        rejected_fixes=rejected,
        rule=rule,
    )


def implausible(
    *,
    times: Sequence[float],
    lons: Sequence[float],
    lats: Sequence[float],
    accuracies: Sequence[float | None],
    now: float,
    previous: tuple[float, float, float] | None = None,
    max_speed_ms: float = 50.0,
    max_accuracy_m: float = 100.0,
    future_tolerance_s: float = 120.0,
) -> list[str]:
    """A flag per fix (``""`` for a good one), fixes in time order.

    ``previous`` is the staff member's last good fix before these, as (time, lon, lat); a
    fix reached from the last good one faster than ``max_speed_ms`` is a jump.
    """
    flags: list[str] = []
    last = previous
    # The projection of ``project`` written out per pair: this runs for every incoming fix,
    # and numpy's per-call cost on two-element arrays dominated a 500-fix batch.
    scale = METRES_PER_DEGREE
    for time, lon, lat, accuracy in zip(times, lons, lats, accuracies, strict=True):
        flag = ""
        if time > now + future_tolerance_s:
            flag = "future"
        elif accuracy is not None and accuracy > max_accuracy_m:
            flag = "accuracy"
        elif last is not None and time > last[0]:
            east = (lon - last[1]) * scale * math.cos(math.radians(lat))
            north = (lat - last[2]) * scale
            if math.hypot(east, north) / (time - last[0]) > max_speed_ms:
                flag = "speed"
        flags.append(flag)
        if not flag:
            last = (time, lon, lat)
    return flags
