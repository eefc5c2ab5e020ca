"""Each working page answers in as many queries with 100 cases as with 10, and a second
visit writes nothing (issue 20)."""

from __future__ import annotations

import datetime as dt

import pytest

from civicgrid.cases.models import Case
from civicgrid.cases.tests.conftest import Loop, loop  # noqa: F401  (fixture)
from civicgrid.cases.tests.test_list_reads import _mixed_cases
from civicgrid.cases.workflow import OPEN_STATES
from civicgrid.testing import statements, writes
from civicgrid.web.tests.test_work_pages import client_for

PAGES = [
    ("dispatcher", "/center/"),
    ("dispatcher", "/center/counts.json"),
    ("dispatcher", "/center/overdue/"),
    ("dispatcher", "/center/cases.geojson"),
    ("dispatcher", "/inbox/"),
    ("officer", "/dept/"),
    ("admin", "/field/"),
    ("village_officer", "/village/"),
    ("assessor", "/assess/"),
]


def test_pages_answer_in_as_many_queries_for_100_cases_as_for_10(loop: Loop) -> None:  # noqa: F811
    clients = {who: client_for(getattr(loop, who)) for who, _path in PAGES}

    def measure() -> dict[str, list[str]]:
        found = {}
        for who, path in PAGES:
            # Unmeasured first: a visit renews the session at most every few minutes, and
            # building the cases may take longer than that.
            clients[who].get(path)
            with statements() as sqls:
                response = clients[who].get(path)
            assert response.status_code == 200, (who, path, response.status_code)
            found[f"{who} {path}"] = sqls
        return found

    # Half the cases late, so the overdue board lists and counts some (a fixed past date).
    long_ago = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)

    def some_late() -> None:
        late = Case.objects.filter(state__in=list(OPEN_STATES), pk__gt=0).order_by("pk")[::2]
        Case.objects.filter(pk__in=[c.pk for c in late]).update(deadline=long_ago)

    _mixed_cases(loop, 10)
    some_late()
    few = measure()
    _mixed_cases(loop, 90)
    some_late()
    many = measure()
    assert {page: len(s) for page, s in many.items()} == {page: len(s) for page, s in few.items()}
    assert {page: writes(s) for page, s in many.items() if writes(s)} == {}
    center = clients["dispatcher"].get("/center/").content.decode()
    assert center.count('href="/center/cases/') >= 60  # the sections list the cases


def test_center_pages_ask_nothing_of_djangos_permission_tables(loop: Loop) -> None:  # noqa: F811
    # The menu asks for a permission on every page; staff hold roles, not permissions.
    _mixed_cases(loop, 5)
    client = client_for(loop.dispatcher)
    for path in ("/center/", "/center/overdue/", "/center/cases.geojson", "/center/counts.json"):
        client.get(path)
        with statements() as sqls:
            assert client.get(path).status_code == 200
        assert [sql for sql in sqls if "auth_permission" in sql or "auth_group" in sql] == []


def test_a_granted_permission_counts_from_the_next_request(loop: Loop) -> None:  # noqa: F811
    from django.contrib.auth.models import Group, Permission

    client = client_for(loop.dispatcher)
    assert 'href="/divisions/"' not in client.get("/center/").content.decode()
    group = Group.objects.create(name="division editors")
    group.permissions.add(Permission.objects.get(codename="change_divisionversion"))
    loop.dispatcher.groups.add(group)
    assert 'href="/divisions/"' in client.get("/center/").content.decode()
    loop.dispatcher.groups.remove(group)
    assert 'href="/divisions/"' not in client.get("/center/").content.decode()


def test_the_overdue_board_lists_a_page_and_counts_them_all(
    loop: Loop,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from civicgrid.web import center

    monkeypatch.setattr(center, "OVERDUE_ROWS", 4)
    _mixed_cases(loop, 10)
    open_cases = Case.objects.filter(state__in=list(OPEN_STATES))
    late = list(open_cases.order_by("pk")[:9])
    for i, case in enumerate(late):
        deadline = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC) + dt.timedelta(hours=i)
        Case.objects.filter(pk=case.pk).update(deadline=deadline)
    client = client_for(loop.dispatcher)
    pages = []
    for page in (1, 2, 3):
        html = client.get(f"/center/overdue/?page={page}").content.decode()
        listed = html.split('id="overdue-cases"')[1]
        pages.append([c.number for c in late if f">{c.number}<" in listed])
        assert "of 9" in html
        if page < 3:
            assert f'href="?page={page + 1}"' in html
        else:
            assert 'rel="next"' not in html
    # Oldest deadline first, four a page, each case once.
    assert pages == [[c.number for c in late[:4]], [c.number for c in late[4:8]], [late[8].number]]
    # The counts cover every late case, not just the page.
    html = client.get("/center/overdue/").content.decode()
    villages = html.split('id="overdue-villages"')[1].split("</table>")[0]
    assert ">9<" in villages
    assert client.get("/center/overdue/?page=x").status_code == 200


def test_the_queue_page_names_the_villages_from_one_read(loop: Loop) -> None:  # noqa: F811
    # The map's village filter and the rows' village names come from the same statement:
    # under load each round trip to the database waits for a core.
    case = loop.report()
    client = client_for(loop.dispatcher)
    client.get("/center/")
    with statements() as sqls:
        html = client.get("/center/").content.decode()
    assert len([sql for sql in sqls if '"geo_village"' in sql]) == 1
    row = next(li for li in html.split("<li>") if case.number in li)
    assert case.village is not None and f"· {case.village.name}" in row
    assert f'<option value="{case.village.code}">{case.village.name}</option>' in html


def test_queue_rows_read_the_names_of_villages_the_page_did_not_know(loop: Loop) -> None:  # noqa: F811
    from civicgrid.web.center import queue_rows

    case = loop.report()
    rows = queue_rows(loop.dispatcher, {}, village_names={})
    assert case.village is not None
    assert [(r["number"], r["village"]) for r in rows["new"]] == [(case.number, case.village.name)]
