"""The case list: the same answer as the validated detail, and a flat number of queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.test import Client
from django.utils import timezone

from civicgrid.cases import api, selectors, services
from civicgrid.cases.models import Case, Category, Notification
from civicgrid.cases.tests.conftest import FAR, Loop, staff
from civicgrid.cases.tests.test_api import BODY, client_for, post
from civicgrid.core import rows
from civicgrid.people.models import Role
from civicgrid.testing import jpeg, statements


def _mixed_cases(loop: Loop, n: int) -> None:
    """``n`` cases across the steps of the loop, as a day's work leaves them."""
    states = ["reported", "filed", "dispatched", "disposed", "verified"]
    for i in range(n):
        loop.case_in(states[i % len(states)])


def _get(client: Client, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, (url, response.content)
    return response.json()


def test_list_items_match_the_validated_detail(loop: Loop) -> None:
    # The list is rendered without validating against CaseOut; the detail is validated.
    _mixed_cases(loop, 5)
    with_photo = loop.case_in("dispatched")
    services.case_photo_add(case=with_photo, kind="after", data=jpeg(), actor=loop.officer)
    services.case_report(actor=loop.dispatcher, category="0702", description="来电",
                         lon=113.005, lat=23.01, reporter_name="王小明",
                         reporter_phone="13912345678")  # fmt: skip
    merged, into = loop.report(), loop.report()
    loop.act(merged, "merge", into=into.number, note="同一处")
    client = client_for(loop.dispatcher)
    listed = _get(client, "/api/v1/cases?limit=500")
    assert len(listed) == 9
    for item in listed:
        assert item == _get(client, f"/api/v1/cases/{item['id']}"), item["number"]
    by_number = {item["number"]: item for item in listed}
    assert [p["kind"] for p in by_number[with_photo.number]["photos"]] == ["after"]
    assert by_number[merged.number]["merged_into"] == into.number
    assert any(item["reporter_name"] == "王**" for item in listed)
    response = client.get("/api/v1/cases?limit=1")
    assert response["Content-Type"] == "application/json; charset=utf-8"


def _instants(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer with its times as instants: a time computed by the action keeps the
    zone it was computed in (+08:00), the detail reads it back from the database (UTC)."""
    times = ("reported_at", "deadline", "closed_at")
    return {k: dt.datetime.fromisoformat(v) if k in times and v else v for k, v in answer.items()}


def test_action_answers_match_the_validated_detail(loop: Loop) -> None:
    # The report and each action answer without validating against CaseOut; the detail
    # (asked by the same user, so ``allowed`` is the same) is validated.
    clients = {who: client_for(getattr(loop, who)) for who in ("admin", "dispatcher", "officer")}
    body = {k: v for k, v in BODY.items() if not k.startswith("reporter_")}
    made = post(clients["admin"], "/api/v1/cases", body)
    assert made.status_code == 201, made.content
    answer = made.json()
    duplicates = answer.pop("duplicates")
    assert duplicates == []
    assert _instants(answer) == _instants(_get(clients["admin"], f"/api/v1/cases/{answer['id']}"))
    steps = [("file", "dispatcher", {}), ("dispatch", "dispatcher", {}),
             ("dispose", "officer", {"result": "已清理"}), ("verify_pass", "admin", {}),
             ("close", "dispatcher", {})]  # fmt: skip
    for action, who, params in steps:
        url = f"/api/v1/cases/{answer['id']}/actions/{action}"
        response = post(clients[who], url, {"version": answer["version"], **params})
        assert response.status_code == 200, (action, response.content)
        assert response["Content-Type"] == "application/json; charset=utf-8"
        answer = response.json()
        detail = _get(clients[who], f"/api/v1/cases/{answer['id']}")
        assert _instants(answer) == _instants(detail), action
    assert answer["state"] == "closed" and answer["closed_at"] is not None


def test_case_lists_answer_in_as_many_queries_for_100_cases_as_for_10(loop: Loop) -> None:
    clients = {who: client_for(getattr(loop, who)) for who in ("dispatcher", "officer", "admin")}
    urls = [
        ("dispatcher", "/api/v1/cases?limit=500"),
        ("officer", "/api/v1/cases?limit=500"),
        ("admin", "/api/v1/cases?limit=500"),
        ("dispatcher", "/api/v1/cases/tasks?limit=200"),
        ("admin", "/api/v1/cases/tasks?limit=200"),
        ("officer", "/api/v1/cases/inbox"),
        ("dispatcher", "/api/v1/cases?status=open&category=07&limit=500"),
    ]

    def measure() -> dict[str, int]:
        found = {}
        for who, url in urls:
            # Unmeasured first: a token records when it was used, at most once a minute.
            clients[who].get(url)
            with statements() as sqls:
                clients[who].get(url)
            found[f"{who} {url}"] = len(sqls)
        return found

    _mixed_cases(loop, 10)
    few = measure()
    assert len(_get(clients["dispatcher"], "/api/v1/cases?limit=500")) == 10
    _mixed_cases(loop, 90)
    assert len(_get(clients["dispatcher"], "/api/v1/cases?limit=500")) == 100
    assert len(_get(clients["admin"], "/api/v1/cases/tasks?limit=200")["items"]) >= 20
    assert measure() == few


def test_the_plain_page_lists_what_the_orm_lists_for_every_persona_and_filter(
    loop: Loop,
) -> None:
    # ``case_page`` writes the scope and the filters as plain SQL; ``case_list`` keeps them
    # as the ORM's conditions: the same cases in the same order, page by page.
    _mixed_cases(loop, 6)
    loop.case_in("closed")
    loop.case_in("filed", category="1301")
    returned = loop.case_in("dispatched")
    loop.act(returned, "return", note="不归我们")
    late = loop.case_in("dispatched")
    Case.objects.filter(pk=late.pk).update(deadline=dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC))
    no_deadline = loop.report(actor=loop.far_admin, at=FAR)
    Case.objects.filter(pk=no_deadline.pk).update(deadline=None)
    root = staff("root1", Role.SYSTEM_ADMINISTRATOR)
    inactive = staff("gone1", Role.DISPATCHER, township=loop.township)
    inactive.is_active = False
    inactive.save()
    people = [loop.admin, loop.far_admin, loop.dispatcher, loop.officer, loop.other_officer,
              loop.assessor, loop.foreign_dispatcher, loop.village_officer,
              loop.far_village_officer, root, inactive]  # fmt: skip
    today = timezone.localdate()
    village = f"{loop.township.division_code}{loop.township.code}{loop.grid.village.code}"
    chosen = [
        selectors.CaseFilters(),
        selectors.CaseFilters(status="open"),
        selectors.CaseFilters(status="closed"),
        selectors.CaseFilters(status="dispatched,filed"),
        selectors.CaseFilters(category="07"),
        selectors.CaseFilters(category="0702", status="open"),
        selectors.CaseFilters(grid=loop.grid.code),
        selectors.CaseFilters(village=village),
        selectors.CaseFilters(village=loop.grid.village.code),
        selectors.CaseFilters(department="URBAN"),
        selectors.CaseFilters(overdue=True),
        selectors.CaseFilters(overdue=False),
        selectors.CaseFilters(reported_from=today, reported_to=today),
        selectors.CaseFilters(reported_from=today + dt.timedelta(days=1)),
        selectors.CaseFilters(reported_to=today - dt.timedelta(days=1)),
    ]
    sizes = set()
    for user in people:
        for filters in chosen:
            expected = list(selectors.case_list(user, filters).values_list("pk", flat=True))
            sizes.add(len(expected))
            for offset, limit in ((0, 500), (0, 3), (2, 4)):
                page = selectors.case_page(user, filters, offset=offset, limit=limit)
                assert [c.pk for c in page] == expected[offset : offset + limit], (
                    user.username, filters, offset,
                )  # fmt: skip
    listed = selectors.case_page(root, selectors.CaseFilters(), offset=0, limit=500)
    assert len(listed) == Case.objects.count() >= 11
    # The fields the page leaves deferred are never read for an answer, whoever asks.
    for user in people:
        page = selectors.case_page(user, selectors.CaseFilters(), offset=0, limit=500)
        with statements() as sqls:
            allowed = selectors.actions_by_case(user, page)
            answer = [api.case_out(c, allowed[c.pk]) for c in page]
        assert len(answer) == len(page)
        assert [q for q in sqls if '"cases_case"' in q or '"cases_category"' in q] == []
    assert len(sizes) >= 6  # the personas and filters do see different cases


def test_a_row_builds_the_instance_the_orm_builds(loop: Loop) -> None:
    # ``rows.from_row`` fills a new instance's ``__dict__`` instead of ``Model.__init__``'s
    # setattr per field: the same values, state, deferred fields and relations.
    case = loop.case_in("dispatched")
    skip = ("description", "result")
    for skipped in ((), skip):
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {rows.columns(Case, 'c', skip=skipped)} FROM cases_case c WHERE c.id = %s",
                [case.pk],
            )
            built = rows.from_row(Case, cursor.fetchall()[0], skip=skipped)
        loaded = Case.objects.defer(*skipped).get(pk=case.pk)
        assert {k: v for k, v in built.__dict__.items() if k != "_state"} == {
            k: v for k, v in loaded.__dict__.items() if k != "_state"
        }
        assert (built._state.adding, built._state.db) == (False, "default")
        assert built.get_deferred_fields() == loaded.get_deferred_fields() == set(skipped)
    assert built.description == case.description  # a deferred field is read when touched
    assert built.department == loop.department
    built.department_id = loop.other_department.pk  # the cached department is forgotten
    assert built.department == loop.other_department


def test_the_plain_reads_of_every_page_answer_as_the_orm(loop: Loop) -> None:
    # ``categories_named`` and ``unread_count`` are plain SQL: the same as the ORM's.
    Category.objects.filter(code="0703").update(active=False)
    named = selectors.categories_named()
    expected = Category.objects.filter(active=True).order_by("code")
    assert [(c.pk, c.code, c.name, c.parent_id, c.verifier) for c in named] == list(
        expected.values_list("pk", "code", "name", "parent_id", "verifier")
    )
    assert named[0].get_deferred_fields() == {"department_code", "urban_kind", "urban_code",
                                              "limits"}  # fmt: skip
    _mixed_cases(loop, 6)
    for user in (loop.officer, loop.admin, loop.dispatcher, loop.assessor):
        assert selectors.unread_count(user) == selectors.inbox(user, unread_only=True).count()
    told = list(Notification.objects.filter(user=loop.officer).values_list("pk", flat=True))
    assert len(told) >= 2
    services.notifications_read(user=loop.officer, ids=told[:1])
    assert selectors.unread_count(loop.officer) == len(told) - 1
