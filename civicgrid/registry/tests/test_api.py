from __future__ import annotations

import pytest

from civicgrid.people.models import AccessLog
from civicgrid.registry.models import House, Person
from civicgrid.registry.tests.conftest import IN_NEIGHBOUR, house_values, resident
from civicgrid.testing import token_client as client_for


@pytest.fixture
def person(cast, house):
    return resident(disability=True)


def test_list_is_masked_and_in_scope(cast, person, far_house):
    body = client_for(cast.admin).get("/api/v1/registry/persons").json()
    assert body["page"]["total"] == 1
    [item] = body["items"]
    assert item["masked"] and item["values"]["full_name"] == "赵*"
    assert item["values"]["disability"] == "***"
    assert item["values"]["tags"] == ["senior"]  # health tags only with the reveal
    assert client_for(cast.admin).get("/api/v1/registry/houses").json()["page"]["total"] == 1
    assert not AccessLog.objects.exists()


def test_record_outside_scope_answers_404(cast, far_house):
    response = client_for(cast.admin).get(f"/api/v1/registry/houses/{far_house.pk}")
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert (
        client_for(cast.dispatcher).get(f"/api/v1/registry/houses/{far_house.pk}").status_code
        == 200
    )


def test_reveal_returns_values_and_writes_one_log_row(cast, person):
    client = client_for(cast.admin)
    response = client.post(
        f"/api/v1/registry/persons/{person.pk}/reveal",
        {"purpose": "上门服务", "fields": ["full_name", "disability"]},
        content_type="application/json",
    )
    assert response.json()["values"] == {"full_name": "赵六", "disability": True}
    log = AccessLog.objects.get()
    assert (log.model, log.record_ids, log.fields, log.channel) == (
        "registry.Person",
        [person.pk],
        ["full_name", "disability"],
        "reveal",
    )


def test_dispatcher_may_not_reveal_residents(cast, person):
    response = client_for(cast.dispatcher).post(
        f"/api/v1/registry/persons/{person.pk}/reveal",
        {"purpose": "x"},
        content_type="application/json",
    )
    assert response.status_code == 403 and not AccessLog.objects.exists()


def test_create_update_and_history(cast):
    client = client_for(cast.admin)
    response = client.post(
        "/api/v1/registry/houses", house_values(), content_type="application/json"
    )
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert response.json()["grid"] == cast.grid.code
    response = client.patch(
        f"/api/v1/registry/houses/{pk}", {"floors": 4}, content_type="application/json"
    )
    assert response.json()["values"]["floors"] == 4
    history = client.get(f"/api/v1/registry/houses/{pk}/history").json()
    assert [h["action"] for h in history] == ["update", "create"]
    assert history[0]["actor"] == "admin1" and history[0]["changes"] == {"floors": [1, 4]}


def test_create_in_another_grid_is_refused_with_field(cast):
    response = client_for(cast.admin).post(
        "/api/v1/registry/houses",
        house_values(where=IN_NEIGHBOUR),
        content_type="application/json",
    )
    assert response.status_code == 403 and response.json()["field"] == "lon"


def test_invalid_id_number_names_the_field(cast, house):
    response = client_for(cast.admin).post(
        "/api/v1/registry/persons",
        {"full_name": "x", "id_number": "110105195003040010", "house": "H001"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["field"] == "id_number"


def test_move_out_and_licence_problems(cast, person):
    client = client_for(cast.admin)
    response = client.post(
        f"/api/v1/registry/persons/{person.pk}/move-out",
        {"moved_out_on": "2025-01-02"},
        content_type="application/json",
    )
    assert response.json()["values"]["moved_out_on"] == "2025-01-02"
    response = client.post(
        "/api/v1/registry/legal-persons",
        {
            "name": "店",
            "credit_code": "91350100M000100Y43",
            "representative_name": "钱七",
            "house": "H001",
            "kind": "individual",
            "industry": "retail",
            "licences": [],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    problems = client.get("/api/v1/registry/licence-problems").json()
    assert [(p["kind"], p["problem"]) for p in problems] == [("business", "missing")]


def test_import_endpoint_reports_rows(cast):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("h.csv", b"code,address,lon,lat\nH1,a,113.005,x\n")
    body = (
        client_for(cast.admin)
        .post("/api/v1/registry/import/houses?dry_run=true", {"file": upload})
        .json()
    )
    assert body["ok"] is False
    assert body["problems"][0]["row"] == 2 and body["problems"][0]["column"] == "纬度 / Latitude"


@pytest.mark.parametrize("who", ["dispatcher", "department"])
def test_read_only_roles_learn_nothing_from_a_create(cast, house, person, who):
    """A refused create answers 403 before any value is checked, so "already registered"
    never tells a read-only role that a house code or an ID number is on file."""
    client = client_for(getattr(cast, who))
    taken = {
        "houses": house_values(),
        "persons": {"full_name": "某人", "id_number": person.id_number, "house": "H001"},
    }
    for kind, values in taken.items():
        response = client.post(f"/api/v1/registry/{kind}", values, content_type="application/json")
        assert response.status_code == 403, response.content
        assert "Already registered" not in response.json()["message"]
    assert Person.objects.count() == 1 and House.objects.count() == 1
