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
    """A uniform grid of cells, each answered by one grid or marked for an exact test.

    Built without testing any cell against a polygon: the cells that a grid boundary may
    touch are found by walking each boundary segment in half-cell steps (with a hair of
    padding, so a segment along a cell edge marks the cells on both sides); those cells
    keep as candidates the grids whose boundary touches them plus the grids holding their
    centre. Every other cell lies wholly inside or wholly outside each grid, and so does
    the rest of its row up to the next marked cell: one centre lookup per such run names
    the grid (the lowest index holding it) for every cell of the run.
    """

    def __init__(self, geometries: np.ndarray, tree: shapely.STRtree) -> None:
        n = len(geometries)
        xmin, ymin, xmax, ymax = shapely.total_bounds(geometries)
        width, height = max(xmax - xmin, 1e-9), max(ymax - ymin, 1e-9)
        self.size = size = float(np.sqrt(width * height / (n * CELLS_PER_GRID)))
        self.x0, self.y0 = xmin, ymin
        self.nx, self.ny = nx, ny = int(width // size) + 1, int(height // size) + 1
        cells = nx * ny
        edge_cell, edge_grid = self._boundary_cells(geometries, 1e-9 * max(width, height) / size)
        marked = np.zeros(cells, dtype=bool)
        marked[edge_cell] = True
        # The first unmarked cell of each run along a row, and the run of every cell.
        col = np.arange(cells) % nx
        after_mark = np.ones(cells, dtype=bool)
        after_mark[1:] = marked[:-1]
        after_mark[col == 0] = True
        run_start = ~marked & after_mark
        run_of = np.cumsum(run_start) - 1
        probe = np.flatnonzero(run_start | marked)
        row = probe // nx
        centres = shapely.points(xmin + (probe % nx + 0.5) * size, ymin + (row + 0.5) * size)
        probe_index, grid = tree.query(centres, predicate="intersects")
        held_cell = probe[probe_index]
        # Unmarked cells: the lowest grid holding their run's first centre, or none.
        lowest = np.full(cells, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(lowest, held_cell, grid)
        lowest[lowest == np.iinfo(np.int64).max] = -1
        self.owner = np.full(cells, _UNDECIDED, dtype=np.int64)
        unmarked = np.flatnonzero(~marked)
        self.owner[unmarked] = lowest[np.flatnonzero(run_start)][run_of[unmarked]]
        # Marked cells: boundary grids and grids holding the centre, ascending per cell.
        at_mark = marked[held_cell]
        key = np.sort(
            np.concatenate([edge_cell * n + edge_grid, held_cell[at_mark] * n + grid[at_mark]])
        )
        key = key[np.concatenate(([True], key[1:] != key[:-1]))]  # sorted: cell, then grid
        cell, self.candidates = np.divmod(key, n)
        self.count = np.bincount(cell, minlength=cells)
        self.start = np.cumsum(self.count) - self.count

    def _boundary_cells(self, geometries: np.ndarray, pad: float) -> tuple[np.ndarray, np.ndarray]:
        """(cell, grid) for every cell a grid's boundary may touch; ``pad`` in cell widths."""
        parts, part_grid = shapely.get_parts(shapely.boundary(geometries), return_index=True)
        coords, part_of = shapely.get_coordinates(parts, return_index=True)
        u = (coords[:, 0] - self.x0) / self.size
        v = (coords[:, 1] - self.y0) / self.size
        same = part_of[1:] == part_of[:-1]  # segments within one ring
        u0, v0, u1, v1 = u[:-1][same], v[:-1][same], u[1:][same], v[1:][same]
        segment_grid = part_grid[part_of[:-1][same]]
        # Pieces of at most half a cell: each touches at most 2 x 2 cells, its box's corners.
        steps = (np.floor(2 * np.maximum(np.abs(u1 - u0), np.abs(v1 - v0))) + 1).astype(np.int64)
        segment = np.repeat(np.arange(steps.size), steps)
        step = np.arange(segment.size) - np.repeat(np.cumsum(steps) - steps, steps)
        t0 = step / steps[segment]
        t1 = (step + 1) / steps[segment]
        du, dv = (u1 - u0)[segment], (v1 - v0)[segment]
        pu0, pu1 = u0[segment] + du * t0, u0[segment] + du * t1
        pv0, pv1 = v0[segment] + dv * t0, v0[segment] + dv * t1
        lo_u = np.clip(np.floor(np.minimum(pu0, pu1) - pad), 0, self.nx - 1).astype(np.int64)
        hi_u = np.clip(np.floor(np.maximum(pu0, pu1) + pad), 0, self.nx - 1).astype(np.int64)
        lo_v = np.clip(np.floor(np.minimum(pv0, pv1) - pad), 0, self.ny - 1).astype(np.int64)
        hi_v = np.clip(np.floor(np.maximum(pv0, pv1) + pad), 0, self.ny - 1).astype(np.int64)
        piece_grid = segment_grid[segment].astype(np.int64)
        cells = np.concatenate(
            [
                lo_v * self.nx + lo_u,
                lo_v * self.nx + hi_u,
                hi_v * self.nx + lo_u,
                hi_v * self.nx + hi_u,
            ]
        )
        return cells, np.tile(piece_grid, 4)

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
