"""Re-drawing with the least change: how many households keep their grid after growth.

Each data set is divided once (the division in force), then grows, then is redrawn twice:
with the least change (``redivide_village``) and afresh (``divide_village``, grids matched one
to one to the earlier grids they share most households with). Prints, per data set: grids
before, grids unchanged, households that change grid and the share that keep theirs, grids
within bounds among those that can be (not a single unit above the maximum, nothing proving
otherwise), and seconds.

Growth:
- demo: 2,000 households added to one village of the demo township, as a new estate spread
  over the 20 blocks nearest a random point in it;
- tottori, providence (shared data): in every village a new estate of 10 % of its households
  over the 10 units nearest a random point in it.

    python benchmarks/redivision.py                 # demo, tottori and providence
    python benchmarks/redivision.py --datasets demo
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from shapely.geometry import shape

from civicgrid.geo.division import Unit, VillageDivision, divide_village, redivide_village
from civicgrid.geo.division.lattice import add_estate

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
from _common import machine_line, table  # noqa: E402

SHARED = {
    "tottori": ("tottori-oaza/tottori_east_small_areas_2015.geojson", "households"),
    "providence": ("providence-blocks/providence_blocks_2010.geojson", "hh_est"),
}
DEMO_GROWTH = 2_000
DEMO_ESTATE_UNITS = 20
SHARED_GROWTH = 0.10
SHARED_ESTATE_UNITS = 10


@dataclass
class Figures:
    grids_before: int = 0
    grids_unchanged: int = 0
    households: int = 0  # in units that had a grid
    moved: int = 0
    earlier: int = 0  # households before the growth
    earlier_moved: int = 0  # of those, in units that change grid
    countable: int = 0
    countable_in_range: int = 0
    seconds: float = 0.0

    @property
    def keep_share(self) -> float:
        return 1.0 - self.moved / self.households if self.households else 1.0

    @property
    def earlier_keep_share(self) -> float:
        return 1.0 - self.earlier_moved / self.earlier if self.earlier else 1.0

    @property
    def in_range_share(self) -> float:
        return self.countable_in_range / self.countable if self.countable else 1.0


def load_shared(relative: str, count_field: str) -> dict[str, list[Unit]]:
    root = Path(os.environ.get("CIVICGRID_SHARED_DATA", REPO.parent / "shared" / "data"))
    document = json.loads((root / relative).read_text(encoding="utf-8"))
    villages: dict[str, list[Unit]] = defaultdict(list)
    for item in document["features"]:
        p = item["properties"]
        villages[p["parent_id"]].append(Unit(p["id"], shape(item["geometry"]), int(p[count_field])))
    return dict(sorted(villages.items()))


def load_demo() -> dict[str, list[Unit]]:
    from civicgrid.geo.synthetic import generate_township

    town = generate_township(0)
    villages: dict[str, list[Unit]] = defaultdict(list)
    for block in town.blocks:
        villages[block.village].append(Unit(block.id, block.polygon, block.households))
    return dict(sorted(villages.items()))


def grow(villages: dict[str, list[Unit]], dataset: str, seed: int) -> dict[str, list[Unit]]:
    rng = np.random.default_rng(seed)
    if dataset == "demo":
        target = sorted(villages)[int(rng.integers(len(villages)))]
        return {
            v: add_estate(units, DEMO_GROWTH, DEMO_ESTATE_UNITS, rng) if v == target else units
            for v, units in villages.items()
        }
    return {
        v: add_estate(
            units,
            round(SHARED_GROWTH * sum(u.households for u in units)),
            SHARED_ESTATE_UNITS,
            rng,
        )
        for v, units in villages.items()
    }


def fresh_figures(
    previous: dict[Hashable, int],
    division: VillageDivision,
    units: Sequence[Unit],
    earlier: Sequence[Unit],
    low: int,
    high: int,
) -> Figures:
    """Households that change grid when the village is divided afresh: each new grid continues
    the earlier grid it shares most households with, one to one."""
    households = {u.id: u.households for u in units}
    seqs = sorted(set(previous.values()))
    column = {s: c for c, s in enumerate(seqs)}
    weight = np.zeros((len(division.grids), len(seqs)))
    for row, grid in enumerate(division.grids):
        for uid in grid.unit_ids:
            if uid in previous:
                weight[row, column[previous[uid]]] += households[uid] + 1e-6
    rows, cols = linear_sum_assignment(weight, maximize=True)
    continues = {r: seqs[c] for r, c in zip(rows.tolist(), cols.tolist(), strict=True)}
    moved = sum(
        households[uid]
        for row, grid in enumerate(division.grids)
        for uid in grid.unit_ids
        if uid in previous and continues.get(row) != previous[uid]
    )
    countable = [g for g in division.grids if not g.oversize]
    seq_of = {
        uid: continues.get(row) for row, grid in enumerate(division.grids) for uid in grid.unit_ids
    }
    return Figures(
        grids_before=len(seqs),
        households=sum(households[u] for u in previous if u in households),
        moved=moved,
        earlier=sum(u.households for u in earlier),
        earlier_moved=sum(u.households for u in earlier if seq_of[u.id] != previous[u.id]),
        countable=len(countable),
        countable_in_range=sum(low <= g.households <= high for g in countable),
    )


def run(dataset: str, low: int, high: int, seed: int) -> tuple[Figures, Figures, list[str]]:
    villages = load_demo() if dataset == "demo" else load_shared(*SHARED[dataset])
    grown = grow(villages, dataset, seed)
    least, fresh = Figures(), Figures()
    scratch: list[str] = []
    for village, units in villages.items():
        before = divide_village(units, min_households=low, max_households=high, seed=seed)
        previous = {uid: grid.seq for grid in before.grids for uid in grid.unit_ids}
        started = time.perf_counter()
        change = redivide_village(
            grown[village], previous, min_households=low, max_households=high, seed=seed,
            village=village,
        )  # fmt: skip
        least.seconds += time.perf_counter() - started
        least.grids_before += change.grids_before
        least.grids_unchanged += len(change.grids_unchanged)
        least.households += change.households - change.households_without_grid
        least.moved += change.households_moved
        seq_of = {uid: grid.seq for grid in change.division.grids for uid in grid.unit_ids}
        least.earlier += sum(u.households for u in units)
        least.earlier_moved += sum(u.households for u in units if seq_of[u.id] != previous[u.id])
        least.countable += change.grids_countable
        least.countable_in_range += change.grids_countable_in_range
        if change.from_scratch:
            scratch.append(village)
        started = time.perf_counter()
        afresh = divide_village(grown[village], min_households=low, max_households=high, seed=seed)
        seconds = time.perf_counter() - started
        figures = fresh_figures(previous, afresh, grown[village], units, low, high)
        fresh.grids_before += figures.grids_before
        fresh.households += figures.households
        fresh.moved += figures.moved
        fresh.earlier += figures.earlier
        fresh.earlier_moved += figures.earlier_moved
        fresh.countable += figures.countable
        fresh.countable_in_range += figures.countable_in_range
        fresh.seconds += seconds
    return least, fresh, scratch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--datasets", nargs="+", choices=["demo", *SHARED], default=["demo", *SHARED]
    )
    parser.add_argument("--min", type=int, default=300, dest="low")
    parser.add_argument("--max", type=int, default=500, dest="high")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(machine_line())
    rows = []
    for dataset in args.datasets:
        least, fresh, scratch = run(dataset, args.low, args.high, args.seed)
        for name, f in (("least change", least), ("afresh", fresh)):
            rows.append(
                [
                    dataset,
                    name,
                    f.grids_before,
                    f.grids_unchanged if name == "least change" else "-",
                    f.households,
                    f.moved,
                    f"{f.keep_share:.1%}",
                    f"{f.earlier_keep_share:.1%}",
                    f"{f.countable_in_range}/{f.countable}",
                    f"{f.in_range_share:.1%}",
                    f"{f.seconds:.2f}",
                ]
            )
        if scratch:
            print(f"{dataset}: divided afresh (least change fell short): {', '.join(scratch)}")
    headers = [
        "data",
        "redrawn",
        "grids before",
        "unchanged",
        "households",
        "moved",
        "keep grid",
        "of earlier keep",
        "in range/can be",
        "share",
        "seconds",
    ]
    print(table(headers, rows))


if __name__ == "__main__":
    main()
