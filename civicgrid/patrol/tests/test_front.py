"""The OsmAnd front (``patrol.front``): the plain fix stored in front of Django, everything
else handed to Django untouched, nothing stored twice."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from django.core import signals
from django.db import DatabaseError, close_old_connections
from django.test import RequestFactory
from django.utils import timezone

from civicgrid.config.wsgi import application
from civicgrid.patrol import front, services
from civicgrid.patrol.models import Position
from civicgrid.patrol.osmand import query_params
from civicgrid.patrol.tests.conftest import Patrol
from civicgrid.patrol.tests.test_positions import osmand_query

pytestmark = pytest.mark.django_db


def environ(query: str, method: str = "GET", path: str = "/osmand/") -> dict[str, Any]:
    """The WSGI environ of a request as a server hands it over."""
    return RequestFactory().generic(method, f"{path}?{query}").environ


class Behind:
    """Stands for Django behind the front: records what reached it."""

    def __init__(self) -> None:
        self.reached: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.reached.append(environ["PATH_INFO"])
        start_response("418 I'm a teapot", [])
        return [b"django"]


@pytest.fixture
def served() -> Iterator[Any]:
    """The application as served, with the test's connection kept across the request
    (Django's test client leaves the same two receivers out: they would close it)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield application
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def call(app: Any, env: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    answered: list[Any] = []
    body = b"".join(app(env, lambda status, headers: answered.append((status, headers))))
    return answered[0][0], answered[0][1], body


def test_the_plain_fix_is_stored_without_django(patrol: Patrol) -> None:
    now = timezone.now()
    services.shift_start(user=patrol.admin, actor=patrol.admin, now=now - dt.timedelta(hours=1))
    behind = Behind()
    status, headers, body = call(
        front.OsmandFront(behind), environ(urlencode(osmand_query(now - dt.timedelta(seconds=5))))
    )
    assert (status, body, behind.reached) == ("200 OK", b"", [])
    assert dict(headers)["Content-Length"] == "0"
    stored = Position.objects.get(staff=patrol.admin)
    assert stored.source == "osmand" and stored.battery == 64.0 and stored.flag == ""


@pytest.mark.parametrize(
    "change",
    [
        {"id": "STRANGER"},  # an unknown phone
        {"lat": "north"},  # not decodable: the view names the parameter
        {"lat": "0", "lon": "0"},  # no fix
        {"timestamp": "yesterday at noon"},
    ],
)
def test_what_is_not_plain_goes_to_django_and_is_stored_nowhere(
    patrol: Patrol, change: dict[str, str]
) -> None:
    now = timezone.now()
    services.shift_start(user=patrol.admin, actor=patrol.admin, now=now - dt.timedelta(hours=1))
    behind = Behind()
    query = urlencode(osmand_query(now) | change)
    status, _, body = call(front.OsmandFront(behind), environ(query))
    assert (status, body, behind.reached) == ("418 I'm a teapot", b"django", ["/osmand/"])
    assert not Position.objects.exists()


def test_no_open_shift_goes_to_django_which_explains(patrol: Patrol, served: Any) -> None:
    status, _, body = call(served, environ(urlencode(osmand_query(timezone.now()))))
    assert status.startswith("409 ")
    assert json.loads(body)["error"] == "no_shift"
    assert not Position.objects.exists()


def test_posts_and_other_paths_go_to_django(patrol: Patrol) -> None:
    services.shift_start(user=patrol.admin, actor=patrol.admin)
    behind = Behind()
    query = urlencode(osmand_query(timezone.now()))
    call(front.OsmandFront(behind), environ(query, method="POST"))
    call(front.OsmandFront(behind), environ(query, path="/osmand"))
    assert behind.reached == ["/osmand/", "/osmand"]
    assert not Position.objects.exists()


def test_a_failed_statement_goes_to_django(patrol: Patrol, monkeypatch) -> None:
    """A database error stored nothing; Django's handler tries the fix again its way."""
    services.shift_start(user=patrol.admin, actor=patrol.admin)

    def fails(**kwargs: Any) -> None:
        raise DatabaseError("the disk is full")

    monkeypatch.setattr(services, "osmand_fix_plain", fails)
    behind = Behind()
    call(front.OsmandFront(behind), environ(urlencode(osmand_query(timezone.now()))))
    assert behind.reached == ["/osmand/"]


def test_the_served_application_stores_the_fix_once(patrol: Patrol, served: Any) -> None:
    now = timezone.now()
    services.shift_start(user=patrol.admin, actor=patrol.admin, now=now - dt.timedelta(hours=1))
    status, _, body = call(served, environ(urlencode(osmand_query(now))))
    assert (status, body) == ("200 OK", b"")
    status, _, body = call(served, environ(urlencode({"id": "STRANGER", "lat": "1"})))
    assert status.startswith("404") and b"unknown_device" in body
    assert Position.objects.count() == 1


@pytest.mark.parametrize(
    "text",
    [
        "id=PHONE-1&lat=23.01&lon=113.005&timestamp=1700000000",
        "id=a%20b&id=second&lat=+1.5&empty=&bare&&x=%E4%B8%AD%E6%96%87",
        "location=23.0%2C113.0&name=a+b%2Bc&=nameless&k==v",
        "",
    ],
)
def test_query_params_reads_as_parse_qsl(text: str) -> None:
    assert query_params(text) == dict(parse_qsl(text, keep_blank_values=True))


def test_query_params_refuses_more_fields_than_the_limit() -> None:
    assert query_params("a=1&b=2", max_fields=2) == {"a": "1", "b": "2"}
    with pytest.raises(ValueError):
        query_params("a=1&b=2&c=3", max_fields=2)


@pytest.mark.django_db(transaction=True)
def test_the_connection_is_kept_or_closed_as_conn_max_age_says(patrol: Patrol) -> None:
    """What Django's request signals do, the front does: a connection kept across fixes
    (the default), or closed after each one with ``CONN_MAX_AGE = 0``."""
    from django.db import connection

    now = timezone.now()
    services.shift_start(user=patrol.admin, actor=patrol.admin, now=now - dt.timedelta(hours=1))
    behind = Behind()
    call(front.OsmandFront(behind), environ(urlencode(osmand_query(now - dt.timedelta(seconds=9)))))
    assert connection.connection is not None  # kept
    kept = connection.settings_dict["CONN_MAX_AGE"]
    connection.settings_dict["CONN_MAX_AGE"] = 0
    try:
        connection.close()
        query = urlencode(osmand_query(now - dt.timedelta(seconds=8)))
        status, _, _ = call(front.OsmandFront(behind), environ(query))
        assert status == "200 OK" and connection.connection is None  # closed after the fix
    finally:
        connection.settings_dict["CONN_MAX_AGE"] = kept
    assert behind.reached == [] and Position.objects.count() == 2
