"""SQLite's placeholders converted once per statement text, as Django converts them."""

from __future__ import annotations

import sqlite3

import pytest
from django.db import connection
from django.db.backends.sqlite3.base import SQLiteCursorWrapper as DjangoCursor

from civicgrid.core.sqlite3.base import SQLiteCursorWrapper, qmark

STATEMENTS = [
    "SELECT 1",
    "SELECT a FROM t WHERE b = %s AND c IN (%s, %s)",
    "SELECT '%%s', '100%%' FROM t WHERE b LIKE %s",
    "UPDATE t SET a = %s WHERE b = '%%%s'",
    "SELECT strftime('%%Y', d) FROM t WHERE x = %s",
]


@pytest.mark.parametrize("sql", STATEMENTS)
def test_the_remembered_conversion_is_djangos(sql: str) -> None:
    db = sqlite3.connect(":memory:")
    theirs, ours = db.cursor(factory=DjangoCursor), db.cursor(factory=SQLiteCursorWrapper)
    assert ours.convert_query(sql) == theirs.convert_query(sql) == qmark(sql)
    assert ours.convert_query(sql) == theirs.convert_query(sql)  # remembered
    named = "x = %(a)s AND y = %(b)s"
    assert ours.convert_query(named, param_names=["a", "b"]) == theirs.convert_query(
        named, param_names=["a", "b"]
    )
    db.close()


@pytest.mark.django_db
def test_sqlite_connections_use_the_remembering_cursor() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s, '%%'", [7])
        assert tuple(cursor.fetchone()) == (7, "%")
        if connection.vendor == "sqlite":
            assert isinstance(cursor.cursor, SQLiteCursorWrapper)
