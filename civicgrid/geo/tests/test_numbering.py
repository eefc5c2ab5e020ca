import random

from shapely.affinity import translate
from shapely.geometry import box

from civicgrid.geo.numbering import sequence_numbers, sequence_rows


def test_a_regular_layout_is_numbered_row_by_row_west_to_east():
    # 3 rows x 4 columns of unit squares; row 0 is the northernmost.
    cells = {(r, c): box(c, -r - 1, c + 1, -r) for r in range(3) for c in range(4)}
    keys = list(cells)
    numbers = sequence_numbers(list(cells.values()))
    by_key = dict(zip(keys, numbers, strict=True))
    assert [by_key[(0, c)] for c in range(4)] == [1, 2, 3, 4]
    assert [by_key[(2, c)] for c in range(4)] == [9, 10, 11, 12]


def test_slightly_staggered_grids_still_form_one_row():
    # Centres spread over less than half a grid height: still one row, numbered W→E.
    wobble = [0.0, 0.2, -0.15, 0.25]
    grids = [translate(box(0, 0, 1, 1), xoff=i, yoff=dy) for i, dy in enumerate(wobble)]
    assert sequence_rows(grids) == [[0, 1, 2, 3]]


def test_numbering_does_not_depend_on_input_order():
    rng = random.Random(4)
    cells = [box(c, -r, c + 1, -r + 1) for r in range(5) for c in range(5)]
    expected = dict(zip(map(lambda g: g.wkt, cells), sequence_numbers(cells), strict=True))
    shuffled = cells[:]
    rng.shuffle(shuffled)
    got = dict(zip(map(lambda g: g.wkt, shuffled), sequence_numbers(shuffled), strict=True))
    assert got == expected


def test_exact_ties_are_broken_by_the_callers_key():
    same = box(0, 0, 1, 1)
    assert sequence_numbers([same, same], keys=["b", "a"]) == [2, 1]
    assert sequence_numbers([same, same], keys=["a", "b"]) == [1, 2]


def test_a_tall_grid_to_the_west_comes_first_in_its_row():
    # The tall western grid's inside point sits mid-height, within half a grid of the
    # eastern grids' row, so it is numbered before them rather than after.
    tall = box(0, -0.4, 1, 1.4)
    east = [box(1, 0, 2, 1), box(2, 0, 3, 1)]
    assert sequence_numbers([east[1], tall, east[0]]) == [3, 1, 2]
