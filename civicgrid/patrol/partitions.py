"""Monthly partitions of the positions table on PostgreSQL.

On PostgreSQL ``patrol_position`` is partitioned by range of ``time`` (migration 0004), one
partition per calendar month in the platform's time zone (``patrol_position_pYYYYMM``), and
a default partition that catches any other time: a GPX import of an old walk, or a month the
maintenance did not create ahead. ``purge-positions`` (run daily by the worker) creates the
partitions of this month and the next ones ahead, moving any of their rows out of the
default partition first, and drops whole partitions once every fix in them is past the
retention period: a drop instead of a long ``DELETE`` of millions of rows. On SQLite, or a
PostgreSQL table that is not partitioned, every function here does nothing. The
partitioning itself is ``core.partitions`` (shared with the case ledger, partitioned by
year).
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper

from civicgrid.core.partitions import Partition, RangePartitioned

TABLE = "patrol_position"
POSITIONS = RangePartitioned(table=TABLE, key="time", period="month")
DEFAULT = POSITIONS.default
AHEAD_MONTHS = 2


def month_bounds(first: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The month's start and the next month's start, in the platform's time zone."""
    return POSITIONS.bounds(first)


def name_for(first: dt.date) -> str:
    return POSITIONS.name_for(first)


def is_partitioned(conn: BaseDatabaseWrapper = connection) -> bool:
    return POSITIONS.is_partitioned(conn)


def monthly_partitions(conn: BaseDatabaseWrapper = connection) -> list[Partition]:
    """The monthly partitions, oldest first (the default partition is not one of them)."""
    return POSITIONS.partitions(conn)


def partitions_ensure(
    *, first: dt.date, last: dt.date, conn: BaseDatabaseWrapper = connection
) -> list[str]:
    """Create the monthly partitions from ``first``'s month to ``last``'s that are missing;
    returns their names (``RangePartitioned.ensure``: rows move out of the default
    partition; safe on two workers at once)."""
    return POSITIONS.ensure(first=first, last=last, conn=conn)


def partitions_ahead(*, today: dt.date, conn: BaseDatabaseWrapper = connection) -> list[str]:
    """This month's partition and the next ``AHEAD_MONTHS`` months'."""
    return POSITIONS.ahead(today=today, periods=AHEAD_MONTHS, conn=conn)


def partitions_drop_before(
    cutoff: dt.datetime, conn: BaseDatabaseWrapper = connection
) -> tuple[int, list[str]]:
    """Drop the monthly partitions whose every possible fix is older than ``cutoff``;
    returns the rows they held and their names."""
    return POSITIONS.drop_before(cutoff, conn)
