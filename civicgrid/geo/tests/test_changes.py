"""A division version against the active one: same, redrawn, renumbered, new, retired."""

from shapely.geometry import box

from civicgrid.geo.changes import Change, GridShape, compare

W = 0.01  # about a kilometre


def cell(col: int, width: int = 1) -> object:
    return box(113.0 + col * W, 23.0, 113.0 + (col + width) * W, 23.0 + W)


ACTIVE = [
    GridShape("44190012300101", cell(0), 400),
    GridShape("44190012300102", cell(1), 410),
    GridShape("44190012300103", cell(2), 420),
    GridShape("44190012300104", cell(3), 430),
    GridShape("44190012300105", cell(4), 440),
]


def test_each_kind_of_change_is_named_with_the_grid_it_continues():
    draft = [
        GridShape("44190012300101", cell(0), 400),  # same
        GridShape("44190012300102", box(113.01, 23.0, 113.0205, 23.01), 430),  # boundary moved
        GridShape("44190012300106", cell(3), 430),  # 04's boundary under a new code
        GridShape("44190012300103", box(113.0205, 23.0, 113.03, 23.01), 400),  # moved too
        GridShape("44190012300107", cell(5), 300),  # new land: continues nothing
    ]
    changes = {c.code: c for c in compare(draft, ACTIVE).grids}
    assert changes["44190012300101"].change is Change.SAME
    assert changes["44190012300102"].change is Change.REDRAWN
    assert changes["44190012300102"].previous == "44190012300102"
    assert changes["44190012300102"].previous_households == 410
    assert changes["44190012300106"].change is Change.RENUMBERED
    assert changes["44190012300106"].previous == "44190012300104"
    assert changes["44190012300107"].change is Change.NEW
    assert changes["44190012300107"].previous is None
    result = compare(draft, ACTIVE)
    assert [c.code for c in result.changed] == [
        "44190012300102", "44190012300106", "44190012300103", "44190012300107"
    ]  # fmt: skip
    assert [g.code for g in result.retired] == ["44190012300105"]


def test_a_new_grid_over_old_land_names_the_grid_it_overlaps_most():
    draft = [GridShape("44190012300109", cell(0, 2), 810)]
    (change,) = compare(draft, ACTIVE[:2]).grids
    assert change.change is Change.NEW
    assert change.previous in {"44190012300101", "44190012300102"}


def test_rounding_below_a_square_metre_is_no_change():
    nudged = box(113.0, 23.0, 113.0 + W + 1e-9, 23.0 + W)
    (change,) = compare([GridShape("44190012300101", nudged, 400)], ACTIVE).grids
    assert change.change is Change.SAME
