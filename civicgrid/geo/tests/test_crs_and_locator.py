import numpy as np
import pytest
from shapely.geometry import box

from civicgrid.geo.crs import gcj02_to_wgs84, to_wgs84, wgs84_to_gcj02
from civicgrid.geo.locator import GridLocator

# Published reference pairs (WGS 84 → GCJ-02), as used by the eviltransform test suites:
# (wgs lat, wgs lon, gcj lat, gcj lon).
REFERENCE = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), REFERENCE)
def test_wgs84_to_gcj02_matches_published_points(wlat, wlon, glat, glon):
    lon, lat = wgs84_to_gcj02(np.array([wlon]), np.array([wlat]))
    assert lon[0] == pytest.approx(glon, abs=1e-9)
    assert lat[0] == pytest.approx(glat, abs=1e-9)


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), REFERENCE)
def test_gcj02_to_wgs84_recovers_the_point_within_a_millimetre(wlat, wlon, glat, glon):
    lon, lat = to_wgs84(glon, glat, "gcj02")
    assert lon == pytest.approx(wlon, abs=1e-8)
    assert lat == pytest.approx(wlat, abs=1e-8)


def test_points_outside_china_are_not_shifted():
    lon, lat = wgs84_to_gcj02(np.array([2.35]), np.array([48.85]))
    assert (lon[0], lat[0]) == (2.35, 48.85)
    back_lon, back_lat = gcj02_to_wgs84(np.array([2.35]), np.array([48.85]))
    assert (back_lon[0], back_lat[0]) == (2.35, 48.85)


def test_bulk_locator_agrees_with_a_plain_loop():
    rng = np.random.default_rng(7)
    cells = [box(x, y, x + 1, y + 1) for x in range(10) for y in range(10)]
    locator = GridLocator(list(range(100)), cells)
    lon = rng.uniform(-1, 11, 5000)
    lat = rng.uniform(-1, 11, 5000)
    got = locator.locate_indices(lon, lat)
    from shapely.geometry import Point

    expected = [
        next((i for i, c in enumerate(cells) if c.intersects(Point(x, y))), -1)
        for x, y in zip(lon, lat, strict=True)
    ]
    assert got.tolist() == expected
    assert (got == -1).sum() > 0  # some points fall outside every cell


def test_a_point_on_a_shared_edge_belongs_to_the_lower_index():
    locator = GridLocator(["a", "b"], [box(0, 0, 1, 1), box(1, 0, 2, 1)])
    assert locator.locate(1.0, 0.5) == "a"
    locator = GridLocator(["b", "a"], [box(1, 0, 2, 1), box(0, 0, 1, 1)])
    assert locator.locate(1.0, 0.5) == "b"


def test_cell_path_and_tree_path_give_the_same_answers():
    import shapely

    rng = np.random.default_rng(3)
    seeds = shapely.multipoints(rng.uniform(0, 1, (300, 2)))
    cells = [c.intersection(box(0, 0, 1, 1)) for c in shapely.voronoi_polygons(seeds).geoms]
    locator = GridLocator(list(range(len(cells))), cells)
    lon = rng.uniform(-0.1, 1.1, 20_000)
    lat = rng.uniform(-0.1, 1.1, 20_000)
    # Points exactly on vertices and edges, where the lowest index must win on both paths.
    vertices = shapely.get_coordinates(np.array(cells, dtype=object))[:2_000]
    lon = np.concatenate([lon, vertices[:, 0], [np.nan]])
    lat = np.concatenate([lat, vertices[:, 1], [0.5]])
    bulk = locator.locate_indices(lon, lat)
    assert locator._cells is not None  # the bulk call used the cell index
    by_tree = locator._locate_by_tree(lon, lat)
    assert bulk.tolist() == by_tree.tolist()
    assert bulk[-1] == -1
    assert (bulk == -1).sum() > 0 and (bulk >= 0).sum() > 15_000


def test_cell_path_matches_the_tree_with_overlaps_holes_and_parts():
    """Grids that overlap, hold a hole, or come in two parts: the lowest index still wins."""
    import shapely
    from shapely.geometry import MultiPolygon, Polygon

    grids = [
        box(0.2, 0.2, 0.6, 0.6),  # overlaps the next two
        Polygon(
            [(0, 0), (1, 0), (1, 1), (0, 1)], [[(0.3, 0.3), (0.7, 0.3), (0.7, 0.7), (0.3, 0.7)]]
        ),
        MultiPolygon([box(0.35, 0.35, 0.5, 0.5), box(1.2, 0, 1.4, 0.2)]),
        box(0.45, 0.45, 0.65, 0.65),  # across the hole's edge and the first grid's
        box(0.1, 0.1, 0.9, 0.9),  # wholly over most others: wins only where they do not
    ]
    locator = GridLocator(list(range(len(grids))), grids)
    rng = np.random.default_rng(5)
    lon = rng.uniform(-0.1, 1.5, 30_000)
    lat = rng.uniform(-0.1, 1.1, 30_000)
    corners = shapely.get_coordinates(np.array(grids, dtype=object))
    lon = np.concatenate([lon, corners[:, 0], [0.3, 0.5, 0.7, 1.3]])
    lat = np.concatenate([lat, corners[:, 1], [0.5, 0.3, 0.7, 0.1]])
    bulk = locator.locate_indices(lon, lat)
    assert locator._cells is not None
    assert bulk.tolist() == locator._locate_by_tree(lon, lat).tolist()
    assert set(bulk.tolist()) == {-1, 0, 1, 2, 3, 4}
