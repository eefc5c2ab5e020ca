"""Point → grid, for one point or millions.

Two paths, one answer. A few points go through the STRtree and an exact test. A bulk call
uses a uniform cell index, built on first use: a cell lying wholly inside one grid answers
every point in it from a numpy lookup, with no geometry work at all; only points in cells
that a boundary crosses get an exact ``intersects_xy`` test against that cell's candidate
grids, batched by grid. Measured here with 10,000 grids (benchmarks/locate.py) the cell path
was 6-7x the tree path.

A point on a shared edge belongs to the grid with the lowest index, on both paths.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

K = TypeVar("K", bound=Hashable)

# Below this many points the cell index is not worth building.
BULK_POINTS = 5_000
# About this many cells per grid: more cells decide more points without geometry work,
# at a longer build.
CELLS_PER_GRID = 64
_UNDECIDED = -2


class _CellIndex:
    def __init__(self, geometries: np.ndarray, tree: shapely.STRtree) -> None:
        n = len(geometries)
        xmin, ymin, xmax, ymax = shapely.total_bounds(geometries)
        width, height = max(xmax - xmin, 1e-9), max(ymax - ymin, 1e-9)
        self.size = size = float(np.sqrt(width * height / (n * CELLS_PER_GRID)))
        self.x0, self.y0 = xmin, ymin
        self.nx, self.ny = int(width // size) + 1, int(height // size) + 1
        cells = self.nx * self.ny
        # Widen each cell a hair so a point floor() puts in a cell is inside its box.
        pad = 1e-9 * max(width, height)
        row, col = np.divmod(np.arange(cells), self.nx)
        boxes = shapely.box(
            xmin + col * size - pad,
            ymin + row * size - pad,
            xmin + (col + 1) * size + pad,
            ymin + (row + 1) * size + pad,
        )
        cell, grid = tree.query(boxes, predicate="intersects")
        order = np.lexsort((grid, cell))
        cell, grid = cell[order], grid[order]
        self.count = np.bincount(cell, minlength=cells)
        self.start = np.cumsum(self.count) - self.count
        self.candidates = grid.astype(np.int64)
        self.owner = np.where(self.count == 0, -1, _UNDECIDED).astype(np.int64)
        alone = self.count[cell] == 1
        inside = shapely.contains_properly(geometries[grid[alone]], boxes[cell[alone]])
        self.owner[cell[alone][inside]] = grid[alone][inside]

    def locate(self, geometries: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        result = np.full(lon.shape[0], -1, dtype=np.int64)
        with np.errstate(invalid="ignore"):
            fx = np.floor((lon - self.x0) / self.size)
            fy = np.floor((lat - self.y0) / self.size)
        inside = np.flatnonzero((fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny))
        cell = fy[inside].astype(np.int64) * self.nx + fx[inside].astype(np.int64)
        owner = self.owner[cell]
        result[inside] = np.maximum(owner, -1)
        undecided = owner == _UNDECIDED
        points, cells = inside[undecided], cell[undecided]
        count = self.count[cells]
        total = int(count.sum())
        if total == 0:
            return result
        ends = np.cumsum(count)
        pair_point = np.repeat(points, count)
        offset = np.arange(total) - np.repeat(ends - count, count)
        pair_grid = self.candidates[np.repeat(self.start[cells], count) + offset]
        # Grouping the pairs by grid keeps each prepared polygon hot while it is tested.
        by_grid = np.argsort(pair_grid, kind="stable")
        hit = np.empty(total, dtype=bool)
        hit[by_grid] = shapely.intersects_xy(
            geometries[pair_grid[by_grid]], lon[pair_point[by_grid]], lat[pair_point[by_grid]]
        )
        # Pairs run point by point with grids ascending: the first hit is the lowest index.
        hit_point, hit_grid = pair_point[hit], pair_grid[hit]
        first = np.ones(hit_point.size, dtype=bool)
        first[1:] = hit_point[1:] != hit_point[:-1]
        result[hit_point[first]] = hit_grid[first]
        return result


class GridLocator[K: Hashable]:
    def __init__(self, keys: Sequence[K], geometries: Sequence[BaseGeometry]) -> None:
        if len(keys) != len(geometries):
            raise ValueError("keys and geometries differ in length")
        self.keys = list(keys)
        self.geometries = np.array(geometries, dtype=object)
        shapely.prepare(self.geometries)
        self.tree = shapely.STRtree(self.geometries)
        self._cells: _CellIndex | None = None

    def __len__(self) -> int:
        return len(self.keys)

    def locate_indices(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Index of the grid holding each point, -1 where none does."""
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        if not len(self.keys) or not lon.shape[0]:
            return np.full(lon.shape[0], -1, dtype=np.int64)
        if lon.shape[0] >= BULK_POINTS:
            if self._cells is None:
                self._cells = _CellIndex(self.geometries, self.tree)
            return self._cells.locate(self.geometries, lon, lat)
        return self._locate_by_tree(lon, lat)

    def _locate_by_tree(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        result = np.full(lon.shape[0], -1, dtype=np.int64)
        point_idx, grid_idx = self.tree.query(shapely.points(lon, lat))
        if point_idx.size == 0:
            return result
        hit = shapely.intersects_xy(self.geometries[grid_idx], lon[point_idx], lat[point_idx])
        best = np.full(lon.shape[0], np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(best, point_idx[hit], grid_idx[hit])
        found = best != np.iinfo(np.int64).max
        result[found] = best[found]
        return result

    def locate(self, lon: float, lat: float) -> K | None:
        index = int(self._locate_by_tree(np.array([lon], dtype=float), np.array([lat]))[0])
        return None if index < 0 else self.keys[index]

    def locate_many(self, lon: np.ndarray, lat: np.ndarray) -> list[K | None]:
        return [None if i < 0 else self.keys[i] for i in self.locate_indices(lon, lat)]
