"""Django's PostgreSQL backend with a health check that asks the server only when needed.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first statement of every
request, a round trip of its own: an eighth of the round trips of a case action (issue
20). A connection the server ended (a restart, ``pg_terminate_backend``, an idle timeout)
has something waiting on its socket, the server's last message or the end of the stream;
a healthy idle connection has nothing. So the check asks the server only when the socket
has something to read or psycopg knows the connection is not idle and well, and otherwise
trusts it, as ``SELECT 1`` would have. A connection cut without a word from the server
(a cable pulled) was not found by ``SELECT 1`` either before its timeout.
"""

from __future__ import annotations

import contextlib
import select
from typing import Any

from django.db.backends.postgresql import base, operations
from psycopg import DataError, pq


def quiet(connection: object) -> bool:
    """The psycopg connection is open, idle, and nothing from the server awaits reading."""
    pgconn = getattr(connection, "pgconn", None)
    if pgconn is None or getattr(connection, "closed", True) or getattr(connection, "broken", True):
        return False
    if pgconn.status != pq.ConnStatus.OK:
        return False
    if pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return False
    poller = select.poll()
    poller.register(pgconn.socket, select.POLLIN | select.POLLERR | select.POLLHUP)
    return not poller.poll(0)


# Django's psycopg 3 cursor that binds on the server (django-stubs do not describe it).
_ServerBindingCursor: Any = base.ServerBindingCursor


class PreparingCursor(_ServerBindingCursor):
    """Binds parameters on the server and keeps each statement prepared on the connection."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("prepare", True)
        return super().execute(query, params, **kwargs)


# Django turns psycopg's automatic preparation off (``prepare_threshold`` None), which also
# refuses ``prepare=True``. Its cursors bind on the client and never prepare whatever the
# threshold, so a threshold no statement reaches leaves preparing to ``prepared_cursor``.
_ASKED_ONLY = 2**31


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor: Any, sql: str, params: Any) -> str:
        """A prepared statement's text with its parameters, as for the other statements
        (psycopg keeps no composed text of it): for logging and query-count tests."""
        if isinstance(cursor, PreparingCursor):
            with contextlib.suppress(DataError):
                return str(self.compose_sql(sql, params))
        return super().last_executed_query(cursor, sql, params)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    @property
    def prepares(self) -> bool:
        """Whether ``prepared_cursor`` prepares (``OPTIONS["prepare"]``, on by default)."""
        return self.settings_dict["OPTIONS"].get("prepare", True) is not False

    def get_connection_params(self) -> dict[str, Any]:
        params = dict(super().get_connection_params())
        params.pop("prepare", None)  # ours, not a connection parameter
        if self.prepares and params.get("prepare_threshold") is None:
            params["prepare_threshold"] = _ASKED_ONLY
        return params

    def prepared_cursor(self) -> Any:
        """A cursor whose statements the server plans once per connection.

        For the few statements every case action runs: planning them cost the server more
        than running them (a case read 0.3–0.6 ms of planning, 0.1–0.3 of execution; issue
        20). ``?prepare=0`` in ``DATABASE_URL`` turns it off (a pooler in transaction mode
        older than PgBouncer 1.21); then this is an ordinary cursor.
        """
        if not self.prepares:
            return self.cursor()
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            # As Django's ``_cursor`` wraps the cursors it makes (debug logging included).
            return getattr(self, "_prepare_cursor")(PreparingCursor(self.connection))  # noqa: B009

    def close_if_health_check_failed(self) -> None:
        # Django's attributes, missing from django-stubs.
        enabled, done = getattr(self, "health_check_enabled"), getattr(self, "health_check_done")  # noqa: B009
        checked_now = self.connection is not None and enabled and not done and not self.pool
        if checked_now and quiet(self.connection):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
