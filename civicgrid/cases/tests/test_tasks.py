"""GET /api/v1/cases/tasks: the cases the caller may act on now, with the actions allowed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from civicgrid.cases import selectors
from civicgrid.cases.models import Case
from civicgrid.cases.tests.conftest import Loop, loop  # noqa: F401  (fixture)
from civicgrid.cases.tests.test_api import client_for


@pytest.fixture
def situations(loop: Loop) -> dict[str, Case]:  # noqa: F811
    found = {state: loop.case_in(state) for state in ("reported", "filed", "verified", "closed")}
    found["dispatched"] = loop.case_in("dispatched")
    found["extension"] = loop.case_in("dispatched")
    loop.act(found["extension"], "request_extension", note="需要协调", working_days=3)
    found["disposed"] = loop.case_in("disposed")
    return found


def numbers(body: dict) -> list[str]:
    return [item["number"] for item in body["items"]]


def test_the_dispatcher_gets_what_waits_for_the_center(
    loop: Loop,  # noqa: F811
    situations: dict[str, Case],
) -> None:
    body = client_for(loop.dispatcher).get("/api/v1/cases/tasks").json()
    allowed = {item["number"]: item["allowed"] for item in body["items"]}
    assert set(allowed) == {situations[k].number for k in
                            ("reported", "filed", "extension", "verified")}  # fmt: skip
    # The administrator's report may also go to the village committee (it has an officer).
    assert allowed[situations["reported"].number] == ["file", "reject", "merge", "hand_to_village"]
    assert allowed[situations["filed"].number] == ["dispatch"]
    assert allowed[situations["extension"].number] == ["recall", "approve_extension",
                                                        "refuse_extension", "backlog"]  # fmt: skip
    assert allowed[situations["verified"].number] == ["close"]
    assert body["count"] == 4
    # Nearest deadline first, the same list the selector gives the pages.
    deadlines = [Case.objects.get(number=n).deadline for n in numbers(body)]
    assert deadlines == sorted(deadlines)
    assert numbers(body) == [t.case.number for t in selectors.tasks_for(loop.dispatcher)]


def test_each_role_gets_its_own_step(loop: Loop, situations: dict[str, Case]) -> None:  # noqa: F811
    officer = client_for(loop.officer).get("/api/v1/cases/tasks").json()
    allowed = {item["number"]: item["allowed"] for item in officer["items"]}
    assert allowed == {
        situations["dispatched"].number: ["return", "dispose", "request_extension"],
        # While the dispatcher decides on the extension the department may still dispose.
        situations["extension"].number: ["return", "dispose"],
    }
    assert numbers(client_for(loop.other_officer).get("/api/v1/cases/tasks").json()) == []
    assert numbers(client_for(loop.admin).get("/api/v1/cases/tasks").json()) == [
        situations["disposed"].number
    ]
    assert numbers(client_for(loop.far_admin).get("/api/v1/cases/tasks").json()) == []
    assert numbers(client_for(loop.foreign_dispatcher).get("/api/v1/cases/tasks").json()) == []


def test_pages_and_the_action_filter(loop: Loop, situations: dict[str, Case]) -> None:  # noqa: F811
    client = client_for(loop.dispatcher)
    everything = numbers(client.get("/api/v1/cases/tasks").json())
    first = client.get("/api/v1/cases/tasks?limit=3").json()
    rest = client.get("/api/v1/cases/tasks?limit=3&offset=3").json()
    assert numbers(first) + numbers(rest) == everything
    assert first["count"] == rest["count"] == 4 and (first["limit"], rest["offset"]) == (3, 3)
    closing = client.get("/api/v1/cases/tasks?action=close").json()
    assert numbers(closing) == [situations["verified"].number]
    bad = client.get("/api/v1/cases/tasks?action=shout")
    assert bad.status_code == 422 and bad.json()["field"] == "action"


def test_the_number_of_queries_does_not_grow_with_the_list(loop: Loop) -> None:  # noqa: F811
    client = client_for(loop.admin)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/api/v1/cases/tasks")
        assert response.status_code == 200
        return len(captured)

    loop.case_in("disposed")
    resident = loop.report(actor=None, acting_as="resident")
    for action, params in (("file", {}), ("dispatch", {}), ("dispose", {"result": "已清理"})):
        loop.act(resident, action, **params)
    queries()  # the first request also loads the township's calendar (cached)
    few = queries()
    for _ in range(3):
        loop.case_in("disposed")
    assert len(client.get("/api/v1/cases/tasks").json()["items"]) == 5
    assert queries() == few


def test_the_case_shows_what_the_caller_may_do(loop: Loop) -> None:  # noqa: F811
    case = loop.case_in("disposed")
    mine = client_for(loop.admin).get(f"/api/v1/cases/{case.number}").json()
    assert mine["allowed"] == ["verify_pass", "verify_fail"]
    theirs = client_for(loop.dispatcher).get(f"/api/v1/cases/{case.number}").json()
    assert theirs["allowed"] == [] and theirs["actions"] == ["verify_pass", "verify_fail"]
    listed = client_for(loop.admin).get("/api/v1/cases?status=disposed").json()
    assert listed[0]["allowed"] == ["verify_pass", "verify_fail"]


def test_an_overdue_step_stays_on_the_list(loop: Loop) -> None:  # noqa: F811
    case = loop.case_in("filed")
    Case.objects.filter(pk=case.pk).update(deadline=timezone.now() - dt.timedelta(hours=5))
    body = client_for(loop.dispatcher).get("/api/v1/cases/tasks").json()
    assert body["items"][0]["number"] == case.number and body["items"][0]["overdue"] is True
