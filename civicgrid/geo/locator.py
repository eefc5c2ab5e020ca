"""Point → grid, for one point or millions.

Bulk lookups go through one STRtree bounding-box query for all points at once, then one
vectorised exact test on the candidate (point, polygon) pairs against prepared polygons:
both steps run in GEOS without a Python loop per point or per polygon.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

K = TypeVar("K", bound=Hashable)


class GridLocator[K: Hashable]:
    def __init__(self, keys: Sequence[K], geometries: Sequence[BaseGeometry]) -> None:
        if len(keys) != len(geometries):
            raise ValueError("keys and geometries differ in length")
        self.keys = list(keys)
        self.geometries = np.array(geometries, dtype=object)
        shapely.prepare(self.geometries)
        self.tree = shapely.STRtree(self.geometries)

    def __len__(self) -> int:
        return len(self.keys)

    def locate_indices(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Index of the polygon holding each point, -1 where none does.

        A point on a shared edge belongs to the polygon with the lowest index, so every
        point gets exactly one answer and the same answer every time.
        """
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        result = np.full(lon.shape[0], -1, dtype=np.int64)
        if not len(self.keys) or not lon.shape[0]:
            return result
        points = shapely.points(lon, lat)
        point_idx, poly_idx = self.tree.query(points)
        if point_idx.size == 0:
            return result
        hit = shapely.intersects_xy(self.geometries[poly_idx], lon[point_idx], lat[point_idx])
        best = np.full(lon.shape[0], np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(best, point_idx[hit], poly_idx[hit])
        found = best != np.iinfo(np.int64).max
        result[found] = best[found]
        return result

    def locate(self, lon: float, lat: float) -> K | None:
        index = int(self.locate_indices(np.array([lon]), np.array([lat]))[0])
        return None if index < 0 else self.keys[index]

    def locate_many(self, lon: np.ndarray, lat: np.ndarray) -> list[K | None]:
        return [None if i < 0 else self.keys[i] for i in self.locate_indices(lon, lat)]
