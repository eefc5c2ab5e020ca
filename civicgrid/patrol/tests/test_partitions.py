"""Monthly partitions of the positions table on PostgreSQL; the same purge on SQLite.

Fixed days of 2026 throughout, with the purge's ``now`` given: nothing depends on when the
tests run.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from civicgrid.patrol import partitions, services
from civicgrid.patrol.models import DutyDay, Position
from civicgrid.patrol.tests.conftest import Patrol
from civicgrid.patrol.tests.test_tracks import local, walked
from civicgrid.testing import tables_holding

pytestmark = pytest.mark.django_db

POSTGRES = connection.vendor == "postgresql"
JANUARY, FEBRUARY, MARCH = dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)


def where(day: dt.date) -> set[str]:
    """The tables that hold the positions of ``day`` (the positions table on SQLite)."""
    return tables_holding(
        partitions.TABLE, "time >= %s AND time < %s", [*services.local_day_bounds(day)]
    )


def test_the_positions_table_is_partitioned_by_month_on_postgresql_only() -> None:
    assert partitions.is_partitioned() is POSTGRES
    if not POSTGRES:
        assert partitions.monthly_partitions() == []
        assert partitions.partitions_ensure(first=JANUARY, last=MARCH) == []
        assert partitions.partitions_drop_before(local(MARCH, 0)) == (0, [])
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'patrol_position'::regclass AND contype = 'p'"
        )
        assert cursor.fetchone() == ('PRIMARY KEY (id, "time")',)


def test_a_month_without_its_partition_lands_in_the_default_and_moves_when_created(
    patrol: Patrol,
) -> None:
    walked(patrol.admin, local(dt.date(2026, 1, 12), 9), 10)
    assert where(dt.date(2026, 1, 12)) == (
        {partitions.DEFAULT} if POSTGRES else {"patrol_position"}
    )
    created = partitions.partitions_ensure(first=JANUARY, last=MARCH)
    names = ["patrol_position_p202601", "patrol_position_p202602", "patrol_position_p202603"]
    assert created == (names if POSTGRES else [])
    assert partitions.partitions_ensure(first=JANUARY, last=MARCH) == []  # idempotent
    assert where(dt.date(2026, 1, 12)) == (
        {"patrol_position_p202601"} if POSTGRES else {"patrol_position"}
    )
    walked(patrol.admin, local(dt.date(2026, 2, 3), 9), 10)
    assert where(dt.date(2026, 2, 3)) == (
        {"patrol_position_p202602"} if POSTGRES else {"patrol_position"}
    )
    # The day's figures read through the parent table as before.
    record = services.duty_day_compute(user=patrol.admin, day=dt.date(2026, 1, 12))
    assert record.patrol_minutes == 10.0 and record.good_fixes == 11


def test_partition_bounds_follow_the_months_of_asia_shanghai(patrol: Patrol) -> None:
    partitions.partitions_ensure(first=JANUARY, last=FEBRUARY)
    # 31 January 23:50 in Shanghai is 15:50 UTC: January's partition, not February's.
    walked(patrol.admin, local(dt.date(2026, 1, 31), 23, 50), 20)
    if POSTGRES:
        assert where(dt.date(2026, 1, 31)) == {"patrol_position_p202601"}
        assert where(dt.date(2026, 2, 1)) == {"patrol_position_p202602"}
    assert Position.objects.filter(staff=patrol.admin).count() == 21


def test_purge_drops_whole_old_months_deletes_the_rest_and_creates_months_ahead(
    patrol: Patrol,
) -> None:
    walked(patrol.admin, local(dt.date(2026, 1, 12), 9), 10)  # default partition at first
    partitions.partitions_ensure(first=JANUARY, last=MARCH)
    walked(patrol.admin, local(dt.date(2026, 2, 3), 9), 10)
    walked(patrol.admin, local(dt.date(2026, 2, 20), 9), 10)
    walked(patrol.admin, local(dt.date(2026, 3, 2), 9), 10)
    services.duty_day_compute(user=patrol.admin, day=dt.date(2026, 1, 12))
    now = local(dt.date(2026, 5, 10), 12)  # 90 days back: 9 February, noon
    purged = services.positions_purge(older_than_days=90, now=now)
    assert purged.positions == 22  # 12 January (a whole month dropped) and 3 February
    if POSTGRES:
        assert purged.partitions_dropped == ("patrol_position_p202601",)
        assert purged.partitions_created == (
            "patrol_position_p202605",
            "patrol_position_p202606",
            "patrol_position_p202607",
        )
        assert [p.name for p in partitions.monthly_partitions()][:2] == [
            "patrol_position_p202602",
            "patrol_position_p202603",
        ]
    else:
        assert (purged.partitions_dropped, purged.partitions_created) == ((), ())
    assert sorted({t.date() for t in Position.objects.values_list("time", flat=True)}) == [
        dt.date(2026, 2, 20),
        dt.date(2026, 3, 2),
    ]
    again = services.positions_purge(older_than_days=90, now=now)
    assert (again.positions, again.partitions_dropped, again.partitions_created) == (0, (), ())
    assert DutyDay.objects.get(user=patrol.admin, day=dt.date(2026, 1, 12)).patrol_minutes == 10
