"""Sequence numbers inside a village: from west to east and from north to south.

The rule, deterministic and independent of input order:

1. Each grid is represented by a point that always lies inside it (Shapely's
   ``point_on_surface``) and by its bounding box.
2. Grids are taken from north to south by that point's latitude. The first grid opens a
   row; a grid joins the open row while its point lies no further south of the row's first
   point than half the median bounding-box height of the village's grids; otherwise it
   opens the next row. A row is therefore a band about one grid tall.
3. Inside a row grids are numbered from west to east by the point's longitude.
4. Exact ties (the same point) are broken by the caller's key, so the result never depends
   on the order grids arrive in.
"""

from __future__ import annotations

import statistics
from collections.abc import Hashable, Sequence

from shapely.geometry.base import BaseGeometry


def sequence_rows(
    geometries: Sequence[BaseGeometry], keys: Sequence[Hashable] | None = None
) -> list[list[int]]:
    """Rows from north to south, each a list of indices from west to east."""
    if not geometries:
        return []
    tie = list(keys) if keys is not None else list(range(len(geometries)))
    points = [g.point_on_surface() for g in geometries]
    heights = [g.bounds[3] - g.bounds[1] for g in geometries]
    band = statistics.median(heights) / 2.0
    order = sorted(range(len(geometries)), key=lambda i: (-points[i].y, points[i].x, tie[i]))
    rows: list[list[int]] = []
    row_top = 0.0
    for i in order:
        if not rows or row_top - points[i].y > band:
            rows.append([])
            row_top = points[i].y
        rows[-1].append(i)
    return [sorted(row, key=lambda i: (points[i].x, -points[i].y, tie[i])) for row in rows]


def sequence_numbers(
    geometries: Sequence[BaseGeometry], keys: Sequence[Hashable] | None = None
) -> list[int]:
    """The 1-based sequence number of each geometry, in input order."""
    numbers = [0] * len(geometries)
    n = 0
    for row in sequence_rows(geometries, keys):
        for i in row:
            n += 1
            numbers[i] = n
    return numbers
