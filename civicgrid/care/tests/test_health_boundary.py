"""The health officer reads the three lists (and its notices and publicity), nothing of the
registry, the cases, the staff, the patrol or the grid map: 404 there, by session or by API
token (issue 16). Each app refuses by itself; no list of paths decides."""

from __future__ import annotations

import pytest
from django.test import Client

from civicgrid.care.tests.conftest import Care
from civicgrid.people.models import Role, RoleGrant
from civicgrid.people.services import api_token_create

pytestmark = pytest.mark.django_db

CLOSED = [
    "/registry/", "/registry/persons/", "/registry/houses/", "/registry/legal-persons/",
    "/registry/persons/export.csv", "/registry/licences/", "/people/roster/", "/inbox/",
    "/inspections/field/", "/api/v1/registry/persons", "/api/v1/registry/houses",
    "/api/v1/registry/legal-persons", "/api/v1/registry/sites", "/api/v1/cases",
    "/api/v1/cases/categories", "/api/v1/cases/inbox", "/api/v1/cases/tasks",
    "/api/v1/people/staff", "/api/v1/inspections/due", "/care/field/", "/care/village/",
    "/care/notices/deliver/", "/care/lists/?list=low_income", "/api/v1/care/visits",
    "/api/v1/care/grievances", "/api/v1/care/lists/special-needs",
    "/center/", "/dept/", "/village/", "/field/", "/assess/", "/evaluation/", "/divisions/",
    "/api/v1/evaluation/indicators", "/api/v1/reopen-requests",
]  # fmt: skip
PATROL = [
    "/patrol/live/", "/patrol/field/", "/patrol/month/", "/patrol/tracks/walker/",
    "/patrol/exemptions/", "/patrol/exemptions/new/", "/patrol/schedules/",
    "/patrol/schedules/new/",
    "/api/v1/patrol/duty", "/api/v1/patrol/duty/month", "/api/v1/patrol/live",
    "/api/v1/patrol/schedules", "/api/v1/patrol/shifts/current",
    "/api/v1/patrol/tracks/walker.gpx", "/api/v1/patrol/tracks/walker.geojson",
]  # fmt: skip
GRID_MAP = [
    "/map/", "/api/v1/geo/grids", "/api/v1/geo/grids/44190012300101", "/api/v1/geo/villages",
    "/api/v1/geo/townships", "/api/v1/geo/locate?lon=113.005&lat=23.005",
    "/api/v1/geo/codes/44190012300101", "/api/v1/geo/divisions",
]  # fmt: skip
OPEN = ["/care/lists/", "/care/notices/", "/care/campaigns/", "/api/v1/people/me",
        "/api/v1/care/lists/children", "/api/v1/care/lists/pregnant",
        "/api/v1/care/lists/seniors", "/api/v1/care/notices"]  # fmt: skip


def test_the_health_officer_reaches_the_lists_and_nothing_else(care: Care) -> None:
    client = care.client(care.health)
    answers = {url: client.get(url).status_code for url in CLOSED + OPEN}
    assert {u for u, s in answers.items() if s == 404} == set(CLOSED), answers
    assert {u for u, s in answers.items() if s == 200} == set(OPEN), answers
    assert client.get("/field/offline/").status_code == 200  # a static page, no data


def test_the_health_officer_gets_404_from_every_patrol_page_and_endpoint(care: Care) -> None:
    client = care.client(care.health)
    answers = {url: client.get(url).status_code for url in PATROL}
    assert set(answers.values()) == {404}, answers
    assert client.get("/api/v1/patrol/duty").json()["error"] == "not_found"
    assert client.post("/api/v1/patrol/shifts").status_code == 404
    fix = {"lon": 113.005, "lat": 23.01, "time": "2026-03-02T01:00:00+00:00"}
    sent = client.post("/api/v1/patrol/positions", {"positions": [fix]}, "application/json")
    assert sent.status_code == 404
    assert client.post("/patrol/field/", {"action": "start"}).status_code == 404


def test_the_health_officer_gets_404_from_the_grid_map_and_its_geography(care: Care) -> None:
    client = care.client(care.health)
    answers = {url: client.get(url).status_code for url in GRID_MAP}
    assert set(answers.values()) == {404}, answers
    assert client.get("/api/v1/geo/grids").json()["error"] == "not_found"


def test_the_public_reference_layers_stay_open_to_the_health_officer(care: Care) -> None:
    url = "/api/v1/geo/reference?bbox=113,23,113.01,23.01&zoom=14"
    assert care.client(care.health).get(url).status_code == 200


def test_staff_keep_the_patrol_pages_and_the_grid_map(care: Care) -> None:
    admin, village = care.client(care.admin), care.client(care.village)
    for url in ("/patrol/field/", "/patrol/month/", "/map/", "/api/v1/patrol/duty",
                "/api/v1/geo/grids", "/api/v1/geo/locate?lon=113.005&lat=23.005"):  # fmt: skip
        assert admin.get(url).status_code == 200, url
        assert village.get(url).status_code == 200, url
    assert care.client(care.dispatcher).get("/patrol/live/").status_code == 200


def test_the_health_officer_keeps_its_own_care_pages(care: Care) -> None:
    client = care.client(care.health)
    answers = {url: client.get(url).status_code for url in OPEN}
    assert {u for u, s in answers.items() if s == 200} == set(OPEN), answers
    assert client.get("/api/v1/registry/persons").json()["error"] == "not_found"
    menu = {e.url for e in client.get("/care/lists/").context["menu"]}
    closed = ("/registry/", "/inbox/", "/people/", "/patrol/", "/map/")
    assert not any(url.startswith(closed) for url in menu), menu


def test_an_api_token_of_the_health_officer_meets_the_same_boundary(care: Care) -> None:
    _token, raw = api_token_create(user=care.health, name="center")
    client = Client(headers={"authorization": f"Bearer {raw}"})
    assert client.get("/api/v1/registry/persons").status_code == 404
    assert client.get("/api/v1/cases").status_code == 404
    assert client.get("/api/v1/patrol/duty").status_code == 404
    assert client.get("/api/v1/patrol/schedules").status_code == 404
    assert client.get("/api/v1/geo/grids").status_code == 404
    assert client.get("/api/v1/people/staff").status_code == 404
    assert client.get("/api/v1/people/me").status_code == 200
    assert client.get("/api/v1/care/lists/children").status_code == 200


def test_the_fields_of_a_health_list_row_are_those_its_work_needs(care: Care) -> None:
    body = care.client(care.health).get(f"/api/v1/care/lists/pregnant?on={care.day}").json()
    [row] = body["rows"]
    assert set(row) == {"id", "grid", "village", "house", "address", "name", "phone",
                        "birth_date", "age", "due_date", "tags", "change"}  # fmt: skip
    assert row["tags"] == [] and "id_number" not in row


def test_a_health_officer_who_also_serves_a_grid_keeps_the_registry(care: Care) -> None:
    RoleGrant.objects.create(user=care.health, role=Role.GRID_ADMINISTRATOR)
    care.health.refresh_from_db()
    client = care.client(care.health)
    for url in ("/api/v1/registry/persons", "/api/v1/patrol/duty", "/api/v1/geo/grids", "/map/"):
        assert client.get(url).status_code == 200, url
