"""Grid division: every hard rule is re-checked here from the geometry, not the report."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import shapely
from django.core.management import CommandError, call_command
from pyproj import Transformer
from shapely.geometry import Polygon, box, mapping, shape

from civicgrid.geo.division import (
    OVERSIZE_NOTE,
    Compound,
    DivisionInputError,
    Unit,
    VillageDivision,
    divide_village,
)
from civicgrid.geo.division.blocks import (
    blocks_in_village,
    divide_township_from_lines,
    households_per_block,
)
from civicgrid.geo.division.lattice import lattice_units
from civicgrid.testing import shared_data

LOW, HIGH = 300, 500
# Independent of the engine's own test: shared length from the overlap of two thin buffers.
BUFFER_M = 0.5
MIN_SHARED_M = 3.0


def _metric(geometries: Sequence[shapely.Geometry]) -> np.ndarray:
    west, south, east, north = shapely.total_bounds(np.asarray(geometries, dtype=object))
    to_metres = Transformer.from_crs(
        "EPSG:4326",
        f"+proj=aeqd +lat_0={(south + north) / 2} +lon_0={(west + east) / 2} +units=m",
        always_xy=True,
    )
    return shapely.transform(
        np.asarray(geometries, dtype=object), to_metres.transform, interleaved=False
    )


def _rook_neighbours(metric: np.ndarray) -> list[set[int]]:
    tree = shapely.STRtree(metric)
    left, right = tree.query(metric, predicate="dwithin", distance=2 * BUFFER_M)
    keep = left < right
    left, right = left[keep], right[keep]
    grown = shapely.buffer(metric, BUFFER_M)
    shared = shapely.area(shapely.intersection(grown[left], grown[right])) / (2 * BUFFER_M)
    neighbours: list[set[int]] = [set() for _ in metric]
    for a, b in zip(left[shared > MIN_SHARED_M], right[shared > MIN_SHARED_M], strict=True):
        neighbours[a].add(b)
        neighbours[b].add(a)
    return neighbours


def assert_hard_rules(
    units: Sequence[Unit],
    division: VillageDivision,
    compounds: Sequence[Compound] = (),
    *,
    numbered_from_one: bool = True,
) -> None:
    position = {u.id: i for i, u in enumerate(units)}
    assigned = [uid for grid in division.grids for uid in grid.unit_ids]
    assert sorted(map(str, assigned)) == sorted(str(u.id) for u in units), "exactly one grid each"
    assert len(assigned) == len(set(assigned))
    numbers = sorted(g.seq for g in division.grids)
    if numbered_from_one:
        assert numbers == list(range(1, len(division.grids) + 1))
    else:  # a redrawing keeps numbers and retires some
        assert len(set(numbers)) == len(numbers) and numbers[0] >= 1
    metric = _metric([u.geometry for u in units])
    neighbours = _rook_neighbours(metric)
    for grid in division.grids:
        members = {position[uid] for uid in grid.unit_ids}
        assert grid.households == sum(units[i].households for i in members)
        start = next(iter(members))
        seen, stack = {start}, [start]
        while stack:
            for m in neighbours[stack.pop()] & members:
                if m not in seen:
                    seen.add(m)
                    stack.append(m)
        assert seen == members, f"grid {grid.seq} is not rook-connected"
        if all(units[i].geometry.geom_type == "Polygon" for i in members):
            closed = shapely.union_all(shapely.buffer(metric[list(members)], BUFFER_M))
            assert closed.geom_type == "Polygon", f"grid {grid.seq} is not one polygon"
        if grid.oversize:
            assert sum(units[i].households > 0 for i in members) == 1 or compounds
            assert grid.households > HIGH
    grid_of = {uid: grid.seq for grid in division.grids for uid in grid.unit_ids}
    if compounds:
        compound_metric = _metric([*[u.geometry for u in units], *[c.geometry for c in compounds]])
        unit_metric, zone_metric = compound_metric[: len(units)], compound_metric[len(units) :]
        for zone in zone_metric:
            touched = shapely.area(shapely.intersection(unit_metric, zone)) > 1.0
            assert len({grid_of[units[i].id] for i in np.flatnonzero(touched)}) <= 1


def assert_out_of_range_explained(division: VillageDivision) -> None:
    problems = " ".join(division.report.problems)
    for grid in division.grids:
        if grid.oversize:
            assert OVERSIZE_NOTE in problems
        elif not LOW <= grid.households <= HIGH:
            assert str(division.report.village) in problems


def _square(x: float, y: float, size: float = 0.001) -> Polygon:
    return box(116.3 + x * size, 39.9 + y * size, 116.3 + (x + 1) * size, 39.9 + (y + 1) * size)


def test_every_grid_of_a_feasible_lattice_is_connected_and_within_bounds() -> None:
    units = lattice_units(20, 20, seed=3)
    division = divide_village(units, village="lattice")
    assert_hard_rules(units, division)
    assert all(LOW <= g.households <= HIGH for g in division.grids)
    assert division.report.problems == ()
    assert division.report.polsby_popper_mean > 0.5


def test_a_unit_alone_above_the_maximum_becomes_its_own_grid_reported_oversize() -> None:
    units = lattice_units(8, 8, seed=1)
    big = units[27]
    units[27] = Unit(big.id, big.geometry, 800)
    division = divide_village(units, village="v")
    assert_hard_rules(units, division)
    (grid,) = [g for g in division.grids if big.id in g.unit_ids]
    assert grid.unit_ids == (big.id,) and grid.oversize
    assert division.report.oversize_unit_ids == (big.id,)
    assert any(OVERSIZE_NOTE in p and repr(big.id) in p for p in division.report.problems)


def test_a_village_below_the_minimum_is_one_grid_and_reported() -> None:
    units = [Unit(f"u{i}", _square(i, 0), 50) for i in range(4)]
    division = divide_village(units, village="small")
    assert_hard_rules(units, division)
    assert len(division.grids) == 1 and division.grids[0].households == 200
    assert any("fewer than the minimum" in p for p in division.report.problems)


def test_a_compound_keeps_every_unit_it_overlaps_in_one_grid() -> None:
    units = lattice_units(12, 12, seed=5)
    # A school straddling the lattice's middle: without it a cut would run between these.
    school = Compound("school", box(116.3045, 39.9045, 116.3075, 39.9075))
    division = divide_village(units, [school], village="v")
    assert_hard_rules(units, division, [school])
    overlapping = [u.id for u in units if u.geometry.intersection(school.geometry).area > 1e-9]
    assert len(overlapping) >= 9
    assert (
        len({next(g.seq for g in division.grids if uid in g.unit_ids) for uid in overlapping}) == 1
    )


def test_units_without_households_still_belong_to_a_grid() -> None:
    units = [
        Unit(u.id, u.geometry, 0 if i % 3 == 0 else u.households)
        for i, u in enumerate(lattice_units(10, 10, seed=2))
    ]
    division = divide_village(units, village="v")
    assert_hard_rules(units, division)
    assert any(u.households == 0 for u in units)


def test_the_same_seed_gives_the_same_grids() -> None:
    units = lattice_units(15, 15, seed=7)
    first = divide_village(units, seed=11)
    second = divide_village(list(units), seed=11)
    assert [(g.seq, g.unit_ids) for g in first.grids] == [(g.seq, g.unit_ids) for g in second.grids]


def test_a_village_no_division_can_fit_is_explained() -> None:
    units = [Unit("a", _square(0, 0), 280), Unit("b", _square(1, 0), 280)]
    division = divide_village(units, village="gap")
    assert_hard_rules(units, division)
    assert any("'gap'" in p and "no number of grids" in p for p in division.report.problems)


def test_a_unit_no_grid_within_bounds_can_hold_is_named() -> None:
    # A ring of four: no dead ends, but any two together exceed the maximum.
    units = [Unit(f"u{x}{y}", _square(x, y), 290) for x in range(2) for y in range(2)]
    division = divide_village(units, village="v")
    assert_hard_rules(units, division)
    assert any("would take them above 500" in p for p in division.report.problems)


def test_small_dead_ends_that_overflow_their_only_link_are_explained() -> None:
    # A and B hang on H alone; neither can reach the minimum without H, and all three
    # together exceed the maximum, so no division of this village fits the bounds.
    layout = {"A": (0, 2, 284), "H": (1, 2, 208), "B": (2, 2, 43), "C": (1, 1, 200)}
    layout |= {"D": (0, 0, 150), "E": (1, 0, 150), "F": (0, -1, 150), "G": (1, -1, 150)}
    units = [Unit(uid, _square(x, y), h) for uid, (x, y, h) in layout.items()]
    division = divide_village(units, village="v")
    assert_hard_rules(units, division)
    assert any("'H' are the only way into units" in p for p in division.report.problems)


@pytest.mark.parametrize(
    ("unit", "problem"),
    [
        (Unit("dup", _square(5, 5), 10), "duplicate id"),
        (Unit("neg", _square(5, 5), -1), "negative"),
        (Unit("half", _square(5, 5), 2.5), "not an integer"),  # type: ignore[arg-type]
        (Unit("bow", Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]), 3), "invalid geometry"),
    ],
)
def test_bad_units_are_refused_naming_the_unit(unit: Unit, problem: str) -> None:
    units = [Unit("dup", _square(0, 0), 10), unit]
    with pytest.raises(DivisionInputError, match=problem) as refused:
        divide_village(units)
    assert repr(unit.id) in refused.value.subject


@pytest.fixture(scope="module")
def tottori() -> tuple[dict[str, list[Unit]], dict[str, VillageDivision]]:
    return _divide_file(
        shared_data("tottori-oaza/tottori_east_small_areas_2015.geojson"), "households"
    )


@pytest.fixture(scope="module")
def providence() -> tuple[dict[str, list[Unit]], dict[str, VillageDivision]]:
    return _divide_file(shared_data("providence-blocks/providence_blocks_2010.geojson"), "hh_est")


def _divide_file(
    path: Path, count_field: str
) -> tuple[dict[str, list[Unit]], dict[str, VillageDivision]]:
    villages: dict[str, list[Unit]] = defaultdict(list)
    for item in json.loads(path.read_text(encoding="utf-8"))["features"]:
        p = item["properties"]
        villages[p["parent_id"]].append(Unit(p["id"], shape(item["geometry"]), p[count_field]))
    return villages, {v: divide_village(units, village=v) for v, units in villages.items()}


def _share_in_range(divisions: dict[str, VillageDivision]) -> float:
    grids = [g for d in divisions.values() for g in d.grids if not g.oversize]
    return sum(LOW <= g.households <= HIGH for g in grids) / len(grids)


def test_every_grid_is_one_connected_polygon_on_tottori(tottori) -> None:
    villages, divisions = tottori
    for village, units in villages.items():
        assert_hard_rules(units, divisions[village])
        assert_out_of_range_explained(divisions[village])
    assert _share_in_range(divisions) >= 0.95


def test_tottori_units_above_the_maximum_are_reported_oversize(tottori) -> None:
    villages, divisions = tottori
    for village, units in villages.items():
        expected = {u.id for u in units if u.households > HIGH}
        assert set(divisions[village].report.oversize_unit_ids) == expected


def test_every_grid_is_one_connected_polygon_on_providence(providence) -> None:
    villages, divisions = providence
    for village, units in villages.items():
        assert_hard_rules(units, divisions[village])
        assert_out_of_range_explained(divisions[village])
    assert _share_in_range(divisions) >= 0.97


def test_blocks_cut_by_roads_and_rivers_divide_the_demo_township() -> None:
    from civicgrid.geo.synthetic import generate_township

    township = generate_township(seed=0)
    lines = [*township.roads, township.river]
    divisions = divide_township_from_lines(township.villages, lines, township.houses)
    assert len(divisions) == len(township.villages)
    placed = 0
    for village, division in zip(township.villages, divisions, strict=True):
        blocks = blocks_in_village(village.boundary, lines)
        inside = [h for h in township.houses if village.boundary.intersects(h.point)]
        counts = households_per_block(blocks, inside)
        units = [
            Unit(f"{village.code}-{n:03d}", b, c)
            for n, (b, c) in enumerate(zip(blocks, counts, strict=True), start=1)
        ]
        assert_hard_rules(units, division)
        assert_out_of_range_explained(division)
        covered = shapely.union_all([g.geometry for g in division.grids])
        assert covered.symmetric_difference(village.boundary).area < 1e-6 * village.boundary.area
        placed += sum(g.households for g in division.grids)
    assert placed == sum(h.households for h in township.houses)


def _write_units(path: Path, units: Sequence[Unit], village_of: dict[str, str]) -> None:
    features = [
        {
            "type": "Feature",
            "properties": {"id": u.id, "households": u.households, "parent_id": village_of[u.id]},
            "geometry": mapping(u.geometry),
        }
        for u in units
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))


def test_the_divide_command_writes_grids_and_a_report(tmp_path: Path) -> None:
    units = lattice_units(10, 10, seed=4)
    # Split by column so each village is connected: ids end in the column number.
    village_of = {u.id: "west" if int(u.id[-4:]) < 5 else "east" for u in units}
    source, out, report = tmp_path / "u.geojson", tmp_path / "g.geojson", tmp_path / "r.json"
    _write_units(source, units, village_of)
    call_command(
        "divide", str(source), "--count-field", "households", "--village-field", "parent_id",
        "--out", str(out), "--report", str(report),
    )  # fmt: skip
    grids = json.loads(out.read_text())["features"]
    assert {g["properties"]["village"] for g in grids} == {"west", "east"}
    assert all(len(g["properties"]["seq"]) == 2 for g in grids)
    assert sorted(uid for g in grids for uid in g["properties"]["units"]) == sorted(village_of)
    assert sum(g["properties"]["households"] for g in grids) == sum(u.households for u in units)
    summary = json.loads(report.read_text())
    assert set(summary["villages"]) == {"west", "east"}
    assert summary["totals"]["grids"] == len(grids)
    reported = ("grids_in_range", "grids_below_min", "grids_above_max", "oversize_units")
    reported += ("polsby_popper_mean", "polsby_popper_min", "seconds", "households", "units")
    for key in reported:
        assert key in summary["totals"] and key in summary["villages"]["west"]


def test_the_divide_command_keeps_compounds_whole(tmp_path: Path) -> None:
    units = lattice_units(12, 12, seed=5)
    school = box(116.3045, 39.9045, 116.3075, 39.9075)
    source, compounds, out = tmp_path / "u.geojson", tmp_path / "c.geojson", tmp_path / "g.geojson"
    _write_units(source, units, {u.id: "v" for u in units})
    compounds.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": {"id": "school"}, "geometry": mapping(school)}
                ],
            }
        )
    )
    call_command(
        "divide", str(source), "--count-field", "households", "--village-field", "parent_id",
        "--compounds", str(compounds), "--out", str(out),
    )  # fmt: skip
    overlapping = {u.id for u in units if u.geometry.intersection(school).area > 1e-9}
    holding = [
        g
        for g in json.loads(out.read_text())["features"]
        if overlapping & set(g["properties"]["units"])
    ]
    assert len(holding) == 1 and overlapping <= set(holding[0]["properties"]["units"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"households": -4}, "negative"),
        ({"households": None}, "missing property households"),
        ({"households": "many"}, "whole number"),
        ({"parent_id": None}, "missing property parent_id"),
        ({"id": "r0000c0000"}, "duplicate id"),
    ],
)
def test_the_divide_command_refuses_bad_features_and_writes_nothing(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    units = lattice_units(3, 3)
    source, out = tmp_path / "u.geojson", tmp_path / "g.geojson"
    _write_units(source, units, {u.id: "v" for u in units})
    document = json.loads(source.read_text())
    document["features"][4]["properties"].update(change)
    source.write_text(json.dumps(document))
    with pytest.raises(CommandError, match=message) as refused:
        call_command(
            "divide", str(source), "--count-field", "households", "--village-field",
            "parent_id", "--out", str(out),
        )  # fmt: skip
    assert "feature 5" in str(refused.value)
    assert not out.exists()


def test_the_divide_command_refuses_an_invalid_geometry(tmp_path: Path) -> None:
    units = lattice_units(2, 2)
    source, out = tmp_path / "u.geojson", tmp_path / "g.geojson"
    _write_units(source, units, {u.id: "v" for u in units})
    document = json.loads(source.read_text())
    document["features"][1]["geometry"] = mapping(Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]))
    source.write_text(json.dumps(document))
    with pytest.raises(CommandError, match=r"feature 2 .*invalid geometry"):
        call_command(
            "divide", str(source), "--count-field", "households", "--village-field",
            "parent_id", "--out", str(out),
        )  # fmt: skip
    assert not out.exists()
