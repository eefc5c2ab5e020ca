"""Each kind of coverage violation on a small crafted case, and the real Tottori areas."""

import json
from collections import defaultdict

import pytest
import shapely
from shapely.geometry import box, shape

from civicgrid.geo.coverage import GridShape, Kind, check_coverage
from civicgrid.testing import shared_data

# Around 23°N one degree is ~102 km east-west and ~111 km north-south: a 0.01° square
# is about 1.1 km², so areas below are checked loosely against those figures.
VILLAGE = box(113.00, 23.00, 113.02, 23.01)


def two_halves() -> list[GridShape]:
    return [
        GridShape("west", "v1", box(113.00, 23.00, 113.01, 23.01)),
        GridShape("east", "v1", box(113.01, 23.00, 113.02, 23.01)),
    ]


def kinds(violations):
    return [v.kind for v in violations]


def test_grids_that_tile_their_village_are_clean():
    assert check_coverage(two_halves(), {"v1": VILLAGE}) == []


def test_a_gap_is_reported_with_its_area_and_geometry():
    grids = [
        GridShape("west", "v1", box(113.00, 23.00, 113.01, 23.01)),
        GridShape("east", "v1", box(113.011, 23.00, 113.02, 23.01)),
    ]
    (gap,) = check_coverage(grids, {"v1": VILLAGE})
    assert gap.kind is Kind.GAP
    assert gap.village == "v1"
    assert 100_000 < gap.area_m2 < 130_000  # 0.001° x 0.01° ≈ 102 m x 1,107 m
    assert gap.geometry.bounds == pytest.approx((113.01, 23.00, 113.011, 23.01), abs=1e-7)


def test_an_overlap_names_both_grids():
    grids = [
        GridShape("west", "v1", box(113.00, 23.00, 113.011, 23.01)),
        GridShape("east", "v1", box(113.01, 23.00, 113.02, 23.01)),
    ]
    (overlap,) = check_coverage(grids, {"v1": VILLAGE})
    assert overlap.kind is Kind.OVERLAP
    assert overlap.grids == ("west", "east")
    assert 100_000 < overlap.area_m2 < 130_000


def test_a_grid_crossing_its_village_boundary():
    grids = [*two_halves(), GridShape("stray", "v2", box(113.015, 23.00, 113.03, 23.01))]
    villages = {"v1": VILLAGE, "v2": box(113.02, 23.00, 113.03, 23.01)}
    found = check_coverage(grids, villages)
    crossing = [v for v in found if v.kind is Kind.CROSSING]
    assert len(crossing) == 1 and crossing[0].grids == ("stray",)
    # The part of "stray" inside v1 overlaps the east grid too.
    assert Kind.OVERLAP in kinds(found)


def test_a_grid_in_two_pieces_that_border_other_grids():
    # "west" also owns a detached square inside the eastern half: an exclave.
    exclave = box(113.015, 23.004, 113.016, 23.005)
    grids = [
        GridShape("west", "v1", box(113.00, 23.00, 113.01, 23.01).union(exclave)),
        GridShape("east", "v1", box(113.01, 23.00, 113.02, 23.01).difference(exclave)),
    ]
    (pieces,) = check_coverage(grids, {"v1": VILLAGE})
    assert pieces.kind is Kind.PIECES
    assert pieces.grids == ("west",)
    assert pieces.geometry.equals_exact(exclave, 1e-7)


def test_an_islet_touching_no_other_grid_is_accepted():
    islet = box(113.03, 23.004, 113.031, 23.005)
    grids = [
        GridShape("west", "v1", box(113.00, 23.00, 113.01, 23.01)),
        GridShape("east", "v1", box(113.01, 23.00, 113.02, 23.01).union(islet)),
    ]
    assert check_coverage(grids, {"v1": VILLAGE.union(islet)}) == []


def test_a_split_compound_names_the_grids_it_straddles():
    school = box(113.009, 23.004, 113.011, 23.005)
    (split,) = check_coverage(two_halves(), {"v1": VILLAGE}, compounds=[("school", school)])
    assert split.kind is Kind.COMPOUND
    assert split.grids == ("west", "east")
    assert "school" in split.message


def test_a_compound_inside_one_grid_is_fine():
    school = box(113.002, 23.004, 113.004, 23.005)
    assert check_coverage(two_halves(), {"v1": VILLAGE}, compounds=[("school", school)]) == []


def test_tolerance_hides_slivers_below_it():
    grids = [
        GridShape("west", "v1", box(113.00, 23.00, 113.01, 23.01)),
        GridShape("east", "v1", box(113.0100001, 23.00, 113.02, 23.01)),  # ~11 m² gap
    ]
    assert kinds(check_coverage(grids, {"v1": VILLAGE}, tolerance_m2=1.0)) == [Kind.GAP]
    assert check_coverage(grids, {"v1": VILLAGE}, tolerance_m2=20.0) == []


def test_tottori_small_areas_cover_their_municipalities():
    path = shared_data("tottori-oaza/tottori_east_small_areas_2015.geojson")
    features = json.loads(path.read_text())["features"]
    grids = [
        GridShape(f["properties"]["id"], f["properties"]["parent_id"], shape(f["geometry"]))
        for f in features
    ]
    parts = defaultdict(list)
    for g in grids:
        parts[g.village].append(g.geometry)
    villages = {name: shapely.union_all(geoms) for name, geoms in parts.items()}
    found = check_coverage(grids, villages, tolerance_m2=1.0)
    assert len(grids) == 1500 and len(villages) == 10
    # No gaps, overlaps or crossings. The census has a few real exclaves (飛び地): small
    # areas with a detached part bordering other areas. They are reported, exactly them.
    assert {v.kind for v in found} <= {Kind.PIECES}
    exclaves = set()
    for g in grids:
        geoms = sorted(getattr(g.geometry, "geoms", [g.geometry]), key=lambda p: -p.area)
        for part in geoms[1:]:
            neighbours = [
                o.name for o in grids if o.name != g.name and o.geometry.distance(part) < 1e-6
            ]
            if neighbours:
                exclaves.add(g.name)
    assert {v.grids[0] for v in found} == exclaves
    assert len(exclaves) == 5
