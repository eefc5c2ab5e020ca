"""Django's SQLite backend with each statement's placeholders converted once per process.

Python's ``sqlite3`` takes ``?`` placeholders; Django's cursor rewrites the ``%s`` of
every statement with a regular expression on each execution. For the long statements a
request repeats (a case action's case read is 1,600 characters) that cost as much as
SQLite running them (16 µs of 34, issue 20). The conversion is a pure function of the
text, so its results are remembered (the most recent thousand statements).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from django.db.backends.sqlite3 import base


@functools.lru_cache(maxsize=1024)
def qmark(query: str) -> str:
    """``query`` with Django's ``%s`` placeholders as SQLite's ``?`` (``%%`` as ``%``)."""
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query: str, *, param_names: Sequence[str] | None = None) -> str:
        if param_names is None:
            return qmark(query)
        return str(super().convert_query(query, param_names=param_names))


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name: Any = None) -> Any:
        return self.connection.cursor(factory=SQLiteCursorWrapper)
