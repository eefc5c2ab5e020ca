"""Point → grid: the bulk GridLocator against a naive loop over polygon.contains(Point).

Grids are a Voronoi tessellation of random seeds (one Lloyd relaxation step, so cells are
irregular but of similar size, as real grids are) clipped to a box of about 30 km × 22 km in
lon/lat; points are uniformly random in the box. The bulk locator takes every point at once;
the naive loop (unprepared polygons, early break at the first hit, the way one would write it
by hand) runs on a sample and is scaled to points per second. Both must give the same grid for
every sampled point; a point exactly on a shared edge may legitimately differ (the locator
returns the lowest index, `contains` excludes the boundary).

    .venv/bin/python benchmarks/locate.py                 # 120 and 10,000 grids, 1 M points
    .venv/bin/python benchmarks/locate.py --points 200000 --grids 120,1000,10000
    .venv/bin/python benchmarks/locate.py --locator civicgrid.geo.locator:GridLocator \
        --locator mymodule:FasterLocator           # a candidate, side by side in one run

Figures are medians of --repeat runs on whatever machine this is; compare the ratios.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time

import numpy as np
import shapely
from _common import human, load_average, machine_line, table, timed
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

# Lon/lat box around a township in the Pearl River Delta (WGS 84).
BOX = (113.60, 22.90, 113.90, 23.10)

# Naive-loop sample sizes per grid count: the loop is O(points × grids).
NAIVE_SAMPLE = {120: 20_000, 10_000: 2_000}


def tessellation(count: int, seed: int) -> list[BaseGeometry]:
    """``count`` irregular polygons that cover BOX without gaps or overlaps."""
    rng = np.random.default_rng(seed)
    box = shapely.box(*BOX)
    seeds = np.column_stack(
        [rng.uniform(BOX[0], BOX[2], count), rng.uniform(BOX[1], BOX[3], count)]
    )
    for _ in range(2):  # the second pass is the tessellation of the relaxed seeds
        cells = shapely.get_parts(
            shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=box)
        )
        cells = shapely.intersection(cells, box)
        seeds = shapely.get_coordinates(shapely.centroid(cells))
    if len(cells) != count:
        raise RuntimeError(f"tessellation gave {len(cells)} cells, wanted {count}")
    return list(cells)


def random_points(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(BOX[0], BOX[2], count), rng.uniform(BOX[1], BOX[3], count)


def naive_locate(polygons: list[BaseGeometry], lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The hand-written way: every polygon in turn until one contains the point."""
    result = np.full(len(lon), -1, dtype=np.int64)
    for j, (x, y) in enumerate(zip(lon.tolist(), lat.tolist(), strict=True)):
        point = Point(x, y)
        for i, polygon in enumerate(polygons):
            if polygon.contains(point):
                result[j] = i
                break
    return result


class ContainsXY:
    """The peer: each prepared grid tests the points within its bounding box by contains_xy.

    Points are sorted by longitude once per call, so each grid reads the slice of points
    within its west-east extent and keeps those within its south-north extent; a point
    takes the first grid (lowest index) that contains it.
    """

    def __init__(self, keys: list[int], geometries: list[BaseGeometry]) -> None:
        self.geometries = np.array(geometries, dtype=object)
        shapely.prepare(self.geometries)
        self.bounds = shapely.bounds(self.geometries)

    def locate_indices(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        order = np.argsort(lon, kind="stable")
        xs = lon[order]
        result = np.full(lon.shape[0], -1, dtype=np.int64)
        starts = np.searchsorted(xs, self.bounds[:, 0], side="left")
        ends = np.searchsorted(xs, self.bounds[:, 2], side="right")
        for index in range(len(self.geometries)):
            chosen = order[starts[index] : ends[index]]
            y = lat[chosen]
            chosen = chosen[(y >= self.bounds[index, 1]) & (y <= self.bounds[index, 3])]
            chosen = chosen[result[chosen] < 0]
            hit = shapely.contains_xy(self.geometries[index], lon[chosen], lat[chosen])
            result[chosen[hit]] = index
        return result


def first_call(locator_class: type, polygons: list[BaseGeometry], lon, lat) -> float:  # type: ignore[no-untyped-def]
    """Seconds from fresh geometries to the first bulk answer: preparing, indexing, locating."""
    fresh = list(shapely.from_wkb(shapely.to_wkb(polygons)))
    started = time.perf_counter()
    locator_class(list(range(len(fresh))), fresh).locate_indices(lon, lat)
    return time.perf_counter() - started


def load_locator(spec: str) -> type:
    """``package.module:Class`` taking (keys, geometries) and offering locate_indices."""
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name or "GridLocator")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000, help="points for the bulk run")
    parser.add_argument("--grids", default="120,10000", help="grid counts, comma-separated")
    parser.add_argument("--naive-points", type=int, help="naive sample (default 20k / 2k)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument(
        "--locator",
        action="append",
        help="module:Class of a bulk locator taking (keys, geometries); repeat the option to "
        "compare a candidate with GridLocator in one run (default: "
        "civicgrid.geo.locator:GridLocator)",
    )
    args = parser.parse_args(argv)
    grid_counts = [int(g) for g in args.grids.split(",") if g.strip()]
    specs = args.locator or ["civicgrid.geo.locator:GridLocator"]
    locators = {spec.rpartition(":")[2] or spec: load_locator(spec) for spec in specs}

    print(f"Point → grid, {machine_line()}")
    print(
        f"shapely {shapely.__version__}, GEOS {shapely.geos_version_string}, numpy {np.__version__}"
    )
    print(f"bulk: locate_indices of {', '.join(specs)}; naive: polygon.contains(Point)")
    print()

    lon, lat = random_points(args.points, args.seed)
    rows: list[list[object]] = []
    notes: list[str] = []
    for count in grid_counts:
        polygons = tessellation(count, args.seed + count)

        # A locator prepares the geometries it is given, in place: the naive loop gets its
        # own unprepared copies, as a hand-written loop over fresh geometries would have.
        plain = list(shapely.from_wkb(shapely.to_wkb(polygons)))
        sample = min(args.naive_points or NAIVE_SAMPLE.get(count, 2_000), args.points)
        xs, ys = lon[:sample], lat[:sample]
        naive_s, naive = timed(
            lambda p=plain, xs=xs, ys=ys: naive_locate(p, xs, ys),
            args.repeat if count <= 1_000 else 1,
        )
        naive_rate = sample / naive_s
        reference: np.ndarray | None = None

        for name, locator_class in locators.items():
            fresh = list(shapely.from_wkb(shapely.to_wkb(polygons)))
            build_s, locator = timed(lambda c=locator_class, p=fresh: c(list(range(len(p))), p))
            bulk_s, bulk = timed(lambda loc=locator: loc.locate_indices(lon, lat), args.repeat)
            mismatches = int(np.count_nonzero(naive != bulk[:sample]))
            unassigned = int(np.count_nonzero(bulk < 0))
            if reference is None:
                reference = bulk
                differ = ""
            else:
                differ = (
                    f"; {int(np.count_nonzero(bulk != reference)):,} answers differ from the first"
                )
            bulk_rate = args.points / bulk_s
            rows.append([f"{count:,}", f"bulk {name}", f"{args.points:,}", f"{bulk_s:.3f}",
                         human(bulk_rate), f"{bulk_rate / naive_rate:,.0f}×"])  # fmt: skip
            notes.append(
                f"{count:,} grids, {name}: index built in {build_s:.3f} s; "
                f"{mismatches} mismatches with the naive loop on {sample:,} sampled points; "
                f"{unassigned} of {args.points:,} points left without a grid{differ}"
            )
        peer_s, peer = timed(
            lambda p=polygons: ContainsXY(list(range(len(p))), p).locate_indices(lon, lat),
            args.repeat,
        )
        peer_rate = args.points / peer_s
        rows.append([f"{count:,}", "contains_xy peer", f"{args.points:,}", f"{peer_s:.3f}",
                     human(peer_rate), f"{peer_rate / naive_rate:,.0f}×"])  # fmt: skip
        rows.append([f"{count:,}", "naive loop", f"{sample:,}", f"{naive_s:.3f}",
                     human(naive_rate), "1×"])  # fmt: skip
        inside = peer >= 0
        notes.append(
            f"{count:,} grids, contains_xy peer: "
            f"{int(np.count_nonzero(peer[inside] != reference[inside])):,} answers differ "  # type: ignore[index]
            f"from the first bulk locator's off shared edges"
        )
        # The first call on fresh geometries: the peer prepares them; the locator prepares,
        # builds its tree and its cell index. Alternated, medians of --repeat.
        firsts: dict[str, list[float]] = {"peer": [], "ours": []}
        first_class = next(iter(locators.values()))
        for round_no in range(args.repeat):
            order = ("peer", "ours") if round_no % 2 == 0 else ("ours", "peer")
            for side in order:
                chosen = ContainsXY if side == "peer" else first_class
                firsts[side].append(first_call(chosen, polygons, lon, lat))
        ours_first, peer_first = (statistics.median(firsts[k]) for k in ("ours", "peer"))
        notes.append(
            f"{count:,} grids, first call on fresh grids: {next(iter(locators))} "
            f"{ours_first:.3f} s, contains_xy peer {peer_first:.3f} s "
            f"(peer ÷ ours {peer_first / ours_first:.2f})"
        )

    print(table(["grids", "method", "points", "seconds", "points/s", "÷ naive"], rows))
    print()
    print("\n".join(notes))
    print(f"load average at the end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
