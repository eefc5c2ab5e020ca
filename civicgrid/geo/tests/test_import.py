import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from shapely.geometry import box, mapping

from civicgrid.geo.models import DivisionVersion, Grid, GridCodeChange, Township, Village
from civicgrid.geo.selectors import grid_at
from civicgrid.geo.services import village_renumber

pytestmark = pytest.mark.django_db


def write(tmp_path, name, features):
    path = tmp_path / name
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": props, "geometry": geom}
                    for props, geom in features
                ],
            }
        )
    )
    return str(path)


def good_files(tmp_path):
    villages = write(
        tmp_path,
        "villages.geojson",
        [({"code": "001", "name": "东村"}, mapping(box(113.0, 23.0, 113.02, 23.02)))],
    )
    grids = write(
        tmp_path,
        "grids.geojson",
        [
            ({"village": "001", "households": 400}, mapping(box(113.0, 23.0, 113.01, 23.02))),
            ({"village": "001", "households": 380}, mapping(box(113.01, 23.0, 113.02, 23.02))),
        ],
    )
    return villages, grids


def run_import(villages, grids, **extra):
    call_command(
        "import_boundaries",
        township="441900123",
        township_name="测试镇",
        villages=villages,
        grids=grids,
        **extra,
    )


def test_import_loads_villages_and_numbers_grids_west_to_east(tmp_path):
    run_import(*good_files(tmp_path))
    village = Village.objects.get()
    assert village.full_code == "441900123001"
    west, east = Grid.objects.order_by("code")
    assert (west.code, east.code) == ("44190012300101", "44190012300102")
    assert west.geometry.bounds == (113.0, 23.0, 113.01, 23.02)
    assert DivisionVersion.objects.get().status == "active"


@pytest.mark.parametrize(
    ("properties", "geometry", "expected"),
    [
        (
            {"village": "001", "households": 1},
            {
                "type": "Polygon",
                "coordinates": [
                    [[113, 23], [113.01, 23.01], [113.01, 23], [113, 23.01], [113, 23]]
                ],
            },
            "invalid geometry",
        ),
        (
            {"village": "001", "households": 1},
            mapping(box(190.0, 23.0, 191.0, 23.01)),
            "outside longitude/latitude",
        ),
        (
            {"village": "001"},
            mapping(box(113.0, 23.0, 113.01, 23.02)),
            "missing property households",
        ),
        (
            {"village": "009", "households": 1},
            mapping(box(113.0, 23.0, 113.01, 23.02)),
            "unknown village",
        ),
        (
            {"village": "001", "households": -3},
            mapping(box(113.0, 23.0, 113.01, 23.02)),
            "whole number",
        ),
    ],
)
def test_a_bad_feature_is_named_and_nothing_is_imported(tmp_path, properties, geometry, expected):
    villages, _grids = good_files(tmp_path)
    grids = write(
        tmp_path,
        "bad.geojson",
        [
            ({"village": "001", "households": 400}, mapping(box(113.0, 23.0, 113.01, 23.02))),
            (properties, geometry),
        ],
    )
    with pytest.raises(CommandError) as caught:
        run_import(villages, grids)
    assert "feature 2" in str(caught.value)
    assert expected in str(caught.value)
    assert not Township.objects.exists()
    assert not Village.objects.exists()
    assert not Grid.objects.exists()


def test_duplicate_codes_are_refused(tmp_path):
    villages, _ = good_files(tmp_path)
    grids = write(
        tmp_path,
        "dup.geojson",
        [
            (
                {"village": "001", "households": 1, "seq": 3},
                mapping(box(113.0, 23.0, 113.01, 23.02)),
            ),
            (
                {"village": "001", "households": 1, "seq": 3},
                mapping(box(113.01, 23.0, 113.02, 23.02)),
            ),
        ],
    )
    with pytest.raises(CommandError, match="duplicate code 44190012300103"):
        run_import(villages, grids)
    assert not Grid.objects.exists()


def test_a_second_import_is_a_new_division_and_the_old_grids_stay(tmp_path, township):
    old = Grid.objects.get(code="44190012300101", division__status="active")
    villages, _grids = good_files(tmp_path)
    grids = write(
        tmp_path,
        "whole.geojson",
        [
            ({"village": "001", "households": 400}, mapping(box(113.0, 23.0, 113.01, 23.02))),
            ({"village": "001", "households": 380}, mapping(box(113.01, 23.0, 113.02, 23.02))),
            ({"village": "002", "households": 790, "reason": "one estate"},
             mapping(box(113.02, 23.0, 113.04, 23.02))),
        ],
    )  # fmt: skip
    run_import(villages, grids)
    old.refresh_from_db()
    assert old.division.status == "retired"
    active = Grid.objects.filter(division__status="active")
    assert active.count() == 3
    assert active.get(code="44190012300201").range_reason == "one estate"
    assert grid_at(113.005, 23.01).division.number == 2


def test_renumbering_follows_the_rule_and_keeps_old_codes(township):
    village = Village.objects.get(code="001")
    west = Grid.objects.get(code="44190012300101", division__status="active")
    east = Grid.objects.get(code="44190012300102", division__status="active")
    # Swap the numbers by hand, as an old division might have had them.
    Grid.objects.filter(pk=west.pk).update(code="tmp", sequence=2)
    Grid.objects.filter(pk=east.pk).update(code="44190012300101", sequence=1)
    Grid.objects.filter(pk=west.pk).update(code="44190012300102")
    changes = village_renumber(village=village)
    assert {(c.old_code, c.new_code) for c in changes} == {
        ("44190012300102", "44190012300101"),
        ("44190012300101", "44190012300102"),
    }
    west.refresh_from_db()
    assert west.code == "44190012300101"
    assert GridCodeChange.objects.count() == 2
    assert village_renumber(village=village) == []


def test_locator_is_rebuilt_when_grids_change(township):
    assert grid_at(113.005, 23.01).code == "44190012300101"
    grid = Grid.objects.get(code="44190012300101", division__status="active")
    grid.set_boundary(box(113.0, 23.0, 113.004, 23.02))
    grid.save()
    assert grid_at(113.005, 23.01) is None
