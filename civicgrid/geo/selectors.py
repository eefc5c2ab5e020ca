"""Reads of the geography, and the cached point → grid index."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.db.models import Count, Max, QuerySet

from civicgrid.geo.changes import DivisionChanges, GridShape, compare
from civicgrid.geo.crs import Crs, to_wgs84
from civicgrid.geo.locator import GridLocator
from civicgrid.geo.models import DivisionVersion, Grid, Township, Village


def townships() -> QuerySet[Township]:
    return Township.objects.order_by("division_code", "code")


def villages(*, township: Township | None = None) -> QuerySet[Village]:
    qs = Village.objects.select_related("township").order_by("township_id", "code")
    return qs if township is None else qs.filter(township=township)


def township_code_exists(code9: str) -> bool:
    return Township.objects.filter(division_code=code9[:6], code=code9[6:9]).exists()


def village_code_exists(code12: str) -> bool:
    return Village.objects.filter(
        township__division_code=code12[:6], township__code=code12[6:9], code=code12[9:12]
    ).exists()


def active_grids(*, village: Village | None = None) -> QuerySet[Grid]:
    qs = Grid.objects.select_related("village", "village__township", "division").filter(
        division__status=DivisionVersion.Status.ACTIVE
    )
    return qs if village is None else qs.filter(village=village)


def grids_layer_stamp() -> tuple[object, ...]:
    """What the active grids' GeoJSON is built from, in one statement: their count, newest
    id and change, the active division (an activation switches it even when the new
    grids are older) and their villages' newest change (names and codes in the
    properties). A draft changes none of these."""
    row = (
        Grid.objects.filter(division__status=DivisionVersion.Status.ACTIVE)
        .order_by()
        .aggregate(
            n=Count("id"),
            top=Max("id"),
            changed=Max("updated_at"),
            active_division=Max("division_id"),
            division_changed=Max("division__updated_at"),
            village_changed=Max("village__updated_at"),
        )
    )
    return tuple(row.values())


def villages_layer_stamp() -> tuple[object, ...]:
    """What the villages' GeoJSON is built from (codes include the township's)."""
    row = Village.objects.order_by().aggregate(
        n=Count("id"),
        top=Max("id"),
        changed=Max("updated_at"),
        township_changed=Max("township__updated_at"),
    )
    return tuple(row.values())


def grid_by_code(code: str) -> Grid | None:
    """The active grid with this code, else the newest grid that ever carried it."""
    found = active_grids().filter(code=code).first()
    if found is not None:
        return found
    return (
        Grid.objects.select_related("village", "village__township", "division")
        .filter(code=code)
        .order_by("-division__number")
        .first()
    )


@dataclass
class _CachedLocator:
    stamp: tuple[object, ...]
    checked_at: float
    locator: GridLocator[int]


_cache: _CachedLocator | None = None
_lock = threading.Lock()
# Other processes learn of a grid change within this many seconds; this process at once
# (see invalidate_grid_locator, called when grids or divisions are saved).
STAMP_CHECK_SECONDS = 2.0


def _grid_stamp() -> tuple[object, ...]:
    """Changes whenever an active grid is added, removed, redrawn or a division switches."""
    row = active_grids().aggregate(n=Count("id"), changed=Max("updated_at"), top=Max("id"))
    return (row["n"], row["changed"], row["top"])


def invalidate_grid_locator() -> None:
    global _cache
    _cache = None


def grid_locator() -> GridLocator[int]:
    """The spatial index over all active grids, rebuilt when they change."""
    global _cache
    cached = _cache
    now = time.monotonic()
    if cached is not None and now - cached.checked_at < STAMP_CHECK_SECONDS:
        return cached.locator
    stamp = _grid_stamp()
    if cached is not None and cached.stamp == stamp:
        cached.checked_at = now
        return cached.locator
    with _lock:
        if _cache is None or _cache.stamp != stamp:
            rows = list(
                Grid.objects.filter(division__status=DivisionVersion.Status.ACTIVE).only(
                    "id", "boundary"
                )
            )
            locator = GridLocator([g.id for g in rows], [g.geometry for g in rows])
            _cache = _CachedLocator(stamp, now, locator)
        return _cache.locator


def grid_at(lon: float, lat: float, crs: Crs | str = Crs.WGS84) -> Grid | None:
    wgs_lon, wgs_lat = to_wgs84(lon, lat, crs)
    grid_id = grid_locator().locate(wgs_lon, wgs_lat)
    if grid_id is None:
        return None
    # A report reads the grid's code and ids, its village and township: not the three
    # GeoJSON boundaries, the grid's units or the division's report (decoding them was most
    # of the locator's cost per report).
    return (
        Grid.objects.select_related("village__township")
        .defer(*LOCATED_DEFERRED)
        .get(pk=grid_id, division__status=DivisionVersion.Status.ACTIVE)
    )


LOCATED_DEFERRED = ("boundary", "units", "village__boundary", "village__township__boundary")


def division_changes(division: DivisionVersion) -> DivisionChanges | None:
    """Each grid of ``division`` against the township's active version; None for the
    active version itself, or when none is active."""
    if division.status == DivisionVersion.Status.ACTIVE:
        return None
    active = active_division(division.township_id)
    if active is None:
        return None

    def shapes(version: DivisionVersion) -> list[GridShape]:
        rows = Grid.objects.filter(division=version).only("code", "boundary", "households")
        return [GridShape(g.code, g.geometry, g.households) for g in rows.order_by("code")]

    return compare(shapes(division), shapes(active))


def active_division(township_id: int) -> DivisionVersion | None:
    return DivisionVersion.objects.filter(
        township_id=township_id, status=DivisionVersion.Status.ACTIVE
    ).first()
