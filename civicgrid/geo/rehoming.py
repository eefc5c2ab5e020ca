"""The extension point through which records that point at a grid follow a re-division.

geo knows grids, not what hangs on them: each higher app (people, registry, cases, and the
patrol and inspection apps to come) registers a ``Rehomer`` in its ``AppConfig.ready``.
Activation asks every rehomer for its part of the plan (``plan``: read only), shows the
parts as the preview, and after confirmation hands the same parts back (``apply``) inside
the activation's transaction. Because the preview and the activation are the same part
objects, what a person confirmed is what happens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import shapely
from django.db.models import Q, QuerySet

from civicgrid.geo.locator import GridLocator
from civicgrid.geo.models import DivisionVersion, Grid


@dataclass(frozen=True)
class RecordMove:
    """One record: the grid it is on and the grid it goes to (``None``: left where it is)."""

    record: int
    label: str
    old_grid: int
    old_code: str
    new_grid: int | None


@dataclass
class RehomingPart:
    """What one kind of record does on activation; ``note`` says why a record is left."""

    kind: str
    label: str
    note: str  # why a record is left, e.g. "no new grid holds its position"
    moves: list[RecordMove] = field(default_factory=list)

    @property
    def moved(self) -> list[RecordMove]:
        return [m for m in self.moves if m.new_grid is not None]

    @property
    def left(self) -> list[RecordMove]:
        return [m for m in self.moves if m.new_grid is None]


class RehomingContext:
    """The two divisions and the geometry questions every rehomer asks of them."""

    def __init__(self, *, new: DivisionVersion, old: DivisionVersion | None) -> None:
        self.new = new
        self.old = old
        self.township_id = new.township_id
        self.new_grids = list(new.grids.select_related("village").order_by("code"))
        self.old_grids = (
            list(old.grids.select_related("village").order_by("code")) if old is not None else []
        )
        self.grid_by_id = {g.pk: g for g in [*self.new_grids, *self.old_grids]}
        # Computed answers one rehomer shares with another (persons reuse the houses').
        self.shared: dict[str, object] = {}
        self._locator = GridLocator(
            [g.pk for g in self.new_grids], [g.geometry for g in self.new_grids]
        )
        self.predecessor, self.successor = _lineage(self.new_grids, self.old_grids)

    def locate(self, lon: list[float], lat: list[float]) -> list[int | None]:
        """The new grid holding each point (``None`` where no new grid does)."""
        return self._locator.locate_many(np.asarray(lon, float), np.asarray(lat, float))

    def moves_by_position(self, records: QuerySet[Any], label: str) -> list[RecordMove]:
        """The records of ``records`` to re-home (``replaced``), each with the new grid
        holding its position (``lon``, ``lat``); ``label`` is the field naming a record."""
        rows = list(
            records.filter(self.replaced())
            .order_by("pk")
            .values_list("pk", label, "lon", "lat", "grid_id", "grid__code")
        )
        targets = self.locate([r[2] for r in rows], [r[3] for r in rows])
        return [
            RecordMove(pk, name, grid, code, target)
            for (pk, name, _lon, _lat, grid, code), target in zip(rows, targets, strict=True)
        ]

    def code(self, grid_id: int | None) -> str:
        grid = self.grid_by_id.get(grid_id) if grid_id is not None else None
        return grid.code if grid is not None else ""

    def replaced(self) -> Q:
        """Records to re-home: on a grid of this township that is not in the new division
        (the active one's, or an older one's, left there by an earlier activation)."""
        return Q(grid__village__township_id=self.township_id) & ~Q(grid__division=self.new)


def _lineage(
    new_grids: list[Grid], old_grids: list[Grid]
) -> tuple[dict[int, int | None], dict[int, int | None]]:
    """Predecessor of each new grid (the old grid it overlaps most) and successor of each
    old grid (of the new grids that call it predecessor, the one overlapping it most).

    An old grid lends its team once: when a grid is split, the larger share keeps the team
    and the other new grids start without one.
    """
    predecessor: dict[int, int | None] = {g.pk: None for g in new_grids}
    successor: dict[int, int | None] = {g.pk: None for g in old_grids}
    if not new_grids or not old_grids:
        return predecessor, successor
    old_shapes = np.array([g.geometry for g in old_grids], dtype=object)
    tree = shapely.STRtree(old_shapes)
    best_share: dict[int, float] = {}
    for grid in new_grids:
        shape = grid.geometry
        candidates = sorted(int(i) for i in tree.query(shape, predicate="intersects"))
        overlaps = [(float(shape.intersection(old_shapes[i]).area), i) for i in candidates]
        overlaps = [(area, i) for area, i in overlaps if area > 0]
        if not overlaps:
            continue
        # Largest overlap first; ties go to the lower old code, so the answer is stable.
        area, index = min(overlaps, key=lambda pair: (-pair[0], old_grids[pair[1]].code))
        old = old_grids[index]
        predecessor[grid.pk] = old.pk
        current = successor[old.pk]
        if current is None or (area, -grid.pk) > (best_share[old.pk], -current):
            successor[old.pk] = grid.pk
            best_share[old.pk] = area
    return predecessor, successor


class Rehomer(Protocol):
    """One app's records that point at a grid. ``actor`` is the staff member who activates
    (settings.AUTH_USER_MODEL, or None for the system)."""

    @property
    def kind(self) -> str: ...

    @property
    def order(self) -> int: ...

    def plan(self, context: RehomingContext) -> RehomingPart: ...

    def apply(self, context: RehomingContext, part: RehomingPart, actor: Any) -> None: ...


_REHOMERS: dict[str, Rehomer] = {}


def register_rehomer(rehomer: Rehomer) -> None:
    """Called from an app's ``ready``; registering a kind again replaces it (reloads)."""
    _REHOMERS[rehomer.kind] = rehomer


def rehomers() -> list[Rehomer]:
    return sorted(_REHOMERS.values(), key=lambda r: (r.order, r.kind))
