"""Range partitions by calendar period (year or month) of a PostgreSQL table.

One table partitioned ``BY RANGE`` of a time column, with a default partition
(``<table>_default``) that catches any time without its own partition, and one partition
per calendar period in a time zone: ``<table>_yYYYY`` by year, ``<table>_pYYYYMM`` by month.
``RangePartitioned`` describes such a table (the case ledger by year, the patrol positions
by month); its methods list the partitions, create the missing ones (moving any of their
rows out of the default partition first) and drop the old ones.

Creating is safe on two workers at once: it runs in one transaction under an advisory lock
named after the table, so the second waits for the first and then finds nothing to do.

A table whose default partition refuses deletes (an append-only trigger) names that trigger
(``no_delete_trigger``): moving rows out of the default is then done with the trigger off,
under a lock on the default partition, and the trigger is on again before anything else can
write. On SQLite, or a PostgreSQL table that is not partitioned, every method does nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

Period = Literal["year", "month"]


@dataclass(frozen=True)
class Partition:
    name: str
    first: dt.date  # first day of its period
    period: Period

    @property
    def year(self) -> int:
        return self.first.year


@dataclass(frozen=True)
class RangePartitioned:
    """A table partitioned by range of ``key`` (a timestamp column), one partition per
    ``period`` in the time zone ``zone`` (the platform's, ``settings.TIME_ZONE``, when
    ``None``)."""

    table: str
    key: str
    period: Period
    zone: str | None = None
    no_delete_trigger: str | None = None

    @property
    def default(self) -> str:
        return f"{self.table}_default"

    def start_of(self, day: dt.date) -> dt.date:
        """The first day of the period holding ``day``."""
        return day.replace(month=1, day=1) if self.period == "year" else day.replace(day=1)

    def following(self, first: dt.date) -> dt.date:
        """The first day of the period after the one starting on ``first``."""
        if self.period == "year":
            return first.replace(year=first.year + 1, month=1, day=1)
        return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)

    def bounds(self, first: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """The period's start and the next period's start, in the table's time zone."""
        zone = zoneinfo.ZoneInfo(self.zone or settings.TIME_ZONE)
        return (
            dt.datetime.combine(self.start_of(first), dt.time(0), tzinfo=zone),
            dt.datetime.combine(self.following(self.start_of(first)), dt.time(0), tzinfo=zone),
        )

    def name_for(self, first: dt.date) -> str:
        if self.period == "year":
            return f"{self.table}_y{first.year:04d}"
        return f"{self.table}_p{first:%Y%m}"

    def _first_of(self, name: str) -> dt.date | None:
        if self.period == "year":
            match = re.fullmatch(rf"{self.table}_y(\d{{4}})", name)
            return dt.date(int(match[1]), 1, 1) if match else None
        match = re.fullmatch(rf"{self.table}_p(\d{{4}})(\d{{2}})", name)
        return dt.date(int(match[1]), int(match[2]), 1) if match else None

    def is_partitioned(self, conn: BaseDatabaseWrapper = connection) -> bool:
        if conn.vendor != "postgresql":
            return False
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)",
                [self.table],
            )
            return cursor.fetchone() is not None

    def partitions(self, conn: BaseDatabaseWrapper = connection) -> list[Partition]:
        """The partitions of the periods, oldest first (the default partition is not one)."""
        if not self.is_partitioned(conn):
            return []
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = to_regclass(%s)",
                [self.table],
            )
            names = [row[0] for row in cursor.fetchall()]
        found = [
            Partition(name, first, self.period)
            for name in names
            if (first := self._first_of(name)) is not None
        ]
        return sorted(found, key=lambda p: p.first)

    def ensure(
        self, *, first: dt.date, last: dt.date, conn: BaseDatabaseWrapper = connection
    ) -> list[str]:
        """Create the partitions of the periods from ``first``'s to ``last``'s that are
        missing; returns their names. Rows of those periods already in the default partition
        move into the new partition (attaching it checks the default holds none of its
        range). Safe to run on two workers at once: the second waits for the first (an
        advisory lock) and then finds nothing to do."""
        if not self.is_partitioned(conn):
            return []
        created = []
        with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{self.table} partitions"]
            )
            existing = {p.first for p in self.partitions(conn)}
            period = self.start_of(first)
            while period <= last:
                if period not in existing:
                    self._create(cursor, period)
                    created.append(self.name_for(period))
                period = self.following(period)
        return created

    def _create(self, cursor: Any, period: dt.date) -> None:
        table, default, key = self.table, self.default, self.key
        name = self.name_for(period)
        low, high = self.bounds(period)
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {default} WHERE {key} >= %s AND {key} < %s)",
            [low, high],
        )
        row = cursor.fetchone()
        if row is None or not row[0]:
            cursor.execute(
                f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM (%s) TO (%s)",
                [low, high],
            )
            return
        guard = self.no_delete_trigger
        if guard:
            # Foreign keys checked at commit would leave the default partition with pending
            # trigger events (rows inserted earlier in this transaction), which ALTER TABLE
            # refuses: check them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"LOCK TABLE {default} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(
            f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        guarded = guard is not None and _has_trigger(cursor, default, guard)
        if guarded:
            cursor.execute(f"ALTER TABLE {default} DISABLE TRIGGER {guard}")
        cursor.execute(
            f"WITH moved AS (DELETE FROM {default} WHERE {key} >= %s AND {key} < %s "
            f"RETURNING *) INSERT INTO {name} SELECT * FROM moved",
            [low, high],
        )
        if guarded:
            cursor.execute(f"ALTER TABLE {default} ENABLE TRIGGER {guard}")
        cursor.execute(
            f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)",
            [low, high],
        )

    def ahead(
        self, *, today: dt.date, periods: int, conn: BaseDatabaseWrapper = connection
    ) -> list[str]:
        """The partition of ``today``'s period and of the next ``periods`` periods."""
        last = self.start_of(today)
        for _ in range(periods):
            last = self.following(last)
        return self.ensure(first=today, last=last, conn=conn)

    def drop_before(
        self, cutoff: dt.datetime, conn: BaseDatabaseWrapper = connection
    ) -> tuple[int, list[str]]:
        """Drop the partitions whose every possible row is older than ``cutoff``; returns
        the rows they held and their names."""
        rows = 0
        dropped = []
        with conn.cursor() as cursor:
            for partition in self.partitions(conn):
                if self.bounds(partition.first)[1] > cutoff:
                    break
                cursor.execute(f"SELECT count(*) FROM {partition.name}")
                row = cursor.fetchone()
                rows += int(row[0]) if row else 0
                cursor.execute(f"DROP TABLE {partition.name}")
                dropped.append(partition.name)
        return rows, dropped


def _has_trigger(cursor: Any, table: str, trigger: str) -> bool:
    cursor.execute(
        "SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND tgname = %s",
        [table, trigger],
    )
    return cursor.fetchone() is not None
