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
here does nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "cases_caseevent"
DEFAULT = f"{TABLE}_default"
YEARLY = re.compile(rf"^{TABLE}_y(\d{{4}})$")
AHEAD_YEARS = 1
NO_DELETE = f"{TABLE}_no_delete"


@dataclass(frozen=True)
class Partition:
    name: str
    year: int


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    """The year's start and the next year's start, in the platform's time zone."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return (
        dt.datetime(year, 1, 1, tzinfo=zone),
        dt.datetime(year + 1, 1, 1, tzinfo=zone),
    )


def name_for(year: int) -> str:
    return f"{TABLE}_y{year:04d}"


def is_partitioned(conn: BaseDatabaseWrapper = connection) -> bool:
    if conn.vendor != "postgresql":
        return False
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [TABLE]
        )
        return cursor.fetchone() is not None


def yearly_partitions(conn: BaseDatabaseWrapper = connection) -> list[Partition]:
    """The yearly partitions, oldest first (the default partition is not one of them)."""
    if not is_partitioned(conn):
        return []
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [TABLE],
        )
        names = [row[0] for row in cursor.fetchall()]
    found = [Partition(n, int(m[1])) for n in names if (m := YEARLY.match(n))]
    return sorted(found, key=lambda p: p.year)


def partitions_ensure(
    *, first: int, last: int, conn: BaseDatabaseWrapper = connection
) -> list[str]:
    """Create the yearly partitions from ``first`` to ``last`` that are missing; returns
    their names. Rows of those years already in the default partition move into the new
    partition (attaching it checks the default holds none of its range). Safe to run on two
    workers at once: the second waits for the first and then finds nothing to do."""
    if not is_partitioned(conn):
        return []
    created = []
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{TABLE} partitions"])
        existing = {p.year for p in yearly_partitions(conn)}
        for year in range(first, last + 1):
            if year in existing:
                continue
            name = name_for(year)
            low, high = year_bounds(year)
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {DEFAULT} WHERE at >= %s AND at < %s)", [low, high]
            )
            row = cursor.fetchone()
            if row is not None and row[0]:
                # Foreign keys checked at commit would leave the default partition with
                # pending trigger events (rows inserted earlier in this transaction), which
                # ALTER TABLE refuses: check them now.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f"LOCK TABLE {DEFAULT} IN ACCESS EXCLUSIVE MODE")
                cursor.execute(
                    f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
                )
                guarded = _has_trigger(cursor, DEFAULT, NO_DELETE)
                if guarded:
                    cursor.execute(f"ALTER TABLE {DEFAULT} DISABLE TRIGGER {NO_DELETE}")
                cursor.execute(
                    f"WITH moved AS (DELETE FROM {DEFAULT} WHERE at >= %s AND at < %s "
                    f"RETURNING *) INSERT INTO {name} SELECT * FROM moved",
                    [low, high],
                )
                if guarded:
                    cursor.execute(f"ALTER TABLE {DEFAULT} ENABLE TRIGGER {NO_DELETE}")
                cursor.execute(
                    f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)",
                    [low, high],
                )
            else:
                cursor.execute(
                    f"CREATE TABLE {name} PARTITION OF {TABLE} FOR VALUES FROM (%s) TO (%s)",
                    [low, high],
                )
            created.append(name)
    return created


def _has_trigger(cursor: Any, table: str, trigger: str) -> bool:
    cursor.execute(
        "SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND tgname = %s",
        [table, trigger],
    )
    return cursor.fetchone() is not None


def partitions_ahead(*, today: dt.date, conn: BaseDatabaseWrapper = connection) -> list[str]:
    """This year's partition and the next ``AHEAD_YEARS`` years'."""
    return partitions_ensure(first=today.year, last=today.year + AHEAD_YEARS, conn=conn)
