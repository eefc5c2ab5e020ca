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

import select

from django.db.backends.postgresql import base
from psycopg import pq


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


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        # Django's attributes, missing from django-stubs.
        enabled, done = getattr(self, "health_check_enabled"), getattr(self, "health_check_done")  # noqa: B009
        checked_now = self.connection is not None and enabled and not done and not self.pool
        if checked_now and quiet(self.connection):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
