"""The cases API: report with an idempotency key, list, detail, ledger, actions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from civicgrid.cases.models import Case, CaseEvent
from civicgrid.cases.tests.conftest import Loop
from civicgrid.people.models import AccessLog
from civicgrid.testing import token_client as client_for


def post(client: Client, url: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


BODY = {"category": "0702", "description": "路边暴露垃圾", "lon": 113.005, "lat": 23.01,
        "reporter_name": "王小明", "reporter_phone": "13912345678"}  # fmt: skip


@pytest.fixture
def admin_client(loop: Loop) -> Client:
    return client_for(loop.admin)


@pytest.fixture
def dispatcher_client(loop: Loop) -> Client:
    return client_for(loop.dispatcher)


def test_report_finds_the_grid_and_masks_the_reporter(admin_client: Client, loop: Loop) -> None:
    response = post(admin_client, "/api/v1/cases", BODY)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["grid"] == "44190012300101" and body["state"] == "reported"
    assert body["version"] == 1 and body["actions"][:2] == ["file", "reject"]
    assert body["reporter_phone"] == "139****5678" and body["reporter_name"] == "王**"
    assert body["deadline"] is not None and body["duplicates"] == []


def test_report_in_gcj02_is_converted(admin_client: Client) -> None:
    response = post(
        admin_client, "/api/v1/cases", {**BODY, "crs": "gcj02", "lon": 113.0104, "lat": 23.0075}
    )
    assert response.status_code == 201, response.content
    assert response.json()["lon"] < 113.0104


def test_report_outside_every_grid_names_the_field(admin_client: Client) -> None:
    response = post(admin_client, "/api/v1/cases", {**BODY, "lon": 100.0})
    assert response.status_code == 422
    assert response.json()["field"] == "lon"
    assert Case.objects.count() == 0


def test_report_with_unknown_category_names_the_field(admin_client: Client) -> None:
    response = post(admin_client, "/api/v1/cases", {**BODY, "category": "9999"})
    assert (response.status_code, response.json()["field"]) == (422, "category")


def test_same_key_and_body_returns_the_first_case(admin_client: Client) -> None:
    first = post(admin_client, "/api/v1/cases", BODY, **{"Idempotency-Key": "k-1"})
    again = post(admin_client, "/api/v1/cases", BODY, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert first.json()["number"] == again.json()["number"]
    assert Case.objects.count() == 1 and CaseEvent.objects.count() == 1


def test_same_key_with_another_body_is_refused(admin_client: Client) -> None:
    post(admin_client, "/api/v1/cases", BODY, **{"Idempotency-Key": "k-2"})
    other = post(admin_client, "/api/v1/cases", {**BODY, "description": "别的"},
                 **{"Idempotency-Key": "k-2"})  # fmt: skip
    assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key"
    assert Case.objects.count() == 1


def test_keys_belong_to_their_user(admin_client: Client, loop: Loop) -> None:
    from civicgrid.cases.tests.conftest import place, staff

    colleague = staff("admin3", "grid_admin")
    place(colleague, loop.grid)
    post(admin_client, "/api/v1/cases", BODY, **{"Idempotency-Key": "same"})
    post(client_for(colleague), "/api/v1/cases", BODY, **{"Idempotency-Key": "same"})
    assert Case.objects.count() == 2


def test_full_loop_over_http(loop: Loop, admin_client: Client, dispatcher_client: Client) -> None:
    officer = client_for(loop.officer)
    case = post(admin_client, "/api/v1/cases", BODY).json()
    url = f"/api/v1/cases/{case['id']}/actions"
    steps = [
        (dispatcher_client, "file", {"urgency": "urgent"}),
        (dispatcher_client, "dispatch", {}),
        (officer, "dispose", {"result": "已清理"}),
        (admin_client, "verify_pass", {}),
        (dispatcher_client, "close", {}),
    ]
    version = case["version"]
    for client, action, params in steps:
        response = post(client, f"{url}/{action}", {"version": version, **params})
        assert response.status_code == 200, (action, response.content)
        version = response.json()["version"]
    assert response.json()["state"] == "closed"
    events = dispatcher_client.get(f"/api/v1/cases/{case['id']}/events").json()
    assert [e["action"] for e in events] == ["report", "file", "dispatch", "dispose",
                                             "verify_pass", "close"]  # fmt: skip
    assert events[1]["prev_hash"] == events[0]["hash"]


def test_a_keyed_action_retried_after_a_lost_answer_is_taken_once(
    loop: Loop, dispatcher_client: Client
) -> None:
    case = loop.report()
    url = f"/api/v1/cases/{case.number}/actions/file"
    first = post(dispatcher_client, url, {"version": 1}, **{"Idempotency-Key": "a-1"})
    again = post(dispatcher_client, url, {"version": 1}, **{"Idempotency-Key": "a-1"})
    assert (first.status_code, again.status_code) == (200, 200), again.content
    assert again.json()["state"] == "filed" and again.json()["version"] == 2
    assert list(case.events.values_list("action", flat=True)) == ["report", "file"]
    unkeyed = post(dispatcher_client, url, {"version": 1})
    assert unkeyed.status_code == 409
    reused = post(dispatcher_client, f"/api/v1/cases/{case.number}/actions/reject",
                  {"version": 2, "note": "重复"}, **{"Idempotency-Key": "a-1"})  # fmt: skip
    assert reused.status_code == 422 and reused.json()["field"] == "Idempotency-Key"


def test_stale_version_answers_409(loop: Loop, dispatcher_client: Client) -> None:
    case = loop.report()
    url = f"/api/v1/cases/{case.pk}/actions/file"
    assert post(dispatcher_client, url, {"version": 1}).status_code == 200
    stale = post(client_for(loop.dispatcher2), f"/api/v1/cases/{case.pk}/actions/reject",
                 {"version": 1, "note": "重复"})  # fmt: skip
    assert stale.status_code == 409 and stale.json()["field"] == "version"
    assert Case.objects.get(pk=case.pk).state == "filed"


def test_illegal_transition_answers_422_with_reason(loop: Loop, dispatcher_client: Client) -> None:
    case = loop.report()
    response = post(dispatcher_client, f"/api/v1/cases/{case.pk}/actions/close", {"version": 1})
    assert response.status_code == 422
    assert response.json()["field"] == "action" and "file" in response.json()["message"]


def test_missing_parameter_names_it(loop: Loop, dispatcher_client: Client) -> None:
    case = loop.report()
    response = post(dispatcher_client, f"/api/v1/cases/{case.pk}/actions/reject", {"version": 1})
    assert (response.status_code, response.json()["field"]) == (422, "note")


def test_wrong_role_answers_403(loop: Loop, admin_client: Client) -> None:
    case = loop.report()
    response = post(admin_client, f"/api/v1/cases/{case.pk}/actions/file", {"version": 1})
    assert response.status_code == 403


def test_outside_scope_answers_404(loop: Loop) -> None:
    case = loop.report()
    for user in (loop.foreign_dispatcher, loop.far_admin, loop.officer):
        client = client_for(user)
        assert client.get(f"/api/v1/cases/{case.pk}").status_code == 404
        response = post(client, f"/api/v1/cases/{case.pk}/actions/file", {"version": 1})
        assert response.status_code == 404


def test_department_sees_only_cases_dispatched_to_it(loop: Loop) -> None:
    sent = loop.case_in("dispatched")
    loop.report()
    officer = client_for(loop.officer)
    assert [c["id"] for c in officer.get("/api/v1/cases").json()] == [sent.pk]
    assert client_for(loop.other_officer).get("/api/v1/cases").json() == []


def test_list_filters(loop: Loop, dispatcher_client: Client) -> None:
    filed = loop.case_in("filed")
    loop.report("0901")
    loop.report(at=(113.035, 23.01), actor=loop.far_admin)

    def numbers(query: str) -> set[int]:
        response = dispatcher_client.get(f"/api/v1/cases?{query}")
        assert response.status_code == 200, response.content
        return {c["id"] for c in response.json()}

    assert len(numbers("")) == 3
    assert numbers("status=filed") == {filed.pk}
    assert len(numbers("status=open")) == 3
    assert len(numbers("category=0702")) == 2 and len(numbers("category=07")) == 2
    assert len(numbers("grid=44190012300202")) == 1
    assert len(numbers("village=002")) == 1 and len(numbers("village=441900123001")) == 2
    assert numbers("overdue=true") == set()
    assert len(numbers("overdue=false")) == 3
    assert len(numbers("from=2000-01-01&to=2999-01-01")) == 3 and numbers("to=2000-01-01") == set()
    loop.act(filed, "dispatch")
    assert numbers("department=URBAN") == {filed.pk}


def test_reveal_reporter_is_logged(loop: Loop, dispatcher_client: Client) -> None:
    case = Case.objects.get(pk=post(client_for(loop.admin), "/api/v1/cases", BODY).json()["id"])
    url = f"/api/v1/cases/{case.pk}/reporter/reveal"
    response = post(dispatcher_client, url, {"purpose": "回访"})
    assert response.json() == {"reporter_name": "王小明", "reporter_phone": "13912345678"}
    log = AccessLog.objects.get()
    assert (log.model, log.record_ids, log.channel) == ("cases.Case", [case.pk], "reveal")
    assert post(client_for(loop.officer), url, {"purpose": "x"}).status_code == 404


def test_categories_are_listed_in_the_language_of_the_request(dispatcher_client: Client) -> None:
    rows = dispatcher_client.get("/api/v1/cases/categories").json()
    garbage = next(r for r in rows if r["code"] == "0702")
    assert garbage["name"] == "Exposed garbage" and garbage["urban_code"] == "0102"
    assert garbage["limits"]["normal"]["dispose"] == "4h"


def test_inbox_lists_and_marks_notifications(loop: Loop) -> None:
    loop.case_in("dispatched")
    officer = client_for(loop.officer)
    [row] = officer.get("/api/v1/cases/inbox?unread=true").json()
    assert row["kind"] == "dispatched"
    assert officer.post(f"/api/v1/cases/inbox/{row['id']}/read").status_code == 204
    assert officer.get("/api/v1/cases/inbox?unread=true").json() == []


def test_anonymous_requests_are_refused() -> None:
    assert Client().get("/api/v1/cases").status_code == 401


def test_list_query_count_does_not_grow_with_cases(
    loop: Loop, dispatcher_client: Client, django_assert_max_num_queries: Any
) -> None:
    for _ in range(3):
        loop.case_in("dispatched")
    dispatcher_client.get("/api/v1/cases")
    with django_assert_max_num_queries(8):
        assert len(dispatcher_client.get("/api/v1/cases").json()) == 3
    for _ in range(3):
        loop.case_in("filed")
    with django_assert_max_num_queries(8):
        assert len(dispatcher_client.get("/api/v1/cases").json()) == 6


def test_api_recall_with_a_department_redispatches(dispatcher_client: Client, loop: Loop) -> None:
    case = loop.case_in("dispatched")
    url = f"/api/v1/cases/{case.number}/actions/recall"
    missing = post(dispatcher_client, url, {"version": case.version})
    assert missing.status_code == 422 and missing.json()["field"] == "note"
    response = post(dispatcher_client, url,
                    {"version": case.version, "note": "派错", "department": "FIRE"})  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["department"], body["version"]) == ("dispatched", "FIRE",
                                                                    case.version + 2)  # fmt: skip
    stale = post(dispatcher_client, url, {"version": case.version, "note": "x"})
    assert stale.status_code == 409 and stale.json()["field"] == "version"
    officer = post(client_for(loop.other_officer), url, {"version": body["version"], "note": "x"})
    assert officer.status_code == 403


def test_api_phone_intake_by_a_dispatcher(dispatcher_client: Client, loop: Loop) -> None:
    response = post(dispatcher_client, "/api/v1/cases", BODY)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reporter_kind"] == "resident" and body["reporter"] is None
    assert body["reporter_phone"] == "139****5678"
    events = dispatcher_client.get(f"/api/v1/cases/{body['number']}/events").json()
    assert events[0]["payload"]["channel"] == "phone" and events[0]["role"] == "dispatcher"
    nameless = post(dispatcher_client, "/api/v1/cases", {**BODY, "reporter_name": ""})
    assert nameless.status_code == 422 and nameless.json()["field"] == "reporter_name"


def test_api_resolve_on_the_spot_records_persuasion(admin_client: Client) -> None:
    body = {**BODY, "on_the_spot": True}
    refused = post(admin_client, "/api/v1/cases", body)
    assert refused.status_code == 422 and refused.json()["field"] == "measures"
    response = post(admin_client, "/api/v1/cases",
                    {**body, "measures": "劝导摊主收摊", "complied": True})  # fmt: skip
    assert response.status_code == 201 and response.json()["state"] == "closed"
    events = admin_client.get(f"/api/v1/cases/{response.json()['number']}/events").json()
    assert (events[0]["payload"]["measures"], events[0]["payload"]["complied"]) == (
        "劝导摊主收摊", True)  # fmt: skip


def test_api_village_hand_off_and_local_resolution(loop: Loop) -> None:
    case = loop.report()
    handed = post(client_for(loop.admin), f"/api/v1/cases/{case.number}/actions/hand_to_village",
                  {"version": case.version})  # fmt: skip
    assert handed.status_code == 200 and handed.json()["state"] == "local"
    village = client_for(loop.village_officer)
    listed = village.get("/api/v1/cases?status=local").json()
    assert [c["number"] for c in listed] == [case.number]
    done = post(village, f"/api/v1/cases/{case.number}/actions/resolve_locally",
                {"version": handed.json()["version"], "result": "村里调解好了"})  # fmt: skip
    assert done.status_code == 200 and done.json()["state"] == "closed"
