"""How many statements each case action and read costs (issue 20); speed is benchmarks/'.

The counts include the two SAVEPOINT statements of the atomic block inside the test's
transaction (a real request has BEGIN and COMMIT instead).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from civicgrid.cases import selectors
from civicgrid.cases.models import CaseDepartment, Notification, WebhookEndpoint
from civicgrid.cases.services import calendars, categories, notifications
from civicgrid.cases.tests.conftest import FAR, Loop
from civicgrid.cases.tests.test_api import BODY, client_for, post
from civicgrid.core.errors import NotFound
from civicgrid.geo import selectors as geo_selectors
from civicgrid.people import services as people_services
from civicgrid.people.models import User

STEPS = [
    ("file", "dispatcher", {}),
    ("dispatch", "dispatcher", {}),
    ("dispose", "officer", {"result": "已清理"}),
    ("verify_pass", "admin", {}),
    ("close", "dispatcher", {}),
]
# Every action: the case row with its category, codes and whether it has photos (one
# statement); the ledger head, the case's last event, the compare-and-swap UPDATE, the
# event, the head; two savepoints. The token with its user and roles is remembered from the
# warm-up (``people.services.TOKEN_MEMORY``). Then what each adds: the
# department with whether it has an officer, the department row of the scope and the inbox
# rows inserted from the query of its staff (dispatch); the inbox row (dispose); the
# verifier's grids and field rights in one statement (verify_pass; the reporter verifying,
# whether they are away is not read). A report: the reporter's grids and field rights, the
# case, the ledger head, the event, the head, two savepoints (its category and its grid are
# remembered from the warm-up: ``categories.CATEGORY_MEMORY``, the locator's
# ``STAMP_CHECK_SECONDS``); for the answer, whether the village has an officer, the
# duplicate search.
# On PostgreSQL the compare-and-swap, the event and the head are one statement
# (``ledger_append_swapped``), and so are a report's event and head: two and one fewer.
EXACTLY = {"file": 8, "dispatch": 11, "dispose": 9, "verify_pass": 9, "close": 8}
REPORT = 9
ONE_STATEMENT_SAVES = {"postgresql": (2, 1)}


@pytest.fixture
def clients(loop: Loop) -> dict[str, Client]:
    made = {
        "admin": client_for(loop.admin),
        "dispatcher": client_for(loop.dispatcher),
        "officer": client_for(loop.officer),
    }
    for client in made.values():
        client.get("/api/v1/cases/categories")  # a token's first use records the time
    return made


def test_each_action_answers_in_a_few_statements(
    loop: Loop,
    clients: dict[str, Client],
    django_assert_num_queries: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The warm-up report learns that no webhook is configured, loads the work calendar and
    # remembers and touches the tokens; on a loaded machine the steps below can outlast those
    # memories (30 s, 60 s, 30 s, 60 s), and one action would then ask again (a 13th
    # statement in dispatch once, with two suites and a demo beside it).
    monkeypatch.setattr(notifications, "WEBHOOKS_TTL", 3600.0)
    monkeypatch.setattr(calendars, "CALENDAR_TTL", 3600.0)
    monkeypatch.setattr(categories, "CATEGORY_MEMORY", 3600.0)
    categories.taxonomy_changed()  # the warm-up reads it again under the longer memory
    monkeypatch.setattr(geo_selectors, "STAMP_CHECK_SECONDS", 3600.0)
    geo_selectors.invalidate_grid_locator()  # built again by the warm-up, then trusted
    calendars.calendar_forget()  # the warm-up loads it again under the longer memory
    monkeypatch.setattr(people_services, "TOKEN_TOUCH_EVERY", 3600.0)
    monkeypatch.setattr(people_services, "TOKEN_MEMORY", 3600.0)
    saved, saved_report = ONE_STATEMENT_SAVES.get(connection.vendor, (0, 0))
    body = {k: v for k, v in BODY.items() if not k.startswith("reporter_")}
    post(clients["admin"], "/api/v1/cases", {**body, "lon": body["lon"] + 0.0001})  # warm
    with django_assert_num_queries(REPORT - saved_report):
        case = post(clients["admin"], "/api/v1/cases", body).json()
    version = case["version"]
    for action, who, params in STEPS:
        url = f"/api/v1/cases/{case['id']}/actions/{action}"
        with django_assert_num_queries(EXACTLY[action] - saved):
            response = post(clients[who], url, {"version": version, **params})
        assert response.status_code == 200, (action, response.content)
        version = response.json()["version"]
    answer = response.json()
    assert answer["state"] == "closed"
    assert (answer["grid"], answer["village"], answer["township"]) == (
        "44190012300101", "001", "441900123"
    )  # fmt: skip
    assert answer["department"] == "URBAN" and answer["reporter"] == "admin1"


def test_a_case_without_photos_reads_no_attachments(loop: Loop, clients: dict[str, Client]) -> None:
    case = loop.report()
    with CaptureQueriesContext(connection) as queries:
        response = clients["dispatcher"].get(f"/api/v1/cases/{case.pk}")
    assert response.json()["photos"] == []
    # Whether it has any is a subquery of the case read; the photos themselves are not read.
    assert not any(
        q["sql"].startswith('SELECT "cases_attachment"') for q in queries.captured_queries
    )


def test_no_webhook_query_while_none_is_configured(loop: Loop) -> None:
    loop.report()  # learns that there is none
    with CaptureQueriesContext(connection) as queries:
        case = loop.report()
    assert not any("webhookendpoint" in q["sql"] for q in queries.captured_queries)
    WebhookEndpoint.objects.create(url="https://example.org/hook", secret="s")
    loop.act(case, "file")
    assert case.events.last().action == "file"
    from civicgrid.cases.models import WebhookDelivery

    assert WebhookDelivery.objects.filter(event__case=case).count() == 1


def test_configured_webhook_targets_are_remembered_until_one_changes(loop: Loop) -> None:
    from civicgrid.cases.models import WebhookDelivery

    WebhookEndpoint.objects.create(url="https://example.org/one", secret="s")
    loop.report()  # reads the endpoints
    with CaptureQueriesContext(connection) as queries:
        case = loop.report()
    touching = [q["sql"] for q in queries.captured_queries if "webhookendpoint" in q["sql"]]
    assert len(touching) == 1 and touching[0].startswith("INSERT")  # no SELECT of its own
    assert WebhookDelivery.objects.filter(event__case=case).count() == 1
    second = WebhookEndpoint.objects.create(url="https://example.org/two", secret="s")
    loop.act(case, "file")  # the save forgot them: both endpoints get the filing
    filed = WebhookDelivery.objects.filter(event__case=case, event__action="file")
    assert filed.count() == 2
    second.active = False
    second.save()
    loop.act(case, "dispatch")
    dispatched = WebhookDelivery.objects.filter(event__case=case, event__action="dispatch")
    assert [d.endpoint.url for d in dispatched] == ["https://example.org/one"]
    # Switched off or deleted without a signal (another process, raw SQL): still remembered
    # here, but no delivery is queued to it and the action goes through.
    WebhookEndpoint.objects.filter(url="https://example.org/one").update(active=False)
    loop.act(case, "dispose", result="已清理")
    assert not WebhookDelivery.objects.filter(event__case=case, event__action="dispose")


def test_department_scope_reads_no_event_payloads(loop: Loop) -> None:
    case = loop.case_in("dispatched")
    assert CaseDepartment.objects.filter(case=case, department=loop.department).exists()
    loop.act(case, "return", note="不归我们")
    with CaptureQueriesContext(connection) as queries:
        found = selectors.case_brief_for(loop.officer, case.pk)
    assert found.pk == case.pk  # returned, still visible to the department
    assert not any("cases_caseevent" in q["sql"] for q in queries.captured_queries)
    with pytest.raises(Exception, match="No such case"):
        selectors.case_brief_for(loop.other_officer, case.pk)


def test_codes_follow_a_transition_without_a_reread(loop: Loop, clients: dict[str, Client]) -> None:
    case = loop.case_in("filed")
    response = post(
        clients["dispatcher"], f"/api/v1/cases/{case.pk}/actions/dispatch",
        {"version": case.version, "department": "FIRE"},
    )  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json()["department"] == "FIRE"
    recalled = post(
        clients["dispatcher"], f"/api/v1/cases/{case.pk}/actions/recall",
        {"version": response.json()["version"], "note": "派错了"},
    )  # fmt: skip
    assert recalled.json()["department"] is None and recalled.json()["state"] == "filed"


def test_dispatch_notifies_every_active_member_of_the_department_once(
    loop: Loop, clients: dict[str, Client]
) -> None:
    case = loop.case_in("filed")
    colleague = User.objects.create(username="urban2", department=loop.department,
                                    township=loop.township)  # fmt: skip
    User.objects.create(username="urban3", department=loop.department, is_active=False)
    response = post(
        clients["dispatcher"], f"/api/v1/cases/{case.pk}/actions/dispatch",
        {"version": case.version, "department": "URBAN"},
    )  # fmt: skip
    assert response.status_code == 200, response.content
    told = Notification.objects.filter(case=case, kind=Notification.Kind.DISPATCHED)
    assert sorted(told.values_list("user__username", flat=True)) == sorted(
        [loop.officer.username, colleague.username]
    )
    assert all(n.created_at is not None and n.read_at is None for n in told)


def test_the_reporter_verifying_reads_no_away_facts(loop: Loop) -> None:
    case = loop.case_in("disposed")
    assert case.reporter_id == loop.admin.pk
    with CaptureQueriesContext(connection) as queries:
        loop.act(case, "verify_pass", actor=loop.admin)
    assert not any("patrol_dutyexemption" in q["sql"] for q in queries.captured_queries)


def test_the_plain_case_read_sees_what_the_scope_of_the_lists_sees(loop: Loop) -> None:
    # ``case_brief_for`` writes the scope as plain SQL; ``cases_visible_to`` (the lists)
    # keeps it as the ORM's condition: the two agree for every persona and case.
    cases = [loop.case_in(state) for state in ("reported", "dispatched", "disposed")]
    returned = loop.case_in("dispatched")
    loop.act(returned, "return", note="不归我们")
    cases.append(returned)
    cases.append(loop.report(actor=loop.far_admin, at=FAR))
    people = [loop.admin, loop.far_admin, loop.dispatcher, loop.officer, loop.other_officer,
              loop.assessor, loop.foreign_dispatcher, loop.village_officer,
              loop.far_village_officer]  # fmt: skip
    for user in people:
        listed = set(selectors.cases_visible_to(user).values_list("pk", flat=True))
        for case in cases:
            try:
                found = selectors.case_brief_for(user, case.number).pk == case.pk
            except NotFound:
                found = False
            assert found == (case.pk in listed), (user.username, case.number, case.state)
            # By id the same.
            try:
                found = selectors.case_brief_for(user, case.pk).pk == case.pk
            except NotFound:
                found = False
            assert found == (case.pk in listed), (user.username, case.pk)
    seen = {u.username: bool(selectors.cases_visible_to(u).count()) for u in people}
    assert seen[loop.foreign_dispatcher.username] is False and sum(seen.values()) >= 7
