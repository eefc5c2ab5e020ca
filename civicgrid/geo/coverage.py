"""Coverage rules of the manual, checked in one pass.

Grids of a village must cover it with no gap and no overlap, never cross it, each be one
connected polygon, and never split a declared compound. A detached piece that touches no
other grid at all (an islet in a lake or the sea) cannot be joined to any neighbour, so it
is accepted as part of its grid; a detached piece that borders other grids (an exclave) is
a violation. Areas are measured in m² in an
equal-area projection centred on the data; anything at or below ``tolerance_m2`` is
treated as digitising noise. Every violation carries its geometry (lon/lat), the grids
involved and its area, so a map can show exactly what is wrong.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import shapely
from django.utils.translation import gettext as _
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from civicgrid.geo.crs import equal_area_transformer

# Neighbours closer than this (about 0.5 m) count as touching: published boundaries are
# rounded to 6 decimals of a degree, about 0.1 m.
_TOUCH_DEGREES = 5e-6


class Kind(StrEnum):
    GAP = "gap"
    OVERLAP = "overlap"
    CROSSING = "crossing"
    PIECES = "pieces"
    COMPOUND = "compound"


@dataclass(frozen=True)
class GridShape:
    name: str
    village: str
    geometry: BaseGeometry


@dataclass(frozen=True)
class Violation:
    kind: Kind
    message: str
    village: str | None
    grids: tuple[str, ...]
    area_m2: float
    geometry: BaseGeometry = field(repr=False)


def _polygons(geometry: BaseGeometry) -> list[Polygon]:
    if geometry.is_empty:
        return []
    if isinstance(geometry, Polygon):
        return [geometry]
    if isinstance(geometry, MultiPolygon):
        return list(geometry.geoms)
    return [g for part in getattr(geometry, "geoms", []) for g in _polygons(part)]


def _borders_other(tree: shapely.STRtree, part: Polygon, own: int) -> bool:
    near = tree.query(part, predicate="dwithin", distance=_TOUCH_DEGREES)
    return any(int(j) != own for j in near)


def check_coverage(
    grids: Sequence[GridShape],
    villages: dict[str, BaseGeometry],
    *,
    compounds: Sequence[tuple[str, BaseGeometry]] = (),
    tolerance_m2: float = 1.0,
) -> list[Violation]:
    """Every violation of the coverage rules, in a stable order (kind, village, grids)."""
    everything = [g.geometry for g in grids] + list(villages.values())
    if not everything:
        return []
    minx, miny, maxx, maxy = shapely.total_bounds(np.array(everything, dtype=object))
    transformer = equal_area_transformer((minx + maxx) / 2, (miny + maxy) / 2)

    def forward(coords: np.ndarray) -> np.ndarray:
        return np.column_stack(transformer.transform(coords[:, 0], coords[:, 1]))

    def m2(geometry: BaseGeometry) -> float:
        # Set operations run on the lon/lat input, where shared edges share vertices
        # exactly; only the results are projected, to be measured.
        return float(shapely.transform(geometry, forward).area) if not geometry.is_empty else 0.0

    shapes = [g.geometry for g in grids]
    found: list[Violation] = []
    by_village: dict[str, list[int]] = defaultdict(list)
    for i, grid in enumerate(grids):
        by_village[grid.village].append(i)
    tree = shapely.STRtree(np.array(shapes, dtype=object))

    for i, grid in enumerate(grids):
        village = villages.get(grid.village)
        if village is None:
            found.append(
                Violation(
                    Kind.CROSSING,
                    _("grid %(grid)s names village %(village)s, which does not exist")
                    % {"grid": grid.name, "village": grid.village},
                    grid.village,
                    (grid.name,),
                    m2(grid.geometry),
                    grid.geometry,
                )
            )
            continue
        outside = grid.geometry.difference(village)
        outside_m2 = m2(outside)
        if outside_m2 > tolerance_m2:
            found.append(
                Violation(
                    Kind.CROSSING,
                    _("grid %(grid)s extends %(area).1f m² outside village %(village)s")
                    % {"grid": grid.name, "area": outside_m2, "village": grid.village},
                    grid.village,
                    (grid.name,),
                    outside_m2,
                    outside,
                )
            )
        parts = sorted(((m2(p), p) for p in _polygons(grid.geometry)), key=lambda pair: -pair[0])
        exclaves = [
            p for area, p in parts[1:] if area > tolerance_m2 and _borders_other(tree, p, i)
        ]
        if exclaves:
            stray = shapely.union_all(exclaves)
            found.append(
                Violation(
                    Kind.PIECES,
                    _("grid %(grid)s is in %(n)d separate pieces")
                    % {"grid": grid.name, "n": len(parts)},
                    grid.village,
                    (grid.name,),
                    m2(stray),
                    stray,
                )
            )

    for name, village in villages.items():
        members = by_village.get(name, [])
        covered = shapely.union_all([shapes[i] for i in members]) if members else Polygon()
        for hole in _polygons(village.difference(covered)):
            hole_m2 = m2(hole)
            if hole_m2 > tolerance_m2:
                found.append(
                    Violation(
                        Kind.GAP,
                        _("%(area).1f m² of village %(village)s is covered by no grid")
                        % {"area": hole_m2, "village": name},
                        name,
                        (),
                        hole_m2,
                        hole,
                    )
                )

    left, right = tree.query(np.array(shapes, dtype=object), predicate="intersects")
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i >= j:
            continue
        shared = shapes[i].intersection(shapes[j])
        shared_m2 = m2(shared)
        if shared_m2 > tolerance_m2:
            a, b = grids[i], grids[j]
            found.append(
                Violation(
                    Kind.OVERLAP,
                    _("grids %(a)s and %(b)s overlap by %(area).1f m²")
                    % {"a": a.name, "b": b.name, "area": shared_m2},
                    a.village if a.village == b.village else None,
                    (a.name, b.name),
                    shared_m2,
                    shared,
                )
            )

    for compound_name, compound in compounds:
        hits = tree.query(compound, predicate="intersects")
        holders = sorted(
            int(i) for i in hits if m2(shapes[int(i)].intersection(compound)) > tolerance_m2
        )
        if len(holders) > 1:
            names = tuple(grids[i].name for i in holders)
            found.append(
                Violation(
                    Kind.COMPOUND,
                    _("compound %(compound)s is split between grids %(grids)s")
                    % {"compound": compound_name, "grids": ", ".join(names)},
                    grids[holders[0]].village,
                    names,
                    m2(compound),
                    compound,
                )
            )

    order = list(Kind)
    found.sort(key=lambda v: (order.index(v.kind), v.village or "", v.grids, -v.area_m2))
    return found
