"""One OsmAnd request as the server runs it: one statement to the database, the flags
``duty.implausible`` gives, a connection the server ended replaced before the fix."""

from __future__ import annotations

import datetime as dt
import math
import random
import select
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from civicgrid.patrol import duty, ingest, services
from civicgrid.patrol.models import Device, Position, Shift
from civicgrid.patrol.tests.conftest import HERE, Patrol
from civicgrid.patrol.tests.test_positions import osmand_query

pytestmark = pytest.mark.django_db


@contextmanager
def sent_to_the_database() -> Iterator[list[str]]:
    """Every statement the driver sends, as the database receives it: SQLite's trace, or
    on PostgreSQL libpq's record of the wire (one entry per round trip: a simple query, or
    a Parse / Bind / Execute ended by a Sync; a prepared statement sends no text)."""
    connection.ensure_connection()
    sent: list[str] = []
    if connection.vendor == "sqlite":
        connection.connection.set_trace_callback(lambda sql: sent.append(" ".join(sql.split())))
        try:
            yield sent
        finally:
            connection.connection.set_trace_callback(None)
        return
    pgconn = connection.connection.pgconn
    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        try:
            yield sent
        finally:
            pgconn.untrace()
            trace.seek(0)
            text = "(prepared)"
            for line in trace:
                fields = line.rstrip("\n").split("\t")
                if len(fields) < 4 or fields[1] != "F":  # F: from the client
                    continue
                if fields[3] == "Query":
                    sent.append(" ".join(fields[4:]).strip().strip('"'))
                elif fields[3] == "Parse":
                    text = " ".join(fields[4:]).split('"')[3]
                elif fields[3] == "Sync":
                    sent.append(" ".join(text.split()))
                    text = "(prepared)"


def a_request_starts() -> None:
    """What Django does when a request starts (the test client leaves it out): the
    connection's health is to be checked again before its first query."""
    connection.health_check_done = False


@pytest.mark.django_db(transaction=True)
def test_an_osmand_fix_is_one_statement_and_no_health_check(patrol: Patrol) -> None:
    now = timezone.now()
    services.shift_start(user=patrol.admin, actor=patrol.admin, now=now - dt.timedelta(minutes=10))
    warm = Client().get("/osmand/", osmand_query(now - dt.timedelta(seconds=30)))
    assert warm.status_code == 200  # the statement is prepared on its first run
    a_request_starts()
    with sent_to_the_database() as sent:
        answer = Client().get("/osmand/", osmand_query(now - dt.timedelta(seconds=20)))
    assert answer.status_code == 200 and answer.content == b""
    assert Position.objects.filter(staff=patrol.admin).count() == 2
    if connection.vendor == "postgresql":
        # No SELECT 1, no BEGIN or COMMIT: one prepared statement, its own transaction.
        assert sent == ["(prepared)"]
    else:
        # The commit without a flush: relaxed and restored to the connection's setting,
        # which the first fix on the connection read.
        assert [s.split(" (")[0] for s in sent] == [
            "PRAGMA synchronous = NORMAL",
            'INSERT INTO "patrol_position"',
            "PRAGMA synchronous = 2",
        ]
        assert sent[1].endswith("RETURNING flag")


def _wait_readable(fileno: int) -> None:
    poll = select.poll()
    poll.register(fileno, select.POLLIN)
    deadline = time.monotonic() + 10
    while not poll.poll(100) and time.monotonic() < deadline:
        pass


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_ended_is_replaced_before_the_fix(patrol: Patrol) -> None:
    """The health check is skipped only on a quiet connection: one the server ended (a
    restart, an idle timeout) is checked, found dead and replaced, and the fix stored."""
    now = timezone.now()
    services.shift_start(user=patrol.admin, actor=patrol.admin, now=now - dt.timedelta(minutes=10))
    assert Client().get("/osmand/", osmand_query(now - dt.timedelta(seconds=30))).status_code == 200
    connection.ensure_connection()
    before = connection.connection
    if connection.vendor == "postgresql":
        import psycopg

        pid = before.info.backend_pid
        ours = connection.settings_dict
        other = psycopg.connect(
            host=ours["HOST"],
            port=ours["PORT"] or None,
            user=ours["USER"],
            password=ours["PASSWORD"],
            dbname=ours["NAME"],
            autocommit=True,
        )
        with other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])
        _wait_readable(before.fileno())  # the server's farewell reaches the socket
    a_request_starts()
    answer = Client().get("/osmand/", osmand_query(now - dt.timedelta(seconds=20)))
    assert answer.status_code == 200
    assert Position.objects.filter(staff=patrol.admin).count() == 2
    if connection.vendor == "postgresql":
        assert connection.connection is not before  # checked, found dead, replaced
    else:
        assert connection.connection is before  # a file: nothing to end it


def _flag_in_sql(
    patrol: Patrol,
    shift: Shift | None = None,
    previous: tuple[dt.datetime, float, float] | None = None,
) -> Callable[[dt.datetime, float, float, float | None, dt.datetime], str | None]:
    """The statement's insert of one fix of PHONE-1, after only ``previous`` (if any)."""
    Position.objects.all().delete()
    if shift is not None and previous is not None:
        ingest.positions_insert(
            [(patrol.admin.pk, shift.pk, *previous, 5.0, None, None, None, None, "osmand", "")]
        )

    def insert(
        time: dt.datetime, lon: float, lat: float, accuracy: float | None, now: dt.datetime
    ) -> str | None:
        (own,) = duty.implausible(
            times=[time.timestamp()], lons=[lon], lats=[lat], accuracies=[accuracy],
            now=now.timestamp(), max_speed_ms=50.0, max_accuracy_m=100.0,
        )  # fmt: skip
        return ingest.device_position_insert(
            "PHONE-1",
            (time, lon, lat, accuracy, None, None, None, None),
            source="osmand",
            flag=own,
            earliest_start=now - dt.timedelta(hours=12),
            latest_start=time + dt.timedelta(minutes=1),
            max_speed_ms=50.0,
        )

    return insert


def test_the_statement_flags_fixes_as_duty_implausible_does(patrol: Patrol) -> None:
    """Jumps around the speed limit in every direction, fixes too inaccurate, the same
    moment as the last fix, no last fix: the flag stored is the pure module's."""
    now = timezone.now().replace(microsecond=250_000)
    shift = Shift.objects.create(user=patrol.admin, started_at=now - dt.timedelta(hours=2))
    rng = random.Random(14)
    cases: list[tuple[tuple[dt.datetime, float, float] | None, float, float, float, float]] = []
    for _ in range(40):
        seconds = rng.choice([0.5, 3.0, 10.0, 95.0])
        # 0.6 to 1.4 times the distance the speed limit allows, in a random direction
        metres = 50.0 * seconds * rng.choice([0.6, 0.9, 0.97, 1.03, 1.1, 1.4])
        heading = rng.uniform(0, 2 * math.pi)
        lat = HERE[1] + metres * math.cos(heading) / duty.METRES_PER_DEGREE
        lon = HERE[0] + metres * math.sin(heading) / (
            duty.METRES_PER_DEGREE * math.cos(math.radians(lat))
        )
        cases.append(((now - dt.timedelta(seconds=seconds), *HERE), seconds, lon, lat, 5.0))
    cases.append(((now - dt.timedelta(seconds=5), *HERE), 5.0, HERE[0], HERE[1] + 0.05, 900.0))
    cases.append((None, 0.0, HERE[0], HERE[1] + 0.05, 5.0))
    cases.append(((now, *HERE), 0.0, HERE[0], HERE[1] + 0.05, 5.0))  # no earlier fix
    seen = set()
    for previous, _seconds, lon, lat, accuracy in cases:
        insert = _flag_in_sql(patrol, shift, previous)
        earlier = (
            (previous[0].timestamp(), previous[1], previous[2])
            if previous is not None and previous[0] < now
            else None
        )
        (expected,) = duty.implausible(
            times=[now.timestamp()], lons=[lon], lats=[lat], accuracies=[accuracy],
            now=now.timestamp(), previous=earlier, max_speed_ms=50.0, max_accuracy_m=100.0,
        )  # fmt: skip
        assert insert(now, lon, lat, accuracy, now) == expected, (previous, lon, lat, accuracy)
        seen.add(expected)
    assert seen == {"", "speed", "accuracy"}


def test_the_statement_stores_nothing_outside_the_plain_case(patrol: Patrol) -> None:
    """No open shift, an overdue one, a fix before it, an unknown or inactive phone: no
    row, and the general way decides."""
    now = timezone.now()
    insert = _flag_in_sql(patrol)
    assert insert(now, *HERE, 5.0, now) is None  # no shift open
    Shift.objects.create(user=patrol.admin, started_at=now - dt.timedelta(hours=13))
    assert insert(now, *HERE, 5.0, now) is None  # open for longer than the maximum
    Shift.objects.update(started_at=now - dt.timedelta(minutes=5))
    assert insert(now - dt.timedelta(minutes=7), *HERE, 5.0, now) is None  # before its start
    assert insert(now - dt.timedelta(minutes=5, seconds=30), *HERE, 5.0, now) == ""  # clock drift
    Device.objects.filter(identifier="PHONE-1").update(active=False)
    assert insert(now, *HERE, 5.0, now) is None
    assert Position.objects.count() == 1


def test_a_phone_without_a_fix_is_acknowledged_only_when_registered(patrol: Patrol) -> None:
    services.shift_start(user=patrol.admin, actor=patrol.admin)
    known = Client().get("/osmand/", {"id": "PHONE-1", "lat": "0", "lon": "0"})
    assert known.status_code == 200 and known.content == b""
    unknown = Client().get("/osmand/", {"id": "STRANGER", "lat": "0", "lon": "0"})
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_device"
    assert not Position.objects.exists()


def test_more_parameters_than_the_limit_are_refused(patrol: Patrol, settings) -> None:
    services.shift_start(user=patrol.admin, actor=patrol.admin)
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 8
    query = osmand_query(timezone.now()) | {f"x{n}": "1" for n in range(8)}
    assert Client().get("/osmand/", query).status_code == 400
    assert Client().get("/osmand/", osmand_query(timezone.now())).status_code == 200
    assert Position.objects.count() == 1
