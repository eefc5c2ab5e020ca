"""Each working page answers in as many queries with many cases as with few (issue 20)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from civicgrid.cases.tests.conftest import Loop, loop  # noqa: F401  (fixture)
from civicgrid.web.tests.test_work_pages import client_for

PAGES = [
    ("dispatcher", "/center/"),
    ("dispatcher", "/center/overdue/"),
    ("dispatcher", "/inbox/"),
    ("officer", "/dept/"),
    ("admin", "/field/"),
    ("village_officer", "/village/"),
    ("assessor", "/assess/"),
]


def _queries(world: Loop, who: str, path: str) -> int:
    client = client_for(getattr(world, who))
    client.get(path)  # the first visit renews the session
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(queries.captured_queries)


def _add_cases(world: Loop, n: int) -> None:
    for _ in range(n):
        world.report()
        world.case_in("dispatched")
        world.case_in("disposed")


@pytest.mark.parametrize(("who", "path"), PAGES)
def test_page_queries_do_not_grow_with_cases(loop: Loop, who: str, path: str) -> None:  # noqa: F811
    _add_cases(loop, 1)
    few = _queries(loop, who, path)
    _add_cases(loop, 4)
    assert _queries(loop, who, path) == few
