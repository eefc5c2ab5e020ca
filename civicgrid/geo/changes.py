"""What a division version changes against the active one, grid by grid.

A grid is *same* when the active version has a grid with its code and its boundary;
*renumbered* when the active version has its boundary under another code; *redrawn* when
its code exists but the boundary moved; *new* when neither. Active grids whose code and
boundary are both gone are *retired*. Boundaries are compared in square metres in an
equal-area plane, so rounding in a file never counts as a change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import shapely
from shapely.geometry.base import BaseGeometry

from civicgrid.geo.crs import project_all

# Less than a square metre of difference is the same boundary.
TOLERANCE_M2 = 1.0


class Change(StrEnum):
    SAME = "same"
    REDRAWN = "redrawn"
    RENUMBERED = "renumbered"
    NEW = "new"


@dataclass(frozen=True)
class GridShape:
    code: str
    geometry: BaseGeometry
    households: int


@dataclass(frozen=True)
class GridChange:
    code: str
    change: Change
    previous: str | None  # the active grid it continues (same boundary, same code, or most overlap)
    previous_households: int | None
    households: int


@dataclass(frozen=True)
class DivisionChanges:
    grids: list[GridChange]
    retired: list[GridShape]

    @property
    def changed(self) -> list[GridChange]:
        return [g for g in self.grids if g.change is not Change.SAME]


def compare(draft: Sequence[GridShape], active: Sequence[GridShape]) -> DivisionChanges:
    projected = project_all([g.geometry for g in draft] + [g.geometry for g in active])
    draft_m, active_m = projected[: len(draft)], projected[len(draft) :]
    by_code = {g.code: i for i, g in enumerate(active)}
    tree = shapely.STRtree(active_m) if active_m else None
    continued: set[int] = set()
    out: list[GridChange] = []
    for grid, shape in zip(draft, draft_m, strict=True):
        candidates = [int(i) for i in tree.query(shape, predicate="intersects")] if tree else []
        overlaps = {i: shape.intersection(active_m[i]).area for i in candidates}
        identical = [
            i for i in candidates if shape.symmetric_difference(active_m[i]).area < TOLERANCE_M2
        ]
        if identical:
            i = identical[0]
            change = Change.SAME if active[i].code == grid.code else Change.RENUMBERED
        elif grid.code in by_code:
            i = by_code[grid.code]
            change = Change.REDRAWN
        else:
            best = max(overlaps, key=lambda k: overlaps[k], default=None)
            i = best if best is not None and overlaps[best] >= TOLERANCE_M2 else -1
            change = Change.NEW
        if i >= 0:
            continued.add(i)
        out.append(
            GridChange(
                code=grid.code,
                change=change,
                previous=active[i].code if i >= 0 else None,
                previous_households=active[i].households if i >= 0 else None,
                households=grid.households,
            )
        )
    codes = {g.code for g in draft}
    retired = [g for i, g in enumerate(active) if g.code not in codes and i not in continued]
    return DivisionChanges(grids=out, retired=retired)
