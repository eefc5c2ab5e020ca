"""Monthly partitions of the positions table on PostgreSQL.

On PostgreSQL ``patrol_position`` is partitioned by range of ``time`` (migration 0004), one
partition per calendar month in the platform's time zone (``patrol_position_pYYYYMM``), and
a default partition that catches any other time: a GPX import of an old walk, or a month the
maintenance did not create ahead. ``purge-positions`` (run daily by the worker) creates the
partitions of this month and the next ones ahead, moving any of their rows out of the
default partition first, and drops whole partitions once every fix in them is past the
retention period: a drop instead of a long ``DELETE`` of millions of rows. On SQLite, or a
PostgreSQL table that is not partitioned, every function here does nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "patrol_position"
DEFAULT = f"{TABLE}_default"
MONTHLY = re.compile(rf"^{TABLE}_p(\d{{4}})(\d{{2}})$")
AHEAD_MONTHS = 2


@dataclass(frozen=True)
class Partition:
    name: str
    first: dt.date  # first day of its month

    @property
    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        return month_bounds(self.first)


def month_bounds(first: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The month's start and the next month's start, in the platform's time zone."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    following = next_month(first)
    return (
        dt.datetime.combine(first, dt.time(0), tzinfo=zone),
        dt.datetime.combine(following, dt.time(0), tzinfo=zone),
    )


def next_month(first: dt.date) -> dt.date:
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def name_for(first: dt.date) -> str:
    return f"{TABLE}_p{first:%Y%m}"


def is_partitioned(conn: BaseDatabaseWrapper = connection) -> bool:
    if conn.vendor != "postgresql":
        return False
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [TABLE]
        )
        return cursor.fetchone() is not None


def monthly_partitions(conn: BaseDatabaseWrapper = connection) -> list[Partition]:
    """The monthly partitions, oldest first (the default partition is not one of them)."""
    if not is_partitioned(conn):
        return []
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [TABLE],
        )
        names = [row[0] for row in cursor.fetchall()]
    found = []
    for name in names:
        match = MONTHLY.match(name)
        if match:
            found.append(Partition(name, dt.date(int(match[1]), int(match[2]), 1)))
    return sorted(found, key=lambda p: p.first)


def partitions_ensure(
    *, first: dt.date, last: dt.date, conn: BaseDatabaseWrapper = connection
) -> list[str]:
    """Create the monthly partitions from ``first``'s month to ``last``'s that are missing;
    returns their names. Rows of those months already in the default partition move into
    the new partition (attaching it checks the default holds none of its range)."""
    if not is_partitioned(conn):
        return []
    existing = {p.first for p in monthly_partitions(conn)}
    created = []
    month = first.replace(day=1)
    with conn.cursor() as cursor:
        while month <= last:
            if month not in existing:
                name = name_for(month)
                low, high = month_bounds(month)
                cursor.execute(
                    f"SELECT EXISTS (SELECT 1 FROM {DEFAULT} WHERE time >= %s AND time < %s)",
                    [low, high],
                )
                row = cursor.fetchone()
                if row is not None and row[0]:
                    cursor.execute(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS)")
                    cursor.execute(
                        f"WITH moved AS (DELETE FROM {DEFAULT} WHERE time >= %s AND time < %s "
                        f"RETURNING *) INSERT INTO {name} SELECT * FROM moved",
                        [low, high],
                    )
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
            month = next_month(month)
    return created


def partitions_ahead(*, today: dt.date, conn: BaseDatabaseWrapper = connection) -> list[str]:
    """This month's partition and the next ``AHEAD_MONTHS`` months'."""
    last = today.replace(day=1)
    for _ in range(AHEAD_MONTHS):
        last = next_month(last)
    return partitions_ensure(first=today, last=last, conn=conn)


def partitions_drop_before(
    cutoff: dt.datetime, conn: BaseDatabaseWrapper = connection
) -> tuple[int, list[str]]:
    """Drop the monthly partitions whose every possible fix is older than ``cutoff``;
    returns the rows they held and their names."""
    rows = 0
    dropped = []
    with conn.cursor() as cursor:
        for partition in monthly_partitions(conn):
            if partition.bounds[1] > cutoff:
                break
            cursor.execute(f"SELECT count(*) FROM {partition.name}")
            row = cursor.fetchone()
            rows += int(row[0]) if row else 0
            cursor.execute(f"DROP TABLE {partition.name}")
            dropped.append(partition.name)
    return rows, dropped
