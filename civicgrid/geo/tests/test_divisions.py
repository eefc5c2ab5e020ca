"""Drafting a re-division from the API: divide, review, adjust, activate."""

import pytest
from django.test import Client
from shapely.geometry import box

from civicgrid.geo.geojson import Feature
from civicgrid.geo.models import DivisionVersion, Grid, Village
from civicgrid.geo.services import boundaries_import, units_replace
from civicgrid.people.models import User

pytestmark = pytest.mark.django_db

SIDE = 0.002  # about 200 m


@pytest.fixture
def lattice_township():
    """One village of 6 x 4 units with 60 households each: 1,440 households."""
    village = box(113.0, 23.0, 113.0 + 6 * SIDE, 23.0 + 4 * SIDE)
    imported = boundaries_import(
        township_code="441900123",
        township_name="测试镇",
        villages=[Feature(1, {"code": "001", "name": "东村"}, village)],
        grids=[
            Feature(
                1,
                {"village": "001", "households": 1440, "reason": "one grid until divided"},
                village,
            )
        ],
    )
    units = [
        (f"u{r}{c}", box(113.0 + c * SIDE, 23.0 + r * SIDE, 113.0 + (c + 1) * SIDE,
                         23.0 + (r + 1) * SIDE), 60)
        for r in range(4)
        for c in range(6)
    ]  # fmt: skip
    units_replace(village=Village.objects.get(), units=units)
    return imported.township


@pytest.fixture
def admin_client():
    user = User.objects.create_superuser("root", password="a-long-test-password")
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def draft(client, **payload):
    """Queue a division (202) and read the draft the run made (the tests' tasks run at
    once: the worker's part is in test_division_jobs)."""
    response = client.post("/api/v1/geo/divisions", payload, content_type="application/json")
    assert response.status_code == 202, response.content
    run = client.get(response.json()["status_url"]).json()
    assert (run["state"], run["finished"], run["percent"]) == ("done", True, 100), run
    listed = client.get("/api/v1/geo/divisions").json()
    return next(d for d in listed if d["id"] == run["division"])


def test_a_draft_divides_the_village_within_bounds_and_reports_it(lattice_township, admin_client):
    body = draft(admin_client)
    assert body["status"] == "draft"
    report = body["report"]["villages"]["001"]
    assert report["households"] == 1440
    assert report["grids"] == report["grids_in_range"] == body["grids"]
    grids = admin_client.get(f"/api/v1/geo/divisions/{body['id']}/grids").json()["features"]
    units = sorted(u for g in grids for u in g["properties"]["units"])
    assert units == sorted(f"u{r}{c}" for r in range(4) for c in range(6))
    assert all(g["properties"]["in_range"] for g in grids)
    # The active division is untouched until the draft is activated.
    assert Grid.objects.filter(division__status="active").count() == 1


def test_moving_a_unit_rechecks_the_rules(lattice_township, admin_client):
    body = draft(admin_client)
    url = f"/api/v1/geo/divisions/{body['id']}"
    grids = admin_client.get(f"{url}/grids").json()["features"]
    first, second = grids[0]["properties"], grids[1]["properties"]
    units = admin_client.get(f"{url}/units").json()["features"]
    by_key = {u["properties"]["key"]: u for u in units}
    # A unit of the first grid that touches the second grid can move there.
    from shapely.geometry import shape

    target_shape = shape(grids[1]["geometry"])
    movable = next(
        k
        for k in first["units"]
        if shape(by_key[k]["geometry"]).intersection(target_shape).length > 0
    )
    moved = admin_client.post(
        f"{url}/moves",
        {"unit": movable, "to_grid": second["code"]},
        content_type="application/json",
    ).json()
    assert moved["moved"] is True and moved["problems"] == []
    after = {g["code"]: g for g in moved["grids"]}
    assert after[second["code"]]["households"] == second["households"] + 60
    assert movable in after[second["code"]]["units"]
    assert after[first["code"]]["households"] == first["households"] - 60
    # Moving it back to a grid it no longer touches... or to a far grid is refused.
    far = next(
        g["properties"]["code"]
        for g in grids
        if shape(g["geometry"]).intersection(shape(by_key[movable]["geometry"])).length == 0
    )
    refused = admin_client.post(
        f"{url}/moves", {"unit": movable, "to_grid": far}, content_type="application/json"
    ).json()
    assert refused["moved"] is False
    assert "does not share a boundary" in refused["problems"][0]


def test_activating_a_draft_retires_the_old_division_and_freezes_the_draft(
    lattice_township, admin_client
):
    body = draft(admin_client)
    url = f"/api/v1/geo/divisions/{body['id']}"
    response = admin_client.post(f"{url}/activate")
    assert response.status_code == 200
    assert response.json()["status"] == "active"
    assert DivisionVersion.objects.get(number=1).status == "retired"
    assert Grid.objects.filter(division__number=1).count() == 1  # history kept
    grid = admin_client.get(f"{url}/grids").json()["features"][0]["properties"]
    again = admin_client.post(
        f"{url}/moves", {"unit": grid["units"][0], "to_grid": grid["code"]},
        content_type="application/json",
    )  # fmt: skip
    assert again.status_code == 409
    assert again.json()["field"] == "division"


def test_only_administrators_may_draft(lattice_township, api_client):
    response = api_client.post("/api/v1/geo/divisions", {}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


def test_bad_bounds_and_unknown_villages_name_the_field(lattice_township, admin_client):
    bad = admin_client.post(
        "/api/v1/geo/divisions",
        {"min_households": 600, "max_households": 500},
        content_type="application/json",
    )
    assert bad.status_code == 422 and bad.json()["field"] == "min_households"
    unknown = admin_client.post(
        "/api/v1/geo/divisions", {"villages": ["009"]}, content_type="application/json"
    )
    assert unknown.status_code == 422 and unknown.json()["field"] == "villages"
    assert not DivisionVersion.objects.filter(status="draft").exists()
