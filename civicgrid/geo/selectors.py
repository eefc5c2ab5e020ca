"""Reads of the geography, and the cached point → grid index."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Count, Max, QuerySet

from civicgrid.core import rows
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
    grids are older) and their villages' newest change (names and codes in the properties).
    A draft changes none of these. The locator's stamp too (``_grid_stamp``)."""
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
    # The rows of ``_located_sql`` read so far, by grid id: as current as the locator.
    located: dict[int, tuple[Any, ...]] = field(default_factory=dict)


_cache: _CachedLocator | None = None
_lock = threading.Lock()
# Other processes learn of a grid change within this many seconds; this process at once
# (see invalidate_grid_locator, called when grids or divisions are saved).
STAMP_CHECK_SECONDS = 2.0


def _grid_stamp() -> tuple[object, ...]:
    """Changes whenever an active grid is added, removed, redrawn or a division switches,
    and when a village of theirs changes (``grid_at`` answers its code and name): the grids
    layer's stamp, one statement. A township changed in another process is seen with the
    next change of a grid: its code is part of every grid code, so a re-coding renames
    them; this process forgets at once (``geo.apps``)."""
    return grids_layer_stamp()


def invalidate_grid_locator() -> None:
    global _cache
    _cache = None


def grid_locator() -> GridLocator[int]:
    """The spatial index over all active grids, rebuilt when they change."""
    return _cached_locator().locator


def _cached_locator() -> _CachedLocator:
    global _cache
    cached = _cache
    now = time.monotonic()
    if cached is not None and now - cached.checked_at < STAMP_CHECK_SECONDS:
        return cached
    stamp = _grid_stamp()
    if cached is not None and cached.stamp == stamp:
        cached.checked_at = now
        return cached
    with _lock:
        if _cache is None or _cache.stamp != stamp:
            rows = list(
                Grid.objects.filter(division__status=DivisionVersion.Status.ACTIVE).only(
                    "id", "boundary"
                )
            )
            locator = GridLocator([g.id for g in rows], [g.geometry for g in rows])
            _cache = _CachedLocator(stamp, now, locator)
        return _cache


def grid_at(lon: float, lat: float, crs: Crs | str = Crs.WGS84) -> Grid | None:
    """The active grid at the point, with its village and township (their codes and ids,
    not the three GeoJSON boundaries or the grid's units: decoding them was most of the
    locator's cost per report).

    Their row (``_located_sql``) is read once per grid and kept with the locator, as
    current as it is (``_grid_stamp``): on PostgreSQL the read was a round trip of each
    report (issue 20). The instances are built from it on every call."""
    wgs_lon, wgs_lat = to_wgs84(lon, lat, crs)
    cached = _cached_locator()
    grid_id = cached.locator.locate(wgs_lon, wgs_lat)
    if grid_id is None:
        return None
    row = cached.located.get(grid_id)
    if row is None:
        with rows.prepared_cursor() as cursor:
            cursor.execute(
                _located_sql(connection.vendor), [grid_id, DivisionVersion.Status.ACTIVE]
            )
            found = cursor.fetchone()
        if found is None:
            return None
        row = cached.located[grid_id] = tuple(found)
    return _located_grid(row)


def _located_grid(row: Sequence[Any]) -> Grid:
    """A grid with its village and township from a row of ``_located_sql`` (written once
    per process: the ORM compiled this three-table read afresh on every report, a third of
    a report's own Python)."""
    n_grid = rows.width(Grid, skip=GRID_DEFERRED)
    n_village = rows.width(Village, skip=AREA_DEFERRED)
    grid = rows.from_row(Grid, row[:n_grid], skip=GRID_DEFERRED)
    village = rows.from_row(Village, row[n_grid : n_grid + n_village], skip=AREA_DEFERRED)
    township = rows.from_row(Township, row[n_grid + n_village :], skip=AREA_DEFERRED)
    Village.township.field.set_cached_value(village, township)  # as select_related does
    Grid.village.field.set_cached_value(grid, village)
    return grid


GRID_DEFERRED = ("boundary", "units")
AREA_DEFERRED = ("boundary",)


@functools.cache
def _located_sql(vendor: str) -> str:
    q = connection.ops.quote_name
    grid, village, township, division = (
        q(m._meta.db_table) for m in (Grid, Village, Township, DivisionVersion)
    )
    return (
        f"SELECT {rows.columns(Grid, 'g', skip=GRID_DEFERRED)}, "
        f"{rows.columns(Village, 'v', skip=AREA_DEFERRED)}, "
        f"{rows.columns(Township, 't', skip=AREA_DEFERRED)} "
        f"FROM {grid} g JOIN {village} v ON v.id = g.village_id "
        f"JOIN {township} t ON t.id = v.township_id "
        f"JOIN {division} d ON d.id = g.division_id WHERE g.id = %s AND d.status = %s"
    )


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
