"""Yearly partitions of the case ledger on PostgreSQL; nothing changes on SQLite.

Events are written at fixed moments of 2025 (a year the migration did not partition ahead,
whatever day the tests run) with the clock set for the test: nothing depends on today.
"""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from civicgrid.cases import partitions, services
from civicgrid.cases.models import CaseEvent
from civicgrid.cases.tests.conftest import HERE, Loop
from civicgrid.testing import tables_holding

pytestmark = pytest.mark.django_db

POSTGRES = connection.vendor == "postgresql"
SHANGHAI = ZoneInfo("Asia/Shanghai")
IN_2025 = dt.datetime(2025, 6, 10, 10, 0, tzinfo=SHANGHAI)
# 31 December 2025 23:30 in Shanghai is 15:30 UTC: still 2025 there.
LAST_HALF_HOUR_OF_2025 = dt.datetime(2025, 12, 31, 23, 30, tzinfo=SHANGHAI)


def tables_of(case_id: int) -> set[str]:
    """The tables holding the case's events (the ledger table itself on SQLite)."""
    return tables_holding(partitions.TABLE, "case_id = %s", [case_id])


def case_at(loop: Loop, moment: dt.datetime, monkeypatch: pytest.MonkeyPatch):
    """A case reported and filed at ``moment`` (the clock set to it meanwhile)."""
    monkeypatch.setattr(timezone, "now", lambda: moment.astimezone(dt.UTC))
    # A resident's report: staff certified today were not certified then.
    case = services.case_report(actor=None, acting_as="resident", category="0702",
                                description="路边垃圾", lon=HERE[0], lat=HERE[1],
                                reporter_phone="13900001111").case  # fmt: skip
    loop.act(case, "file")
    monkeypatch.undo()
    return case


def test_the_ledger_is_partitioned_by_year_on_postgresql_only() -> None:
    assert partitions.is_partitioned() is POSTGRES
    if not POSTGRES:
        assert partitions.yearly_partitions() == []
        assert partitions.partitions_ensure(first=2025, last=2027) == []
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'cases_caseevent'::regclass AND contype IN ('p', 'u') "
            "ORDER BY conname"
        )
        keys = [row[0] for row in cursor.fetchall()]
    assert keys == ["UNIQUE (case_id, seq, at)", "PRIMARY KEY (id, at)", 'UNIQUE ("position", at)']
    this_year = timezone.localdate().year
    years = {p.year for p in partitions.yearly_partitions()}
    assert {this_year, this_year + 1} <= years  # made by the migration


def test_a_year_without_its_partition_lands_in_the_default_and_moves_when_created(
    loop: Loop, monkeypatch: pytest.MonkeyPatch
) -> None:
    early = case_at(loop, IN_2025, monkeypatch)
    late = case_at(loop, LAST_HALF_HOUR_OF_2025, monkeypatch)
    now = loop.report()
    assert tables_of(early.pk) == ({partitions.DEFAULT} if POSTGRES else {partitions.TABLE})
    created = partitions.partitions_ensure(first=2025, last=2025)
    assert created == (["cases_caseevent_y2025"] if POSTGRES else [])
    assert partitions.partitions_ensure(first=2025, last=2025) == []  # idempotent
    expected = {"cases_caseevent_y2025"} if POSTGRES else {partitions.TABLE}
    assert tables_of(early.pk) == expected and tables_of(late.pk) == expected
    if POSTGRES:
        assert tables_of(now.pk) == {f"cases_caseevent_y{timezone.localdate().year}"}
    # The rows moved unchanged: both chains and the checkpointed counts verify.
    assert services.ledger_audit().intact
    assert [e.seq for e in CaseEvent.objects.filter(case=early).order_by("seq")] == [1, 2]
    # New events of a moved case follow on in its partition.
    loop.act(early, "dispatch")
    assert services.ledger_audit().intact


def test_every_partition_still_refuses_updates_and_deletes(
    loop: Loop, monkeypatch: pytest.MonkeyPatch
) -> None:
    early = case_at(loop, IN_2025, monkeypatch)
    partitions.partitions_ensure(first=2025, last=2025)  # moved out of the default
    current = loop.report()
    for case in (early, current):
        event = case.events.first()
        for statement in (
            "UPDATE cases_caseevent SET note = 'edited' WHERE id = %s",
            "DELETE FROM cases_caseevent WHERE id = %s",
        ):
            with (
                pytest.raises(DatabaseError, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(statement, [event.pk])
    if POSTGRES:  # straight at a partition, not through the partitioned table
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("DELETE FROM cases_caseevent_y2025")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = %s::regclass "
                "AND tgname LIKE 'cases_caseevent_no_%%' "
                "ORDER BY tgname",
                [partitions.DEFAULT],
            )
            assert cursor.fetchall() == [
                ("cases_caseevent_no_delete", "O"),  # switched on again after the move
                ("cases_caseevent_no_update", "O"),
            ]
    assert services.ledger_audit().intact


def test_the_maintenance_command_and_task_create_the_years_ahead_once() -> None:
    out = io.StringIO()
    call_command("partition-events".replace("-", "_"), stdout=out)
    if not POSTGRES:
        assert "not partitioned here (PostgreSQL only)" in out.getvalue()
        assert partitions.partitions_ahead(today=dt.date(2031, 3, 1)) == []
        return
    assert "No partition missing." in out.getvalue()  # the migration made them
    assert partitions.partitions_ahead(today=dt.date(2031, 3, 1)) == [
        "cases_caseevent_y2031",
        "cases_caseevent_y2032",
    ]
    from civicgrid.cases.tasks import event_partitions_job

    assert event_partitions_job.call() == []  # this year and the next exist already
    assert partitions.partitions_ahead(today=dt.date(2031, 3, 1)) == []


def test_the_year_bounds_follow_asia_shanghai() -> None:
    low, high = partitions.year_bounds(2026)
    assert low == dt.datetime(2025, 12, 31, 16, 0, tzinfo=dt.UTC)
    assert high == dt.datetime(2026, 12, 31, 16, 0, tzinfo=dt.UTC)
