"""Reads of the report pages from a PostgreSQL read replica (``CIVICGRID_REPLICA_URL``).

The evaluation pages read a township's (or a city's) whole history: they can run on a
replica and leave the primary to the case work. Only reads inside ``replica_reads()`` go
to the ``replica`` alias, and only when one is configured; writes always go to the
primary, and code outside those blocks never reads the replica (a replica lags, and a
page that just wrote must read its own write). See docs/operations.md, "Topology".
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
_reading = contextvars.ContextVar("civicgrid_replica_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in connections.settings


@contextmanager
def replica_reads() -> Iterator[None]:
    """Within this block, model reads go to the replica (when there is one)."""
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


@contextmanager
def primary_reads() -> Iterator[None]:
    """Inside a replica block: reads that decide a write go to the primary."""
    token = _reading.set(False)
    try:
        yield
    finally:
        _reading.reset(token)


def reads_from_replica[F: Callable[..., Any]](view: F) -> F:
    """A view whose reads go to the replica (the evaluation pages)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with replica_reads():
            return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


class ReplicaRouter:
    """``DATABASE_ROUTERS``: the replica for reads inside ``replica_reads()``, else the primary."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        if _reading.get() and replica_configured():
            return REPLICA
        return None

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replica holds the primary's rows: one database for relations

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return False if db == REPLICA else None  # migrations run on the primary only
