"""The API: templates with their area code, due lists, visits (replay, scope), findings."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from civicgrid.inspections.models import Template, Visit
from civicgrid.inspections.tests.conftest import World
from civicgrid.testing import jpeg

pytestmark = pytest.mark.django_db
URL = "/api/v1/inspections"


def body(world: World, area: str = "02", **override: Any) -> dict[str, Any]:
    answers = []
    for item in Template.objects.get(area=area, active=True).items.all():
        value: Any = {"yes_no": "yes", "number": 2, "choice": "good", "text": "t"}.get(item.kind)
        answer: dict[str, Any] = {"item": item.code, "value": override.get(item.code, value)}
        if item.kind == "photo":
            answer["photo"] = base64.b64encode(jpeg()).decode()
        answers.append(answer)
    return {"premises_kind": "house", "premises_id": world.house.pk, "area": area,
            "answers": answers, "lon": 113.005, "lat": 23.01, "signed": True}  # fmt: skip


def post(client: Any, payload: dict[str, Any], key: str | None = None) -> Any:
    headers = {"idempotency-key": key} if key else {}
    return client.post(f"{URL}/visits", json.dumps(payload), content_type="application/json",
                       headers=headers)  # fmt: skip


def test_templates_name_their_area_code_in_the_callers_language(world: World) -> None:
    response = world.client(world.admin).get(f"{URL}/templates")
    assert response.status_code == 200
    areas = {t["area"]: t for t in response.json()}
    assert len(areas) == 14 and areas["02"]["area_name"] == "Fire safety"
    zh = world.client(world.admin).get(f"{URL}/templates", headers={"accept-language": "zh-hans"})
    fire = next(t for t in zh.json() if t["area"] == "02")
    assert (
        fire["area_name"] == "消防安全" and fire["items"][0]["text"] == "疏散通道、安全出口畅通。"
    )


def test_a_visit_replayed_with_its_key_is_stored_once(world: World) -> None:
    client = world.client(world.admin)
    first = post(client, body(world, **{"02.02": "no"}), key="offline-1")
    assert first.status_code == 201, first.json()
    again = post(client, body(world, **{"02.02": "no"}), key="offline-1")
    assert again.status_code == 200 and again.json()["number"] == first.json()["number"]
    assert Visit.objects.count() == 1
    finding = first.json()["findings"][0]
    assert finding["item"] == "02.02" and finding["notice"].startswith("RN")


def test_bad_input_names_the_field(world: World) -> None:
    client = world.client(world.admin)
    response = post(client, body(world, **{"02.03": "lots"}))
    assert response.status_code == 422
    assert response.json() == {"error": "validation", "message": "Give a number.",
                               "field": "answers.2.value"}  # fmt: skip
    unsigned = post(client, {**body(world), "signed": False})
    assert unsigned.status_code == 422 and unsigned.json()["field"] == "signed"
    assert not Visit.objects.exists()


def test_another_grids_premises_answers_404(world: World) -> None:
    response = post(world.client(world.far_admin), body(world))
    assert response.status_code == 404 and not Visit.objects.exists()
    response = world.client(world.far_admin).get(f"{URL}/visits")
    assert response.json() == []


def test_without_field_rights_the_visit_is_refused_with_the_reason(world: World) -> None:
    response = post(world.client(world.novice), body(world))
    assert response.status_code == 403 and response.json()["error"] == "no_field_rights"


def test_findings_carry_their_case_number_once_escalated(world: World) -> None:
    client = world.client(world.admin)
    assert post(client, body(world, **{"02.01": "no"})).status_code == 201
    findings = client.get(f"{URL}/findings").json()
    assert len(findings) == 1 and findings[0]["state"] == "escalated" and findings[0]["case"]
    events = client.get(f"/api/v1/cases/{findings[0]['case']}/events").json()
    assert events[0]["payload"]["origin"]["inspection"] == findings[0]["visit"]
    # The dispatcher sees the township's findings; the far administrator sees none.
    assert len(world.client(world.dispatcher).get(f"{URL}/findings").json()) == 1
    assert world.client(world.far_admin).get(f"{URL}/findings").json() == []


def test_the_old_visit_shows_the_items_it_was_filled_with(world: World) -> None:
    from civicgrid.inspections import services

    client = world.client(world.admin)
    number = post(client, body(world)).json()["number"]
    old = Template.objects.get(area="02", active=True)
    new = services.template_new_version(template=old, actor=None)
    new.items.filter(code="02.06").delete()
    detail = client.get(f"{URL}/visits/{number}").json()
    assert detail["template_version"] == 1 and len(detail["answers"]) == 6
    assert world.client(world.far_admin).get(f"{URL}/visits/{number}").status_code == 404


def test_due_lists_the_grids_premises_and_premises_search_shows_licences(world: World) -> None:
    client = world.client(world.admin)
    due = client.get(f"{URL}/due", {"lon": 113.005, "lat": 23.01}).json()
    names = {(d["name"], d["area"]) for d in due}
    assert ("东村饭店", "03") in names and ("H001 东村路1号", "01") in names
    assert all(d["grid"] == "44190012300101" for d in due)
    premises = client.get(f"{URL}/premises", {"q": "饭店"}).json()
    catering = next(x for x in premises[0]["licences"] if x["kind"] == "catering")
    assert catering["problem"] == "expired" and catering["number"] == "JY-1"
