"""The health officer reads the three lists (and its notices and publicity), nothing of the
registry, the cases or the staff: 404 there, by session or by API token (issue 16)."""

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
]  # fmt: skip
OPEN = ["/care/lists/", "/care/notices/", "/care/campaigns/", "/api/v1/people/me",
        "/api/v1/care/lists/children", "/api/v1/care/lists/pregnant",
        "/api/v1/care/lists/seniors", "/api/v1/care/notices"]  # fmt: skip


def test_the_health_officer_reaches_the_lists_and_nothing_else(care: Care) -> None:
    client = care.client(care.health)
    answers = {url: client.get(url).status_code for url in CLOSED + OPEN}
    assert {u for u, s in answers.items() if s == 404} == set(CLOSED), answers
    assert {u for u, s in answers.items() if s == 200} == set(OPEN), answers
    body = client.get("/api/v1/registry/persons").json()
    assert body["error"] == "not_found"
    menu = {e.url for e in client.get("/care/lists/").context["menu"]}
    assert not any(url.startswith(("/registry/", "/inbox/", "/people/")) for url in menu)


def test_an_api_token_of_the_health_officer_meets_the_same_boundary(care: Care) -> None:
    _token, raw = api_token_create(user=care.health, name="center")
    client = Client(headers={"authorization": f"Bearer {raw}"})
    assert client.get("/api/v1/registry/persons").status_code == 404
    assert client.get("/api/v1/cases").status_code == 404
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
    assert care.client(care.health).get("/api/v1/registry/persons").status_code == 200
