"""Grid division: this engine against spopt's MaxPHeuristic on the same villages, one run.

Prints, per engine and as ratios: the share of grids within [min, max] (single units above
the maximum left out: nothing can fix them), mean Polsby-Popper (both measured here the same
way, on the union of each grid's units in a local equal-area projection) and run time. Our
time is end to end (projection, adjacency, division, unions, numbering); spopt is handed the
rook adjacency the engine computed, so its time is the solve alone.

Then a growth test on generated lattice villages from 1,000 to 100,000 units, and the peak
resident memory of ``civicgrid divide`` on the largest of them, run as its own process.

    python benchmarks/division.py            # all of Tottori east, growth to 100k units
    python benchmarks/division.py --quick    # 7 of the 10 Tottori villages, growth to 30k
    python benchmarks/division.py --datasets providence --no-growth   # slow: spopt needs
                                                                      # minutes per tract

Needs spopt (and so geopandas, libpysal) installed; it is not a runtime dependency.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import mapping, shape

from civicgrid.geo.division import Unit, divide_village
from civicgrid.geo.division.graph import local_equal_area, project, shared_boundaries
from civicgrid.geo.division.lattice import lattice_units

REPO = Path(__file__).resolve().parent.parent
DATASETS = {
    "tottori": ("tottori-oaza/tottori_east_small_areas_2015.geojson", "households"),
    "providence": ("providence-blocks/providence_blocks_2010.geojson", "hh_est"),
}
# Tottori city (31201) and the two villages where spopt's time swings between one and three
# minutes with the seed and machine load are left out of --quick.
QUICK_SKIP = {"31201", "31328", "31364"}


def load(relative: str, count_field: str) -> dict[str, list[Unit]]:
    root = Path(os.environ.get("CIVICGRID_SHARED_DATA", REPO.parent / "shared" / "data"))
    document = json.loads((root / relative).read_text(encoding="utf-8"))
    villages: dict[str, list[Unit]] = defaultdict(list)
    for item in document["features"]:
        p = item["properties"]
        villages[p["parent_id"]].append(Unit(p["id"], shape(item["geometry"]), int(p[count_field])))
    return dict(sorted(villages.items()))


def polsby_popper(projected: np.ndarray, members: list[int]) -> float:
    union = shapely.union_all(projected[members])
    return 4.0 * math.pi * union.area / union.length**2 if union.length else 0.0


def spopt_regions(
    units: list[Unit], projected: np.ndarray, low: int, seed: int
) -> tuple[list[list[int]], float]:
    import geopandas
    from libpysal.weights import W
    from spopt.region import MaxPHeuristic

    left, right, _ = shared_boundaries(projected)
    neighbours: dict[int, list[int]] = {i: [] for i in range(len(units))}
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        neighbours[a].append(b)
        neighbours[b].append(a)
    frame = geopandas.GeoDataFrame(
        {"households": [u.households for u in units]},
        geometry=[u.geometry for u in units],
        crs="EPSG:4326",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weights = W(neighbours, silence_warnings=True)
        np.random.seed(seed)
        started = time.perf_counter()
        model = MaxPHeuristic(frame, weights, ["households"], "households", low, top_n=2)
        model.solve()
        seconds = time.perf_counter() - started
    regions: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(np.asarray(model.labels_).tolist()):
        regions[int(label)].append(index)
    return list(regions.values()), seconds


def summarise(
    regions: list[list[int]], units: list[Unit], projected: np.ndarray, low: int, high: int
) -> tuple[int, int, list[float]]:
    """(countable regions, of which within bounds, Polsby-Popper of every region)."""
    counted = in_range = 0
    compactness = []
    for members in regions:
        households = sum(units[i].households for i in members)
        compactness.append(polsby_popper(projected, members))
        if len(members) == 1 and households > high:
            continue
        counted += 1
        in_range += low <= households <= high
    return counted, in_range, compactness


def compare(datasets: list[str], quick: bool, low: int, high: int, seed: int) -> None:
    print("each column: ours/spopt")
    print(
        f"{'village':<14}{'units':>6}  {'grids':^11}  {'in range':^15}  "
        f"{'mean PP':^13}  {'seconds':^15}"
    )
    totals = {name: {"counted": 0, "in": 0, "pp": [], "seconds": 0.0} for name in ("ours", "spopt")}
    for dataset in datasets:
        relative, field = DATASETS[dataset]
        for village, units in load(relative, field).items():
            if quick and village in QUICK_SKIP:
                continue
            projected = project(
                [u.geometry for u in units], local_equal_area([u.geometry for u in units])
            )
            position = {u.id: i for i, u in enumerate(units)}
            started = time.perf_counter()
            division = divide_village(units, min_households=low, max_households=high, seed=seed)
            ours_seconds = time.perf_counter() - started
            ours = [[position[uid] for uid in g.unit_ids] for g in division.grids]
            theirs, spopt_seconds = spopt_regions(units, projected, low, seed)
            row = []
            for name, regions, seconds in (
                ("ours", ours, ours_seconds),
                ("spopt", theirs, spopt_seconds),
            ):
                counted, in_range, compactness = summarise(regions, units, projected, low, high)
                t = totals[name]
                t["counted"] += counted
                t["in"] += in_range
                t["pp"] += compactness
                t["seconds"] += seconds
                row.append(
                    (
                        len(regions),
                        in_range / counted if counted else 1.0,
                        float(np.mean(compactness)),
                        seconds,
                    )
                )
            (n1, s1, p1, t1), (n2, s2, p2, t2) = row
            print(
                f"{dataset[:4]}:{village:<9}{len(units):>6}  {n1:>5}/{n2:<5}  "
                f"{s1:>6.1%}/{s2:<6.1%}  {p1:>6.3f}/{p2:<6.3f}  {t1:>7.2f}/{t2:<7.2f}"
            )
    ours, theirs = totals["ours"], totals["spopt"]
    share = {k: v["in"] / v["counted"] for k, v in totals.items()}
    mean_pp = {k: float(np.mean(v["pp"])) for k, v in totals.items()}
    print()
    rows = [
        (f"share in [{low},{high}]", share["ours"], share["spopt"], "%"),
        ("mean Polsby-Popper", mean_pp["ours"], mean_pp["spopt"], "f"),
        ("seconds", ours["seconds"], theirs["seconds"], "s"),
    ]
    print(f"{'':<22}{'ours':>10}{'spopt':>10}{'ours/spopt':>12}")
    for label, mine, other, kind in rows:
        shown = f"{mine:>10.1%}{other:>10.1%}" if kind == "%" else f"{mine:>10.3f}{other:>10.3f}"
        ratio = f"{mine / other:>12.3f}" + (
            f"  (spopt/ours {other / mine:.0f}x)" if kind == "s" else ""
        )
        print(f"{label:<22}{shown}{ratio}")


def growth(largest: int, low: int, high: int, seed: int) -> None:
    print()
    print(f"{'units':>8}{'grids':>8}{'in range':>10}{'mean PP':>9}{'seconds':>9}{'µs/unit':>9}")
    for target in (1_000, 3_000, 10_000, 30_000, 100_000):
        if target > largest:
            break
        side = round(math.sqrt(target))
        units = lattice_units(side, side, seed=seed)
        started = time.perf_counter()
        division = divide_village(units, min_households=low, max_households=high, seed=seed)
        seconds = time.perf_counter() - started
        report = division.report
        counted = report.grids - len(report.oversize_unit_ids)
        print(
            f"{len(units):>8}{report.grids:>8}{report.grids_in_range / counted:>10.1%}"
            f"{report.polsby_popper_mean:>9.3f}{seconds:>9.2f}{seconds / len(units) * 1e6:>9.0f}"
        )


def memory(units_wanted: int, seed: int) -> None:
    """Peak resident memory of ``civicgrid divide`` on generated units, file in, file out."""
    side = round(math.sqrt(units_wanted))
    units = lattice_units(side, side, seed=seed)
    features = [
        {
            "type": "Feature",
            "properties": {"id": u.id, "households": u.households, "village": "v"},
            "geometry": mapping(u.geometry),
        }
        for u in units
    ]
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "units.geojson"
        source.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
        del features, units
        command = [
            sys.executable, "-m", "civicgrid.cli", "divide", str(source),
            "--count-field", "households", "--village-field", "village",
            "--out", str(Path(folder) / "grids.geojson"),
        ]  # fmt: skip
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
        size = source.stat().st_size
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    print()
    print(
        f"civicgrid divide, {side * side:,} units ({size / 2**20:.0f} MiB of GeoJSON): "
        f"peak RSS {peak:.0f} MiB, {seconds:.0f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer villages, growth to 30k")
    parser.add_argument("--datasets", nargs="+", choices=sorted(DATASETS), default=None)
    parser.add_argument("--min", type=int, default=300, dest="low")
    parser.add_argument("--max", type=int, default=500, dest="high")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-growth", action="store_true")
    parser.add_argument("--no-memory", action="store_true", help="skip divide's peak RSS")
    args = parser.parse_args()
    datasets = args.datasets or ["tottori"]
    compare(datasets, args.quick, args.low, args.high, args.seed)
    if not args.no_growth:
        growth(30_000 if args.quick else 100_000, args.low, args.high, args.seed)
    if not args.no_memory:
        memory(30_000 if args.quick else 100_000, args.seed)


if __name__ == "__main__":
    main()
