"""Every map draws the township's reference layers; the tile setting; nobody's data in public."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from shapely.geometry import LineString

from civicgrid.cases.tests.conftest import Loop, loop, staff  # noqa: F401  (the fixture)
from civicgrid.core.env import map_tile_sources
from civicgrid.geo import reference
from civicgrid.geo.geojson import Feature
from civicgrid.geo.services import reference_features_import
from civicgrid.people.models import Role
from civicgrid.registry import services as registry
from civicgrid.registry.tests.conftest import house_values
from civicgrid.testing import logged_in as _client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_reference_cache():
    reference.invalidate()
    yield
    reference.invalidate()


def _config(page: str) -> dict:
    start = page.index('id="basemap-config"')
    start = page.index(">", start) + 1
    return json.loads(page[start : page.index("</script>", start)])


def test_every_map_page_loads_the_reference_layers(loop: Loop):  # noqa: F811
    case = loop.report()
    pages = [
        (loop.dispatcher, "/center/"),
        (loop.dispatcher, f"/center/cases/{case.number}/"),
        (loop.dispatcher, "/map/"),
        (loop.dispatcher, "/patrol/live/"),
        (loop.admin, "/field/report/"),
        (None, "/public/map/"),
        (None, "/public/report/"),
    ]
    for user, url in pages:
        response = _client(user).get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert "geo/basemap.js" in page, url
        # after Leaflet, before the page's own map script
        assert page.index("leaflet/leaflet.js") < page.index("geo/basemap.js"), url
        assert _config(page) == {"reference": "/api/v1/geo/reference", "tiles": None}, url


def test_the_tile_setting_reaches_every_map(loop: Loop, settings):  # noqa: F811
    settings.CIVICGRID_MAP_TILES_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
    settings.CIVICGRID_MAP_TILES_ATTRIBUTION = "© Example contributors"
    settings.CIVICGRID_MAP_TILES_CRS = "gcj02"
    config = _config(_client().get("/public/map/").content.decode())
    assert config["tiles"] == {
        "url": "https://tiles.example.org/{z}/{x}/{y}.png",
        "attribution": "© Example contributors",
        "crs": "gcj02",
        "maxZoom": 19,
        "subdomains": "abc",
    }


def test_tile_settings_are_checked_and_open_the_csp_to_the_tile_hosts():
    assert map_tile_sources("", attribution="", crs="wgs84", subdomains="abc") == []
    hosts = map_tile_sources(
        "https://t{s}.example.cn/tiles/{z}/{x}/{y}", attribution="© X", crs="gcj02", subdomains="01"
    )
    assert hosts == ["https://t0.example.cn", "https://t1.example.cn"]
    with pytest.raises(ImproperlyConfigured, match="ATTRIBUTION"):
        map_tile_sources(
            "https://a.example/{z}/{x}/{y}", attribution="", crs="wgs84", subdomains=""
        )
    with pytest.raises(ImproperlyConfigured, match="wgs84, cgcs2000 or gcj02"):
        map_tile_sources(
            "https://a.example/{z}/{x}/{y}", attribution="X", crs="bd09", subdomains=""
        )
    with pytest.raises(ImproperlyConfigured, match=r"\{z\}"):
        map_tile_sources("https://a.example/tiles.png", attribution="X", crs="wgs84", subdomains="")


def test_public_reference_layers_hold_nobodys_data(loop: Loop):  # noqa: F811
    registry.house_create(values=house_values("H777"), actor=loop.admin)
    reference_features_import(
        township=loop.township,
        features=[
            Feature(
                1, {"kind": "road", "name": "东风路"}, LineString([(113.0, 23.01), (113.04, 23.01)])
            )
        ],
    )
    response = Client().get("/api/v1/geo/reference", {"zoom": 17})
    assert response.status_code == 200
    body = response.content.decode()
    assert "东风路" in body and "东村" in body
    for private in ("王五", "13812345678", "H777", "东村路", "households", "owner"):
        assert private not in body
    layers = {f["properties"]["layer"] for f in json.loads(body)["features"]}
    assert layers == {"road", "village", "grid"}


@pytest.mark.parametrize("url", ["/api/v1/geo/grids", "/api/v1/geo/villages"])
def test_the_map_layers_tag_is_shared_by_staff_whose_layers_are_the_same(loop: Loop, url):  # noqa: F811
    # A dispatcher (township) and a grid administrator (one grid) draw the same
    # boundaries, so one tag serves both; an account without the map is refused first,
    # even when it sends a tag that matches.
    dispatcher = _client(loop.dispatcher).get(url)
    admin = _client(loop.admin).get(url)
    assert dispatcher.status_code == admin.status_code == 200
    assert dispatcher.content == admin.content
    assert dispatcher["ETag"] == admin["ETag"]
    revalidated = _client(loop.admin).get(url, headers={"if-none-match": dispatcher["ETag"]})
    assert revalidated.status_code == 304

    doctor = staff("doctor", Role.HEALTH_OFFICER, township=loop.township)
    refused = _client(doctor).get(url, headers={"if-none-match": dispatcher["ETag"]})
    assert refused.status_code == 404
    assert "ETag" not in refused
