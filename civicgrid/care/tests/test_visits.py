"""Visits (offline replays), grievances (village task or case, once), notices, publicity."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from civicgrid.care import selectors, services
from civicgrid.care.models import Grievance, GrievanceState, Visit
from civicgrid.care.tests.conftest import Care
from civicgrid.cases.models import Case
from civicgrid.core.errors import Conflict, ValidationFailed

pytestmark = pytest.mark.django_db
API = "/api/v1/care"
TODAY = str(timezone.localdate())


def visit_body(care: Care, **extra: object) -> dict:
    return {"house": "H001", "person": care.senior.pk, "visited_on": str(care.day),
            "asked": "想办理高龄津贴", "done": "告知所需材料", **extra}  # fmt: skip


def test_an_offline_visit_replayed_with_its_key_is_stored_once(care: Care) -> None:
    client = care.client(care.admin)
    body = visit_body(care)
    first = client.post(f"{API}/visits", body, content_type="application/json",
                        headers={"Idempotency-Key": "k-1"})  # fmt: skip
    again = client.post(f"{API}/visits", body, content_type="application/json",
                        headers={"Idempotency-Key": "k-1"})  # fmt: skip
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and Visit.objects.count() == 1
    other = client.post(f"{API}/visits", {**body, "done": "x"}, content_type="application/json",
                        headers={"Idempotency-Key": "k-1"})  # fmt: skip
    assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key"


def test_a_visit_keeps_to_the_matter_and_names_the_field_when_too_long(care: Care) -> None:
    response = care.client(care.admin).post(
        f"{API}/visits", visit_body(care, asked="很" * 301), content_type="application/json"
    )
    assert response.status_code == 422 and response.json()["field"] == "asked"
    assert "opinions or beliefs" in response.json()["message"]
    assert Visit.objects.count() == 0


def test_a_visit_outside_the_own_grids_or_in_the_future_is_refused(care: Care) -> None:
    client = care.client(care.admin)
    far = client.post(f"{API}/visits", visit_body(care, house="H900", person=None),
                      content_type="application/json")  # fmt: skip
    assert far.status_code == 422 and far.json()["field"] == "house"
    future = timezone.localdate() + dt.timedelta(days=3)  # Shanghai's today, not UTC's
    later = client.post(f"{API}/visits", visit_body(care, visited_on=str(future)),
                        content_type="application/json")  # fmt: skip
    assert later.status_code == 422 and later.json()["field"] == "visited_on"
    health = care.client(care.health)
    refused = health.post(f"{API}/visits", visit_body(care), content_type="application/json")
    assert refused.status_code == 403


def test_a_grievance_for_a_department_becomes_one_case_once(care: Care) -> None:
    recorded = services.visit_record(actor=care.admin, **visit_body(care),
                                     grievance="楼道路灯坏了", grievance_route="department",
                                     category="0702")  # fmt: skip
    grievance = Grievance.objects.get(visit=recorded.visit)
    assert grievance.state == GrievanceState.ESCALATED and Case.objects.count() == 1
    again = services.grievance_escalate(grievance=grievance, actor=care.admin, category="0702")
    assert again.case_id == grievance.case_id and Case.objects.count() == 1
    response = care.client(care.admin).post(f"{API}/grievances/{grievance.pk}/escalate",
                                            {"category": "0702"},
                                            content_type="application/json")  # fmt: skip
    assert response.json()["case"] == grievance.case.number and Case.objects.count() == 1


def test_a_village_grievance_is_resolved_then_confirmed_by_the_resident(care: Care) -> None:
    recorded = services.visit_record(actor=care.admin, **visit_body(care),
                                     grievance="邻里噪音", grievance_route="village")  # fmt: skip
    grievance = Grievance.objects.get(visit=recorded.visit)
    assert list(selectors.village_tasks_for(care.village)) == [grievance]
    client = care.client(care.village)
    early = client.post(f"{API}/grievances/{grievance.pk}/confirm",
                        {"confirmed_on": TODAY}, content_type="application/json")  # fmt: skip
    assert early.status_code == 409
    done = client.post(f"{API}/grievances/{grievance.pk}/resolve", {"result": "已调解"},
                       content_type="application/json")  # fmt: skip
    assert done.json()["state"] == "resolved"
    ok = client.post(f"{API}/grievances/{grievance.pk}/confirm",
                     {"confirmed_on": TODAY}, content_type="application/json")  # fmt: skip
    assert ok.json()["state"] == "confirmed" and Case.objects.count() == 0
    assert list(selectors.village_tasks_for(care.village)) == []


def test_notices_once_per_round_and_the_progress_of_the_center(care: Care) -> None:
    services.notice_record(actor=care.admin, person=care.toddler.pk, kind="vaccination",
                           round="2026-Q4", delivered_on=care.day)  # fmt: skip
    with pytest.raises(Conflict):
        services.notice_record(actor=care.admin, person=care.toddler.pk, kind="vaccination",
                               round="2026-Q4", delivered_on=care.day)  # fmt: skip
    with pytest.raises(ValidationFailed):
        services.notice_record(actor=care.admin, person=care.far_child.pk, kind="vaccination",
                               round="2026-Q4", delivered_on=care.day)  # fmt: skip
    response = care.client(care.health).get(
        f"{API}/notices/progress?kind=vaccination&round=2026-Q4&list=children"
    )
    assert response.json() == [
        {"grid": care.grid.code, "on_list": 1, "reached": 1, "not_reached": 0},
        {"grid": care.far.code, "on_list": 1, "reached": 0, "not_reached": 1},
    ]


def test_campaign_coverage_per_grid(care: Care) -> None:
    campaign = services.campaign_create(
        actor=care.health, title="预防接种宣传", material="宣传单", starts_on=care.day,
        ends_on=care.day + dt.timedelta(days=30), grids=[care.grid.code, care.far.code],
    )  # fmt: skip
    for reached in (100, 60):
        services.distribution_record(campaign=campaign, actor=care.admin, grid=care.grid.code,
                                     distributed_on=care.day, quantity=120, place="村口",
                                     households_reached=reached)  # fmt: skip
    services.event_record(campaign=campaign, actor=care.admin, grid=care.grid.code,
                          kind="health_education", title="健康讲座", held_on=care.day,
                          attendance=35)  # fmt: skip
    with pytest.raises(Exception, match="not yours"):
        services.distribution_record(campaign=campaign, actor=care.admin, grid=care.far.code,
                                     distributed_on=care.day, quantity=1, place="x",
                                     households_reached=1)  # fmt: skip
    rows = care.client(care.health).get(f"{API}/campaigns/{campaign.pk}/coverage").json()
    assert rows[0] == {"grid": care.grid.code, "households": 350, "copies": 240,
                       "households_reached": 160, "share": 160 / 350, "events": 1,
                       "attendance": 35}  # fmt: skip
    assert rows[1]["households_reached"] == 0 and rows[1]["share"] == 0.0


def test_households_visited_per_grid_and_administrator(care: Care) -> None:
    for key in ("a", "b"):
        services.visit_record(actor=care.admin, **visit_body(care, asked=key), key=key)
    figures = selectors.households_visited(start=care.day, end=care.day)
    assert figures == {"by_grid": {care.grid.code: 1}, "by_administrator": {"walker": 1}}
    assert selectors.households_visited(start=care.day + dt.timedelta(days=1),
                                        end=care.day + dt.timedelta(days=1)) == {
        "by_grid": {}, "by_administrator": {}}  # fmt: skip


def test_households_to_visit_puts_the_never_visited_first(care: Care) -> None:
    rows = selectors.households_to_visit(care.admin, day=care.day)
    assert [r["house"].code for r in rows] == ["H001"] and rows[0]["last_visit"] is None
    services.visit_record(actor=care.admin, **visit_body(care))
    assert selectors.households_to_visit(care.admin, day=care.day)[0]["last_visit"] == care.day
