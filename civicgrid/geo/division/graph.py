"""Units as a weighted rook-adjacency graph measured in a local equal-area projection."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Transformer
from scipy.sparse import csr_array
from shapely.geometry.base import BaseGeometry

# Real boundaries carry slivers and coordinate rounding (6 decimals is about 0.1 m), so two
# units count as rook neighbours when at least MIN_SHARED_M of one's boundary runs within
# TOLERANCE_M of the other. Units meeting at a corner share only a few tolerance widths.
TOLERANCE_M = 0.5
MIN_SHARED_M = 2.5


# Boundary pairs measured at a time by shared_boundaries.
PAIR_BLOCK = 20_000


def local_equal_area(geometries: Sequence[BaseGeometry]) -> Transformer:
    """A Lambert azimuthal equal-area projection centred on the geometries (lon/lat in)."""
    west, south, east, north = shapely.total_bounds(np.asarray(geometries, dtype=object))
    lon0, lat0 = (west + east) / 2.0, (south + north) / 2.0
    return Transformer.from_crs(
        "EPSG:4326",
        f"+proj=laea +lat_0={lat0:.6f} +lon_0={lon0:.6f} +ellps=WGS84 +units=m",
        always_xy=True,
    )


def project(geometries: Sequence[BaseGeometry], transformer: Transformer) -> np.ndarray:
    projected: np.ndarray = shapely.transform(
        np.asarray(geometries, dtype=object), transformer.transform, interleaved=False
    )
    return projected


def shared_boundaries(
    projected: np.ndarray, tolerance: float = TOLERANCE_M, min_shared: float = MIN_SHARED_M
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rook pairs ``(i, j, length)`` with ``i < j`` and the shared boundary length in metres."""
    if len(projected) < 2:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    tree = shapely.STRtree(projected)
    left, right = tree.query(projected, predicate="dwithin", distance=tolerance)
    keep = left < right
    left, right = left[keep], right[keep]
    # In blocks of pairs, each block buffering and outlining its own units: the pieces of
    # boundary are needed only for their length, and all of them at once (about two per
    # unit, beside a buffer and an outline per unit) were a division's largest allocation.
    lengths = np.concatenate(
        [
            shapely.length(
                shapely.intersection(
                    shapely.boundary(projected[left[start : start + PAIR_BLOCK]]),
                    shapely.buffer(
                        projected[right[start : start + PAIR_BLOCK]], tolerance, quad_segs=2
                    ),
                )
            )
            for start in range(0, len(left), PAIR_BLOCK)
        ]
        or [np.zeros(0)]
    )
    rook = lengths >= min_shared
    return left[rook], right[rook], lengths[rook]


@dataclass
class UnitGraph:
    """Nodes are units or merged compound groups; all arrays indexed by node."""

    households: np.ndarray  # int64
    area: np.ndarray  # m²
    perimeter: np.ndarray  # m
    x: np.ndarray  # area-weighted centroid, m
    y: np.ndarray
    self_inertia: np.ndarray  # polar moment of each node about its own centroid, m⁴
    neighbours: list[dict[int, float]]  # node -> {neighbour: shared boundary length}
    matrix: csr_array  # symmetric, shared lengths as data

    @property
    def size(self) -> int:
        return len(self.households)


def build_graph(
    households: np.ndarray,
    projected: np.ndarray,
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray],
    group_of: np.ndarray,
) -> UnitGraph:
    """Collapse units into nodes by ``group_of`` (compounds) and sum their measures."""
    n_nodes = int(group_of.max()) + 1 if len(group_of) else 0
    area = shapely.area(projected)
    perimeter = shapely.length(projected)
    centroids = shapely.centroid(projected)
    cx, cy = shapely.get_x(centroids), shapely.get_y(centroids)
    # A disc of area a has polar moment a²/2π; real units are a little less compact.
    own = 1.2 * area * area / (2.0 * np.pi)

    node_households = np.bincount(group_of, weights=households, minlength=n_nodes).astype(np.int64)
    node_area = np.bincount(group_of, weights=area, minlength=n_nodes)
    safe_area = np.where(node_area > 0, node_area, 1.0)
    node_x = np.bincount(group_of, weights=area * cx, minlength=n_nodes) / safe_area
    node_y = np.bincount(group_of, weights=area * cy, minlength=n_nodes) / safe_area
    spread = area * ((cx - node_x[group_of]) ** 2 + (cy - node_y[group_of]) ** 2)
    node_inertia = np.bincount(group_of, weights=own + spread, minlength=n_nodes)
    node_perimeter = np.bincount(group_of, weights=perimeter, minlength=n_nodes)

    left, right, lengths = pairs
    a, b = group_of[left], group_of[right]
    inside = a == b
    # A boundary shared inside a compound is no longer perimeter of the merged node.
    node_perimeter -= 2.0 * np.bincount(a[inside], weights=lengths[inside], minlength=n_nodes)
    a, b, lengths = a[~inside], b[~inside], lengths[~inside]
    matrix = csr_array(
        (np.concatenate([lengths, lengths]), (np.concatenate([a, b]), np.concatenate([b, a]))),
        shape=(n_nodes, n_nodes),
    )
    matrix.sum_duplicates()
    neighbours: list[dict[int, float]] = [{} for _ in range(n_nodes)]
    indptr, indices, data = matrix.indptr, matrix.indices.tolist(), matrix.data.tolist()
    for node in range(n_nodes):
        start, stop = indptr[node], indptr[node + 1]
        neighbours[node] = dict(zip(indices[start:stop], data[start:stop], strict=True))
    return UnitGraph(
        households=node_households,
        area=node_area,
        perimeter=np.maximum(node_perimeter, 0.0),
        x=node_x,
        y=node_y,
        self_inertia=node_inertia,
        neighbours=neighbours,
        matrix=matrix,
    )
