"""The PostgreSQL health check asks the server only when the connection has news."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from django.db import connection

from civicgrid.core.postgresql.base import quiet

pytestmark = pytest.mark.django_db(transaction=True)


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_backend_pid()" if connection.vendor == "postgresql" else "SELECT 0"
        )
        return int(cursor.fetchone()[0])


def test_a_quiet_idle_connection_is_trusted_without_a_round_trip(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connection.ensure_connection()
    if connection.vendor != "postgresql":
        assert not quiet(connection.connection)  # not psycopg's: the backend is Django's own
        return
    assert quiet(connection.connection)
    asked: list[bool] = []
    monkeypatch.setattr(connection, "is_usable", lambda: asked.append(True) or True)
    pid = _backend_pid()
    connection.close_if_unusable_or_obsolete()  # what every request starts with
    assert _backend_pid() == pid
    assert asked == [] and connection.health_check_done


def test_a_connection_the_server_ended_is_replaced_before_the_request_uses_it() -> None:
    pid = _backend_pid()
    if connection.vendor != "postgresql":
        return  # SQLite's connection is a file, nothing ends it
    params: dict[str, Any] = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
    assert not quiet(connection.connection)
    connection.close_if_unusable_or_obsolete()
    assert _backend_pid() != pid  # a new connection, and it works
