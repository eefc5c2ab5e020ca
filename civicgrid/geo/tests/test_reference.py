"""Reference layers: loaded from GeoJSON, served cut to a view, public and without anyone's data."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from shapely.geometry import LineString, Point, box

from civicgrid.geo import reference
from civicgrid.geo.crs import wgs84_to_gcj02
from civicgrid.geo.geojson import Feature
from civicgrid.geo.models import ReferenceFeature
from civicgrid.geo.services import ImportRefused, reference_features_import

pytestmark = pytest.mark.django_db

# The square township (conftest) spans lon 113.00–113.04, lat 23.00–23.02.
ROAD = LineString([(113.000, 23.010), (113.040, 23.010)])
FAR_ROAD = LineString([(113.500, 23.500), (113.510, 23.500)])
RIVER = LineString([(113.000, 23.015), (113.040, 23.016)])
HOUSE_WEST = box(113.0050, 23.0050, 113.0051, 23.0051)
HOUSE_EAST = box(113.0350, 23.0050, 113.0351, 23.0051)


@pytest.fixture(autouse=True)
def fresh_cache():
    reference.invalidate()
    yield
    reference.invalidate()


@pytest.fixture
def layers(township):
    features = [
        Feature(1, {"kind": "road", "name": "东风路"}, ROAD),
        Feature(2, {"kind": "road", "name": "远路"}, FAR_ROAD),
        Feature(3, {"kind": "river", "name": "示范河"}, RIVER),
        Feature(4, {"kind": "building", "owner": "张三", "phone": "13912345678"}, HOUSE_WEST),
        Feature(5, {"kind": "building", "households": 3}, HOUSE_EAST),
        Feature(6, {"kind": "place", "name": "文化广场"}, Point(113.012, 23.012)),
    ]
    return reference_features_import(township=township, features=features)


def _get(client, **params):
    response = client.get("/api/v1/geo/reference", params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/geo+json"
    return json.loads(response.content)


def _names(body, layer):
    return sorted(
        f["properties"].get("name", "")
        for f in body["features"]
        if f["properties"]["layer"] == layer
    )


def test_import_keeps_shapes_and_names_only(layers):
    assert layers.created == {"road": 2, "river": 1, "building": 2, "place": 1}
    stored = {f.kind: f for f in ReferenceFeature.objects.filter(kind="building")}
    assert stored
    body = _get(Client(), zoom=16)
    buildings = [f for f in body["features"] if f["properties"]["layer"] == "building"]
    assert len(buildings) == 2
    assert all(f["properties"] == {"layer": "building"} for f in buildings)
    assert "张三" not in json.dumps(body, ensure_ascii=False)
    assert "13912345678" not in json.dumps(body)


def test_anonymous_gets_roads_rivers_and_names_of_villages_and_grids(layers):
    body = _get(Client(), zoom=14)
    assert _names(body, "road") == ["东风路", "远路"]
    assert _names(body, "river") == ["示范河"]
    assert _names(body, "village") == ["东村", "西村"]
    assert _names(body, "grid") == ["01", "01", "02", "02"]
    assert _names(body, "place") == ["文化广场"]
    grid_codes = sorted(
        f["properties"]["code"] for f in body["features"] if f["properties"]["layer"] == "grid"
    )
    assert grid_codes == ["44190012300101", "44190012300102", "44190012300201", "44190012300202"]


def test_buildings_and_grid_numbers_wait_for_their_zoom(layers):
    far = _get(Client(), zoom=12)
    assert _names(far, "building") == []
    assert _names(far, "grid") == []
    assert _names(far, "village") == ["东村", "西村"]
    near = _get(Client(), zoom=15)
    assert len(_names(near, "building")) == 2


def test_bbox_cuts_the_layers_to_the_view(layers):
    # A view over the west village at zoom 16: whole tiles there are ~0.0055° wide.
    body = _get(Client(), bbox="113.001,23.001,113.012,23.012", zoom=16)
    assert _names(body, "road") == ["东风路"]  # the far road is left out
    assert len(_names(body, "building")) == 1  # only the western house
    assert "西村" not in _names(body, "village")  # the east village's label is outside
    whole = _get(Client(), zoom=16)
    assert len(whole["features"]) > len(body["features"])


def test_layers_parameter_picks_layers(layers):
    body = _get(Client(), layers="river,village", zoom=16)
    assert {f["properties"]["layer"] for f in body["features"]} == {"river", "village"}


def test_gcj02_offsets_the_coordinates(layers):
    wgs = _get(Client(), layers="place", zoom=16)
    gcj = _get(Client(), layers="place", zoom=16, crs="gcj02")
    lon, lat = wgs84_to_gcj02(113.012, 23.012)
    assert wgs["features"][0]["geometry"]["coordinates"] == [113.012, 23.012]
    got = gcj["features"][0]["geometry"]["coordinates"]
    assert got == pytest.approx([float(lon), float(lat)], abs=1e-6)
    assert abs(got[0] - 113.012) > 0.001  # hundreds of metres in the Pearl River Delta


def test_lines_are_simplified_for_the_zoom(township):
    wiggly = LineString(
        [(113.0 + i * 0.0001, 23.01 + (0.00002 if i % 2 else 0)) for i in range(300)]
    )
    reference_features_import(township=township, features=[Feature(1, {"kind": "road"}, wiggly)])
    low = _get(Client(), layers="road", zoom=10)["features"][0]["geometry"]["coordinates"]
    high = _get(Client(), layers="road", zoom=19)["features"][0]["geometry"]["coordinates"]
    assert len(low) == 2
    assert len(high) == 300


def test_answers_carry_an_etag_and_are_cached(layers):
    client = Client()
    first = client.get("/api/v1/geo/reference", {"zoom": 15})
    assert "max-age" in first["Cache-Control"]
    again = client.get(
        "/api/v1/geo/reference", {"zoom": 15}, headers={"if-none-match": first["ETag"]}
    )
    assert again.status_code == 304


def test_reimport_replaces_the_kinds_in_the_file(layers, township):
    reference_features_import(
        township=township, features=[Feature(1, {"kind": "road", "name": "新路"}, ROAD)]
    )
    body = _get(Client(), zoom=16)
    assert _names(body, "road") == ["新路"]
    assert _names(body, "river") == ["示范河"]  # other kinds stay


def test_import_refuses_naming_every_bad_feature(township):
    with pytest.raises(ImportRefused) as refused:
        reference_features_import(
            township=township,
            features=[
                Feature(1, {"kind": "road"}, ROAD),
                Feature(2, {"kind": "motorway"}, ROAD),
                Feature(3, {"kind": "building"}, ROAD),
            ],
        )
    assert len(refused.value.problems) == 2
    assert "feature 2" in refused.value.problems[0] and "motorway" in refused.value.problems[0]
    assert "feature 3" in refused.value.problems[1] and "LineString" in refused.value.problems[1]
    assert not ReferenceFeature.objects.exists()


def test_bad_bbox_and_layers_name_the_field(township):
    client = Client(headers={"accept-language": "en"})
    bad = client.get("/api/v1/geo/reference", {"bbox": "113,23,112,24"})
    assert bad.status_code == 422 and bad.json()["field"] == "bbox"
    bad = client.get("/api/v1/geo/reference", {"bbox": "a,b"})
    assert bad.status_code == 422 and bad.json()["field"] == "bbox"
    bad = client.get("/api/v1/geo/reference", {"layers": "road,owners"})
    assert bad.status_code == 422 and bad.json()["field"] == "layers"
    assert "owners" in bad.json()["message"]


def test_import_reference_command(township, tmp_path, capsys):
    path = tmp_path / "lines.geojson"
    line = {"type": "LineString", "coordinates": [[113.0, 23.01], [113.04, 23.01]]}
    features = [
        {"type": "Feature", "properties": {"kind": "river", "名称": "示范河"}, "geometry": line},
        {"type": "Feature", "properties": {"kind": "road"}, "geometry": line},
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    call_command("import_reference", str(path), "--name-field", "名称")
    assert "2 feature(s) loaded" in capsys.readouterr().out
    assert ReferenceFeature.objects.get(kind="river").name == "示范河"
    with pytest.raises(CommandError, match="cannot be a LineString"):
        call_command("import_reference", str(path), "--kind", "building")


def test_answers_are_gzipped_for_clients_that_accept_it(layers):
    import gzip

    plain = Client().get("/api/v1/geo/reference", {"zoom": 16})
    packed = Client().get(
        "/api/v1/geo/reference", {"zoom": 16}, headers={"accept-encoding": "gzip, br"}
    )
    assert packed["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.content) == plain.content
    assert "Accept-Encoding" in packed["Vary"]
