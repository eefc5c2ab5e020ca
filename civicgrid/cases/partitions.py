"""Yearly partitions of the case ledger (``cases_caseevent``) on PostgreSQL.

On PostgreSQL the ledger is partitioned by range of ``at`` (migration 0011), one partition
per calendar year in the platform's time zone (``cases_caseevent_yYYYY``), and a default
partition that catches any other time. The daily ``event-partitions`` job (and
``civicgrid partition-events``) creates this year's partition and the next ones ahead,
moving any of their rows out of the default partition first. Nothing is ever dropped: the
ledger is kept whole; partitions keep each year's indexes small and let old years be
archived or moved to other storage by the operator.

The append-only triggers sit on the partitioned table and PostgreSQL gives each partition
its copy. Moving rows out of the default partition is the one place that deletes ledger
rows: within one transaction, under a lock on the default partition, its delete trigger is
switched off, the rows are copied unchanged (same ids, hashes and positions: the chains do
not notice) and the trigger is switched on again before anything else can write.

Unique keys of a partitioned table must include the partition key, so the database keeps
``position`` and (case, seq) unique per year only; appends take the ledger head's row lock
(``ledger_head_locked``), which serialises them, and ``ledger-verify`` reports any
duplicate or gap. On SQLite, or a PostgreSQL table that is not partitioned, every function
here does nothing. The partitioning itself is ``core.partitions`` (shared with the patrol
positions, partitioned by month).
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper

from civicgrid.core.partitions import Partition, RangePartitioned

TABLE = "cases_caseevent"
LEDGER = RangePartitioned(
    table=TABLE, key="at", period="year", no_delete_trigger=f"{TABLE}_no_delete"
)
DEFAULT = LEDGER.default
AHEAD_YEARS = 1


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    """The year's start and the next year's start, in the platform's time zone."""
    return LEDGER.bounds(dt.date(year, 1, 1))


def name_for(year: int) -> str:
    return LEDGER.name_for(dt.date(year, 1, 1))


def is_partitioned(conn: BaseDatabaseWrapper = connection) -> bool:
    return LEDGER.is_partitioned(conn)


def yearly_partitions(conn: BaseDatabaseWrapper = connection) -> list[Partition]:
    """The yearly partitions, oldest first (the default partition is not one of them)."""
    return LEDGER.partitions(conn)


def partitions_ensure(
    *, first: int, last: int, conn: BaseDatabaseWrapper = connection
) -> list[str]:
    """Create the yearly partitions from ``first`` to ``last`` that are missing; returns
    their names (``RangePartitioned.ensure``: rows move out of the default partition; safe
    on two workers at once)."""
    return LEDGER.ensure(first=dt.date(first, 1, 1), last=dt.date(last, 1, 1), conn=conn)


def partitions_ahead(*, today: dt.date, conn: BaseDatabaseWrapper = connection) -> list[str]:
    """This year's partition and the next ``AHEAD_YEARS`` years'."""
    return LEDGER.ahead(today=today, periods=AHEAD_YEARS, conn=conn)
