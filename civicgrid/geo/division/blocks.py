"""Second input mode: village boundaries, road and river lines, and household points.

Chinese townships rarely hold census blocks; they hold village boundaries, a road and river
network and buildings with household counts. Blocks are the faces the lines cut out of each
village; each building's households go to the block it stands in.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Protocol

import numpy as np
import shapely
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry

from civicgrid.geo.division.engine import divide_village
from civicgrid.geo.division.model import (
    DEFAULT_MAX_HOUSEHOLDS,
    DEFAULT_MIN_HOUSEHOLDS,
    Compound,
    DivisionInputError,
    Unit,
    VillageDivision,
)


class HouseholdPoint(Protocol):
    @property
    def point(self) -> Point: ...

    @property
    def households(self) -> int: ...


class VillageOutline(Protocol):
    @property
    def code(self) -> Hashable: ...

    @property
    def boundary(self) -> Polygon: ...


def blocks_in_village(boundary: BaseGeometry, lines: Sequence[BaseGeometry]) -> list[Polygon]:
    """Faces cut out of ``boundary`` by ``lines``, north-west first for a stable order."""
    clipped = (
        [
            part
            for part in shapely.intersection(np.asarray(lines, dtype=object), boundary)
            if not part.is_empty
        ]
        if lines
        else []
    )
    # The union nodes every crossing, which polygonize needs; dangling ends are dropped.
    noded = shapely.union_all([boundary.boundary, *clipped])
    faces = list(shapely.get_parts(shapely.polygonize(shapely.get_parts(noded))))
    inside = [f for f in faces if boundary.contains(f.point_on_surface())]
    return sorted(inside, key=lambda f: (-f.point_on_surface().y, f.point_on_surface().x))


def households_per_block(blocks: Sequence[Polygon], houses: Sequence[HouseholdPoint]) -> list[int]:
    """Households per block; a house on a dividing line goes to the first block listed."""
    counts = [0] * len(blocks)
    if not blocks or not houses:
        return counts
    points = np.asarray([h.point for h in houses], dtype=object)
    house_index, block_index = shapely.STRtree(list(blocks)).query(points, predicate="intersects")
    first_block: dict[int, int] = {}
    for house, block in zip(house_index.tolist(), block_index.tolist(), strict=True):
        if house not in first_block or block < first_block[house]:
            first_block[house] = block
    for house, block in first_block.items():
        counts[block] += int(houses[house].households)
    return counts


def divide_village_from_lines(
    village: Hashable,
    boundary: BaseGeometry,
    lines: Sequence[BaseGeometry],
    houses: Sequence[HouseholdPoint],
    compounds: Sequence[Compound] = (),
    *,
    min_households: int = DEFAULT_MIN_HOUSEHOLDS,
    max_households: int = DEFAULT_MAX_HOUSEHOLDS,
    seed: int = 0,
) -> VillageDivision:
    """Blocks become units named ``<village>-<n>``; then the village is divided as usual."""
    if not boundary.is_valid:
        raise DivisionInputError(
            f"village {village!r}", f"invalid boundary: {shapely.is_valid_reason(boundary)}"
        )
    for index, house in enumerate(houses):
        if house.households < 0:
            raise DivisionInputError(
                f"house #{index}", f"household count {house.households} is negative"
            )
    blocks = blocks_in_village(boundary, lines)
    counts = households_per_block(blocks, houses)
    units = [
        Unit(id=f"{village}-{n:03d}", geometry=block, households=count)
        for n, (block, count) in enumerate(zip(blocks, counts, strict=True), start=1)
    ]
    return divide_village(
        units,
        compounds,
        min_households=min_households,
        max_households=max_households,
        seed=seed,
        village=village,
    )


def divide_township_from_lines(
    villages: Sequence[VillageOutline],
    lines: Sequence[BaseGeometry],
    houses: Sequence[HouseholdPoint],
    compounds: Sequence[Compound] = (),
    *,
    min_households: int = DEFAULT_MIN_HOUSEHOLDS,
    max_households: int = DEFAULT_MAX_HOUSEHOLDS,
    seed: int = 0,
) -> list[VillageDivision]:
    """Each house goes to the first village containing it; houses outside all are ignored."""
    outlines = [v.boundary for v in villages]
    points = np.asarray([h.point for h in houses], dtype=object)
    houses_of: list[list[HouseholdPoint]] = [[] for _ in villages]
    if len(points):
        house_index, village_index = shapely.STRtree(outlines).query(points, predicate="intersects")
        taken: set[int] = set()
        for house, v in sorted(zip(house_index.tolist(), village_index.tolist(), strict=True)):
            if house not in taken:
                taken.add(house)
                houses_of[v].append(houses[house])
    divisions = []
    for village, village_houses in zip(villages, houses_of, strict=True):
        inside = [c for c in compounds if c.geometry.intersects(village.boundary)]
        divisions.append(
            divide_village_from_lines(
                village.code,
                village.boundary,
                lines,
                village_houses,
                inside,
                min_households=min_households,
                max_households=max_households,
                seed=seed,
            )
        )
    return divisions
