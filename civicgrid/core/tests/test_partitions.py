"""Range partitions by year or month (``core.partitions``), and their maintenance run by two
real processes at once.

The maintenance commands create the partitions of today's period and the next ones: the
test drops the ones after today's period and asserts they come back, whatever the day.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.utils import timezone

from civicgrid.cases import partitions as ledger
from civicgrid.core.partitions import RangePartitioned
from civicgrid.patrol import partitions as positions
from civicgrid.testing import civicgrid_process, finish

POSTGRES = connection.vendor == "postgresql"
SHANGHAI = ZoneInfo("Asia/Shanghai")
BY_YEAR = RangePartitioned(table="t", key="at", period="year", zone="Asia/Shanghai")
BY_MONTH = RangePartitioned(table="t", key="at", period="month", zone="Asia/Shanghai")


def test_periods_names_and_bounds_by_year_and_by_month() -> None:
    day = dt.date(2026, 12, 31)
    assert (BY_YEAR.start_of(day), BY_MONTH.start_of(day)) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 12, 1),
    )
    assert BY_YEAR.following(dt.date(2026, 1, 1)) == dt.date(2027, 1, 1)
    assert BY_MONTH.following(dt.date(2026, 12, 1)) == dt.date(2027, 1, 1)
    assert BY_MONTH.following(dt.date(2026, 1, 1)) == dt.date(2026, 2, 1)
    assert (BY_YEAR.name_for(day), BY_MONTH.name_for(day)) == ("t_y2026", "t_p202612")
    assert BY_YEAR.default == "t_default"
    # Midnight in Shanghai is 16:00 UTC the day before.
    assert BY_YEAR.bounds(dt.date(2026, 1, 1)) == (
        dt.datetime(2025, 12, 31, 16, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 31, 16, 0, tzinfo=dt.UTC),
    )
    assert BY_MONTH.bounds(dt.date(2026, 2, 1)) == (
        dt.datetime(2026, 2, 1, tzinfo=SHANGHAI),
        dt.datetime(2026, 3, 1, tzinfo=SHANGHAI),
    )


def _waiting_on_advisory_locks() -> int:
    """Sessions of this database waiting for an advisory lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
            "WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()"
        )
        row = cursor.fetchone()
        return int(row[0]) if row else 0


MAINTENANCE = {
    # the table, the command that creates its partitions ahead, how many periods ahead
    "ledger": (ledger.LEDGER, "partition-events", ledger.AHEAD_YEARS),
    "positions": (positions.POSITIONS, "purge-positions", positions.AHEAD_MONTHS),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("which", sorted(MAINTENANCE))
def test_the_partition_maintenance_on_two_processes_at_once_creates_each_partition_once(
    which: str,
) -> None:
    table, command, ahead = MAINTENANCE[which]
    if not POSTGRES:  # nothing is partitioned on SQLite: both run and change nothing
        runs = [finish(p) for p in [civicgrid_process(command) for _ in range(2)]]
        assert [code for code, _out in runs] == [0, 0], runs
        assert not any("Created partitions" in out for _code, out in runs)
        return
    # The partitions after today's period go (empty: a transactional test starts with
    # empty tables); the two processes must make them again, once.
    today = timezone.localdate()
    period, missing = table.start_of(today), []
    for _ in range(ahead):
        period = table.following(period)
        missing.append(table.name_for(period))
    with connection.cursor() as cursor:
        for name in missing:
            cursor.execute(f"DROP TABLE {name}")
    # The test holds the maintenance's lock until both processes wait for it, so that they
    # really run at the same time; then it lets them go.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{table.table} partitions"])
        processes = [civicgrid_process(command) for _ in range(2)]
        for _ in range(1200):  # waits for the processes; asserts nothing about how long
            if _waiting_on_advisory_locks() >= 2:
                break
            exited = [p for p in processes if p.poll() is not None]
            assert not exited, [finish(p) for p in exited]
            cursor.execute("SELECT pg_sleep(0.1)")
        else:
            pytest.fail("the two processes never waited for the maintenance's lock")
    runs = [finish(p) for p in processes]
    assert [code for code, _out in runs] == [0, 0], runs
    outputs = [out for _code, out in runs]
    created = [line for out in outputs for line in out.splitlines() if "Created partitions" in line]
    assert len(created) == 1, outputs  # one process made them, the other found nothing to do
    assert all(name in created[0] for name in missing), created
    names = [p.name for p in table.partitions()]
    assert len(names) == len(set(names)) and set(missing) <= set(names)
