"""Statements of ``rows.prepared_cursor`` are planned once per PostgreSQL connection."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from civicgrid.core import rows
from civicgrid.core.env import database_from_url

SQL = "SELECT id, username FROM people_user WHERE id = %s OR username = %s ORDER BY id"


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_a_statement_is_prepared_once_and_answers_as_an_ordinary_cursor(staff_user) -> None:
    user = staff_user
    with connection.cursor() as cursor:
        cursor.execute(SQL, [user.pk, "nobody"])
        expected = cursor.fetchall()
    answers = []
    with CaptureQueriesContext(connection) as captured:
        for _ in range(3):
            with rows.prepared_cursor() as cursor:
                cursor.execute(SQL, [user.pk, "nobody"])
                answers.append(cursor.fetchall())
    assert answers == [expected] * 3
    # The log shows the statement with its values, as for any other.
    assert captured.captured_queries[0]["sql"].startswith("SELECT id, username")
    assert str(user.pk) in captured.captured_queries[0]["sql"]
    if connection.vendor != "postgresql":
        return  # SQLite's own statement cache keeps the compiled statement
    assert connection.prepares
    mine = [s for s in _prepared_statements() if "people_user WHERE id = $1" in s]
    assert len(mine) == 1  # planned once, run three times


def test_prepare_0_in_the_url_turns_preparing_off() -> None:
    def options(url: str) -> dict[str, Any]:
        return dict(database_from_url(url, data_dir=None)["OPTIONS"])  # type: ignore[arg-type]

    assert options("postgres://u@db:5432/cg")["prepare"] is True
    assert options("postgres://u@db:5432/cg?prepare=0")["prepare"] is False
    assert options("postgres://u@db:5432/cg?prepare=off&sslmode=require") == {
        "prepare": False,
        "sslmode": "require",
    }
    with pytest.raises(ImproperlyConfigured, match="prepare='maybe'"):
        options("postgres://u@db:5432/cg?prepare=maybe")


@pytest.mark.django_db
def test_without_preparing_the_cursor_is_an_ordinary_one(monkeypatch) -> None:
    if connection.vendor != "postgresql":
        assert not hasattr(connection, "prepared_cursor")
        return
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "prepare", False)
    with rows.prepared_cursor() as cursor:
        assert type(cursor.cursor) is type(connection.cursor().cursor)  # client-side binding
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
