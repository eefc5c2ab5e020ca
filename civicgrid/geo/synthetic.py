"""A generated, deterministic demo township: river, roads, villages, blocks and houses.

Nothing here comes from real data. The shapes are built in a local metric plane and
projected to lon/lat around a point in the Pearl River Delta, so codes and coordinates look
like a real township's while describing no real place.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiPoint, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import polygonize, unary_union

from civicgrid.geo.crs import equal_area_transformer

CENTRE_LON, CENTRE_LAT = 113.752, 23.021
DIVISION_CODE, TOWNSHIP_CODE = "441900", "123"
VILLAGE_NAMES = [
    "东坑村", "南岭村", "西湖社区", "北岸村", "河口村", "新塘社区", "石桥村", "柳溪村",
]  # fmt: skip


@dataclass(frozen=True)
class SyntheticVillage:
    code: str
    name: str
    boundary: Polygon


@dataclass(frozen=True)
class SyntheticHouse:
    id: str
    point: Point
    households: int
    block: str


@dataclass(frozen=True)
class SyntheticBlock:
    id: str
    village: str
    polygon: Polygon
    households: int


@dataclass
class SyntheticTownship:
    seed: int
    division_code: str
    township_code: str
    name: str
    boundary: Polygon
    river: LineString
    roads: list[LineString]
    villages: list[SyntheticVillage]
    blocks: list[SyntheticBlock]
    houses: list[SyntheticHouse]

    @property
    def households(self) -> int:
        return sum(b.households for b in self.blocks)


def _wavy(
    start: tuple[float, float],
    end: tuple[float, float],
    rng: np.random.Generator,
    amplitude: float,
    steps: int = 40,
) -> LineString:
    (x0, y0), (x1, y1) = start, end
    t = np.linspace(0.0, 1.0, steps)
    length = math.hypot(x1 - x0, y1 - y0)
    nx, ny = -(y1 - y0) / length, (x1 - x0) / length
    phase = rng.uniform(0, 2 * math.pi)
    waves = rng.uniform(0.5, 1.5)
    offset = amplitude * np.sin(2 * math.pi * waves * t + phase) * np.sin(math.pi * t) ** 0.2
    return LineString(np.column_stack([x0 + (x1 - x0) * t + nx * offset,
                                       y0 + (y1 - y0) * t + ny * offset]))  # fmt: skip


def _outline(rng: np.random.Generator, width: float, height: float) -> Polygon:
    angles = np.sort(rng.uniform(0, 2 * math.pi, 28))
    radius = 1.0 + 0.08 * rng.standard_normal(28)
    ring = np.column_stack(
        [width / 2 * radius * np.cos(angles), height / 2 * radius * np.sin(angles)]
    )
    return Polygon(ring).buffer(0)


def _metric(seed: int) -> tuple[Polygon, LineString, list[LineString], list[Polygon]]:
    rng = np.random.default_rng(seed)
    width, height = 7000.0, 5600.0
    outline = _outline(rng, width, height)
    river = _wavy((-width, rng.uniform(-600, 600)), (width, rng.uniform(-600, 600)), rng, 450)
    roads: list[LineString] = []
    for x in np.arange(-width / 2 + 350, width / 2, 380.0):
        jitter = rng.uniform(-60, 60)
        roads.append(_wavy((x + jitter, -height), (x - jitter, height), rng, 40, 24))
    for y in np.arange(-height / 2 + 300, height / 2, 340.0):
        jitter = rng.uniform(-60, 60)
        roads.append(_wavy((-width, y + jitter), (width, y - jitter), rng, 40, 24))
    n_villages = int(rng.integers(6, 9))
    seeds = MultiPoint(
        [(rng.uniform(-width / 2.6, width / 2.6), rng.uniform(-height / 2.6, height / 2.6))
         for _ in range(n_villages)]
    )  # fmt: skip
    cells = shapely.voronoi_polygons(seeds, extend_to=outline.buffer(2000))
    villages = [c.intersection(outline) for c in cells.geoms]
    villages = [v for v in villages if not v.is_empty]
    # Stable order west→east, north→south so village codes read like the grids' do.
    villages.sort(key=lambda v: (-round(v.centroid.y / 1500), v.centroid.x))
    return outline, river, roads, villages


def _density(x: float, y: float, river: LineString) -> float:
    """Households per hectare: a dense town by the river centre, thinning outwards."""
    centre = math.exp(-(x * x + y * y) / (2 * 1600.0**2))
    bank = math.exp(-river.distance(Point(x, y)) / 900.0)
    return 0.2 + 12.5 * centre + 2.0 * bank


def generate_township(seed: int = 0) -> SyntheticTownship:
    rng = np.random.default_rng(seed + 1000)
    outline, river, roads, village_shapes = _metric(seed)
    lines = [outline.exterior, river, *roads, *(v.exterior for v in village_shapes)]
    noded = unary_union([line.intersection(outline.buffer(1.0)) for line in lines])
    # Slivers under a square metre are noise from noding curved lines; rounding to 7
    # decimals (about a centimetre) would collapse them into invalid rings.
    pieces = [
        p for p in polygonize(noded) if p.area > 1.0 and outline.contains(p.representative_point())
    ]

    village_tree = shapely.STRtree(village_shapes)
    metric_blocks: list[tuple[str, Polygon]] = []
    for piece in sorted(pieces, key=lambda p: (-p.centroid.y, p.centroid.x)):
        rp = piece.representative_point()
        hits = [int(i) for i in village_tree.query(rp, predicate="within")]
        if hits:
            metric_blocks.append((f"{hits[0] + 1:03d}", piece))

    houses_metric: list[tuple[str, float, float, int]] = []
    block_households: dict[int, int] = {}
    for index, (_village, poly) in enumerate(metric_blocks):
        cx, cy = poly.centroid.x, poly.centroid.y
        density = _density(cx, cy, river)
        expected = density * poly.area / 10_000.0
        apartment = density > 8.0
        total = 0
        minx, miny, maxx, maxy = poly.bounds
        target = min(int(rng.poisson(expected)), 280)
        attempts = 0
        while total < target and attempts < 2000:
            attempts += 1
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if not poly.contains(Point(x, y)):
                continue
            size = int(rng.integers(8, 48)) if apartment else int(rng.integers(1, 4))
            size = min(size, target - total)
            houses_metric.append((f"B{index + 1:04d}", x, y, size))
            total += size
        block_households[index] = total

    to_lonlat = _inverse(equal_area_transformer(CENTRE_LON, CENTRE_LAT))
    blocks = [
        SyntheticBlock(f"B{i + 1:04d}", village, _project(poly, to_lonlat), block_households[i])
        for i, (village, poly) in enumerate(metric_blocks)
    ]
    # A village is exactly the union of its blocks, so grids made of blocks cover it
    # with no sliver from rounding the two separately.
    villages = [
        SyntheticVillage(
            f"{i + 1:03d}",
            VILLAGE_NAMES[i % len(VILLAGE_NAMES)],
            shapely.union_all([b.polygon for b in blocks if b.village == f"{i + 1:03d}"]),
        )
        for i in range(len(village_shapes))
    ]
    hx = np.array([h[1] for h in houses_metric])
    hy = np.array([h[2] for h in houses_metric])
    lon, lat = to_lonlat(hx, hy)
    houses = [
        SyntheticHouse(f"H{i + 1:05d}", Point(float(lon[i]), float(lat[i])), h[3], h[0])
        for i, h in enumerate(houses_metric)
    ]
    township = SyntheticTownship(
        seed=seed,
        division_code=DIVISION_CODE,
        township_code=TOWNSHIP_CODE,
        name="示范镇",
        boundary=_project(outline, to_lonlat),
        river=_project(river.intersection(outline), to_lonlat),
        roads=[_project(r.intersection(outline), to_lonlat) for r in roads],
        villages=villages,
        blocks=blocks,
        houses=houses,
    )
    return township


LonLat = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _inverse(transformer: Transformer) -> LonLat:
    def apply(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return transformer.transform(x, y, direction="INVERSE")

    return apply


def _project(geometry: BaseGeometry, to_lonlat: LonLat) -> BaseGeometry:
    def apply(coords: np.ndarray) -> np.ndarray:
        lon, lat = to_lonlat(coords[:, 0], coords[:, 1])
        return np.column_stack([np.round(lon, 7), np.round(lat, 7)])

    return shapely.transform(geometry, apply)
