from __future__ import annotations

import json

import pytest

from civicgrid.geo.geojson import FeatureError, _collection_members, read_features

SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}


def unit(code: str) -> dict[str, object]:
    return {"type": "Feature", "properties": {"code": code}, "geometry": SQUARE}


@pytest.mark.parametrize(
    "text",
    [
        '{"type": "FeatureCollection", "features": [{"a": 1}, {"b": [1, 2]}]}',
        '  {"features": [], "type": "x"}  ',
        "{}",
        "[1, 2]",
        '{"a": 1,}',
        '{"a" 1}',
        '{"features": [1,}',
        '{"features": [1 2]}',
        '{"features": [{"a": 1}',
        '{"a": 1} x',
        '{"features": {"x": 1}}',
        "",
        '{"x": [1, 2',
        "{1: 2}",
    ],
)
def test_the_member_reader_fails_where_json_fails(text):
    try:
        json.loads(text)
        expected = None
    except json.JSONDecodeError as exc:
        expected = str(exc)
    try:
        list(_collection_members(text))
        found = None
    except json.JSONDecodeError as exc:
        found = str(exc)
    assert found == expected


def test_features_are_read_wherever_the_type_member_stands(tmp_path):
    path = tmp_path / "units.geojson"
    path.write_text(json.dumps({"features": [unit("A"), unit("B")], "type": "FeatureCollection"}))
    assert [f.properties["code"] for f in read_features(path)] == ["A", "B"]


def test_a_repeated_features_member_counts_once_as_in_json(tmp_path):
    path = tmp_path / "units.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": ['
        + json.dumps(unit("A"))
        + '], "features": ['
        + json.dumps(unit("B"))
        + "]}"
    )
    assert [(f.position, f.properties["code"]) for f in read_features(path)] == [(1, "B")]


def test_not_a_collection_is_refused_before_its_features_are_judged(tmp_path):
    path = tmp_path / "units.geojson"
    path.write_text(json.dumps({"type": "Feature", "features": [{"geometry": None}, 3]}))
    with pytest.raises(FeatureError) as caught:
        read_features(path)
    assert caught.value.problems == [f"{path}: not a GeoJSON FeatureCollection"]


def test_broken_json_names_the_place(tmp_path):
    path = tmp_path / "units.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [' + json.dumps(unit("A")))
    with pytest.raises(FeatureError) as caught:
        read_features(path)
    assert "not valid JSON (Expecting ',' delimiter" in caught.value.problems[0]
