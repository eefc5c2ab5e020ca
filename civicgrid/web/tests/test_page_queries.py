"""Each working page answers in as many queries with 100 cases as with 10, and a second
visit writes nothing (issue 20)."""

from __future__ import annotations

from civicgrid.cases.tests.conftest import Loop, loop  # noqa: F401  (fixture)
from civicgrid.cases.tests.test_list_reads import _mixed_cases
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

    _mixed_cases(loop, 10)
    few = measure()
    _mixed_cases(loop, 90)
    many = measure()
    assert {page: len(s) for page, s in many.items()} == {page: len(s) for page, s in few.items()}
    assert {page: writes(s) for page, s in many.items() if writes(s)} == {}
    center = clients["dispatcher"].get("/center/").content.decode()
    assert center.count('href="/center/cases/') >= 60  # the sections list the cases
