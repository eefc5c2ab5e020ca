"""Maps in Debian's Chromium: reference layers drawn under the grids, overlapping case
markers spread apart, and the browser's GCJ-02 conversion equal to the server's."""

from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect
from shapely.geometry import LineString, Point, box

from civicgrid.cases.tests.conftest import HERE, Loop, loop  # noqa: F401  (fixture)
from civicgrid.geo import reference
from civicgrid.geo.crs import gcj02_to_wgs84, wgs84_to_gcj02
from civicgrid.geo.geojson import Feature
from civicgrid.geo.services import reference_features_import
from civicgrid.people.models import User

PASSWORD = "a-long-test-password"


def _layers(loop: Loop) -> None:  # noqa: F811
    reference.invalidate()
    west_east = LineString([(113.0, 23.01), (113.04, 23.01)])
    river = LineString([(113.0, 23.015), (113.04, 23.016)])
    house = box(HERE[0], HERE[1], HERE[0] + 0.0001, HERE[1] + 0.0001)
    reference_features_import(
        township=loop.township,
        features=[
            Feature(1, {"kind": "road", "name": "东风路"}, west_east),
            Feature(2, {"kind": "river", "name": "示范河"}, river),
            Feature(3, {"kind": "building"}, house),
            Feature(4, {"kind": "place", "name": "文化广场"}, Point(113.012, 23.012)),
        ],
    )


def _page(browser: Browser, live_server, user: User | None = None) -> tuple[Page, list[str]]:
    context = browser.new_context(
        viewport={"width": 1440, "height": 900},
        locale="en",
        extra_http_headers={"Accept-Language": "en"},
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    if user is not None:
        user.set_password(PASSWORD)
        user.save()
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_load_state()
    return page, errors


@pytest.mark.django_db(transaction=True)
def test_public_map_draws_roads_rivers_and_names_under_the_grids(
    browser,
    live_server,
    loop: Loop,  # noqa: F811
) -> None:
    _layers(loop)
    page, errors = _page(browser, live_server)
    page.goto(f"{live_server.url}/public/map/")
    expect(page.locator("#case-map path.ref-road")).to_have_count(1)
    expect(page.locator("#case-map path.ref-river")).to_have_count(1)
    expect(page.locator(".ref-label-village", has_text="东村").first).to_be_visible()
    expect(page.locator(".ref-label-village", has_text="西村").first).to_be_visible()
    # The reference pane lies under the grids' pane: the grids stay clickable.
    z = page.evaluate(
        "() => [getComputedStyle(document.querySelector('.leaflet-reference-pane')).zIndex,"
        " getComputedStyle(document.querySelector('.leaflet-overlay-pane')).zIndex]"
    )
    assert int(z[0]) < int(z[1])
    # Zoomed in to the street, buildings and grid numbers appear.
    page.evaluate(
        "(p) => document.getElementById('case-map').civicgridMap.setView([p[1], p[0]], 16)",
        list(HERE),
    )
    expect(page.locator("#case-map .ref-label-grid").first).to_be_visible(timeout=15_000)
    expect(page.locator("#case-map path.ref-building")).to_have_count(1)
    assert int(page.locator("#case-map").get_attribute("data-reference-features") or 0) > 0
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_a_label_under_a_village_name_hides(
    browser,
    live_server,
    loop: Loop,  # noqa: F811
) -> None:
    _layers(loop)
    village = loop.grid.village
    name_at = village.geometry.representative_point()
    reference_features_import(
        township=loop.township,
        features=[Feature(5, {"kind": "place", "name": "村委会"}, name_at)],
        replace=False,
    )
    reference.invalidate()
    page, errors = _page(browser, live_server)
    page.goto(f"{live_server.url}/public/map/")
    page.evaluate(
        "(p) => document.getElementById('case-map').civicgridMap.setView([p[1], p[0]], 15)",
        [name_at.x, name_at.y],
    )
    expect(page.locator("#case-map .ref-label-place", has_text="村委会")).to_have_class(
        re.compile("ref-label-covered"), timeout=15_000
    )
    expect(
        page.locator("#case-map .ref-label-village", has_text=village.name).first
    ).to_be_visible()
    # Nothing visible lies under a village name.
    overlaps = page.evaluate(
        """() => {
          const box = (el) => el.firstChild.getBoundingClientRect();
          const names = [...document.querySelectorAll('#case-map .ref-label-village')].map(box);
          const others = [...document.querySelectorAll(
            '#case-map .ref-label:not(.ref-label-village)')]
            .filter((el) => getComputedStyle(el).visibility !== 'hidden').map(box);
          return others.filter((r) => names.some((b) =>
            r.left < b.right && b.left < r.right && r.top < b.bottom && b.top < r.bottom)).length;
        }"""
    )
    assert overlaps == 0
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_center_spreads_cases_at_one_place_and_labels_the_count(
    browser,
    live_server,
    loop: Loop,  # noqa: F811
) -> None:
    _layers(loop)
    for _ in range(3):
        loop.report()  # three reports at the same point
    page, errors = _page(browser, live_server, loop.dispatcher)
    page.goto(f"{live_server.url}/center/")
    markers = page.locator("path.case-marker")
    expect(markers).to_have_count(3)
    expect(page.locator("#map-count")).to_have_text("3")
    expect(page.locator("#map-count-line")).to_contain_text("Open cases on the map")
    boxes = [markers.nth(i).bounding_box() for i in range(3)]
    centres = {
        (round(b["x"] + b["width"] / 2), round(b["y"] + b["height"] / 2)) for b in boxes if b
    }
    assert len(centres) == 3, "markers at one place must not cover each other"
    expect(page.locator("path.spread-home")).to_have_count(1)
    expect(page.locator("#map path.ref-road")).to_have_count(1)
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_the_browsers_gcj02_conversion_is_the_servers(
    browser, live_server, transactional_db
) -> None:
    page, errors = _page(browser, live_server)
    page.goto(f"{live_server.url}/public/map/")
    points = [(113.752, 23.021), (116.397, 39.909), (121.47, 31.23), (2.35, 48.85)]
    got = page.evaluate(
        "(pts) => pts.map(p => [CivicGridMap.wgs84ToGcj02(p[0], p[1]),"
        " CivicGridMap.gcj02ToWgs84(...CivicGridMap.wgs84ToGcj02(p[0], p[1]))])",
        points,
    )
    lon, lat = wgs84_to_gcj02(np.array([p[0] for p in points]), np.array([p[1] for p in points]))
    back_lon, back_lat = gcj02_to_wgs84(lon, lat)
    for i, (forward, back) in enumerate(got):
        assert forward == pytest.approx([lon[i], lat[i]], abs=1e-9)
        assert back == pytest.approx([back_lon[i], back_lat[i]], abs=1e-8)
        assert back == pytest.approx(list(points[i]), abs=1e-7)
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_on_gcj02_tiles_a_tap_is_still_a_wgs84_point(
    browser,
    live_server,
    loop: Loop,  # noqa: F811
    settings,
) -> None:
    # Tiles from the test server itself (any image will do); the maps then project
    # through GCJ-02 and must give back the WGS 84 point under the finger.
    settings.CIVICGRID_MAP_TILES_URL = live_server.url + "/static/web/icon.svg?z={z}&x={x}&y={y}"
    settings.CIVICGRID_MAP_TILES_ATTRIBUTION = "Test tiles"
    settings.CIVICGRID_MAP_TILES_CRS = "gcj02"
    page, errors = _page(browser, live_server)
    page.goto(f"{live_server.url}/public/report/")
    expect(page.locator("#pick-map .leaflet-tile").first).to_be_attached()
    expect(page.locator("#pick-map .leaflet-control-attribution")).to_contain_text("Test tiles")
    target = (113.005, 23.01)
    where = page.evaluate(
        "(p) => { const m = document.getElementById('pick-map').civicgridMap;"
        " const gcj = CivicGridMap.wgs84ToGcj02(p[0], p[1]);"
        " const plain = L.CRS.EPSG3857.latLngToPoint(L.latLng(gcj[1], gcj[0]), m.getZoom());"
        " const ours = m.options.crs.latLngToPoint(L.latLng(p[1], p[0]), m.getZoom());"
        " const box = m.getContainer().getBoundingClientRect();"
        " const at = m.latLngToContainerPoint(L.latLng(p[1], p[0]));"
        " return {crs: m.options.crs.code, dx: plain.x - ours.x, dy: plain.y - ours.y,"
        "         x: box.left + at.x, y: box.top + at.y}; }",
        list(target),
    )
    assert where["crs"] == "GCJ02"
    assert abs(where["dx"]) < 1e-6 and abs(where["dy"]) < 1e-6  # drawn where GCJ-02 tiles have it
    page.mouse.click(where["x"], where["y"])
    lon = float(page.input_value("#id_lon"))
    lat = float(page.input_value("#id_lat"))
    assert page.input_value("#id_crs") == "wgs84"
    assert abs(lon - target[0]) < 0.0002 and abs(lat - target[1]) < 0.0002  # a pixel or two
    assert errors == []
