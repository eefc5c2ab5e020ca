"""The hot path: positions written with one bulk insert per request, not one ORM save per row.

SQLite gets ``executemany``; PostgreSQL gets a binary ``COPY … FROM STDIN``. The measured
rates (DESIGN.md) are 287k rows/s and 759k rows/s against 34k–48k for ``bulk_create``. The
rows are plain tuples from the request straight to the driver: no model instance per fix.

Position transactions commit without waiting for the disk flush (SQLite ``synchronous=
NORMAL`` in WAL mode, PostgreSQL ``synchronous_commit = off``): a flush per OsmAnd request
cost more than everything else in it together. A killed server process loses nothing (the
write is in the WAL / the server's memory); a power cut or an operating-system crash can
lose the positions of the last moments before it, never a case and never consistency.
``CIVICGRID_POSITIONS_FLUSH = True`` restores a flush per commit.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import select
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

from civicgrid.patrol.duty import METRES_PER_DEGREE
from civicgrid.patrol.models import BatchReceipt, Device, Position, Shift
from civicgrid.people.models import User

COLUMNS = (
    "staff_id",
    "shift_id",
    "time",
    "lon",
    "lat",
    "accuracy",
    "speed",
    "bearing",
    "altitude",
    "battery",
    "source",
    "flag",
)
# PostgreSQL types of COLUMNS, for the binary COPY.
PG_TYPES = (
    "bigint",
    "bigint",
    "timestamptz",
    "float8",
    "float8",
    "float8",
    "float8",
    "float8",
    "float8",
    "float8",
    "text",
    "text",
)

Row = tuple[
    int,
    int,
    dt.datetime,
    float,
    float,
    float | None,
    float | None,
    float | None,
    float | None,
    float | None,
    str,
    str,
]


def sqlite_time(value: dt.datetime) -> str:
    """An aware datetime as Django stores it in SQLite (naive UTC text), without the ORM."""
    if value.utcoffset():
        value = value.astimezone(dt.UTC)
    return str(value.replace(tzinfo=None))


def from_db_time(value: dt.datetime | str) -> dt.datetime:
    """A datetime read with raw SQL, aware UTC whatever the database returned."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def db_time(value: dt.datetime) -> dt.datetime | str:
    return sqlite_time(value) if connection.vendor == "sqlite" else value


@functools.cache
def _insert_sql(vendor: str) -> str:
    q = connection.ops.quote_name
    table, columns = q(Position._meta.db_table), ", ".join(q(c) for c in COLUMNS)
    if vendor == "postgresql":
        return f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)"
    return f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(COLUMNS))})"


def positions_insert(rows: Sequence[Row]) -> int:
    """Insert ``rows`` (in ``COLUMNS`` order, aware datetimes) in the current transaction."""
    if not rows:
        return 0
    sql = _insert_sql(connection.vendor)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(sql) as copy:
                copy.set_types(PG_TYPES)
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(sql, [(r[0], r[1], sqlite_time(r[2]), *r[3:]) for r in rows])
    return len(rows)


def _flush_each_commit() -> bool:
    return bool(getattr(settings, "CIVICGRID_POSITIONS_FLUSH", False))


@contextmanager
def positions_transaction(*, relax_in_statement: bool = False) -> Iterator[bool]:
    """``transaction.atomic()`` whose commit does not wait for the disk (see the module).

    Inside an outer transaction it is a plain savepoint: the outer commit decides. On
    PostgreSQL the setting is a ``SET LOCAL`` of its own, unless ``relax_in_statement``:
    then the block yields True and its first statement must relax the commit itself
    (``RELAX_SQL`` in its select list), which saves a round trip to the server.
    """
    relax = not _flush_each_commit() and not connection.in_atomic_block
    restore = None
    if relax and connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            restore = cursor.execute("PRAGMA synchronous").fetchone()[0]
            cursor.execute("PRAGMA synchronous = NORMAL")
    try:
        with transaction.atomic():
            pending = relax and connection.vendor == "postgresql"
            if pending and not relax_in_statement:
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
                pending = False
            yield pending
    finally:
        if restore is not None and connection.connection is not None:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA synchronous = {int(restore)}")


# set_config(..., true) lasts until the end of the statement's transaction; the commit that
# ends it reads the setting before it is reset, so that commit does not wait for the flush.
RELAX_SQL = "set_config('synchronous_commit', 'off', true)"


# ------------------------------------------------------------- an OsmAnd fix, one statement


def health_check_without_round_trip(db: BaseDatabaseWrapper) -> None:
    """Spare an idle PostgreSQL connection Django's health check (``SELECT 1``) when its
    socket is quiet.

    With ``CONN_HEALTH_CHECKS`` the first query of every request is preceded by that check,
    a round trip of its own: as much as a phone's whole fix. A server that ended the
    connection (restart, idle timeout, a terminated backend) has sent its last message or
    closed the socket, either of which makes an idle connection's socket readable; a quiet
    one is taken as checked. Anything to read (also a harmless notice) and anything but an
    idle connection leaves the check to Django. A connection lost without a word (a cable
    pulled) fails the statement, as it would have failed the check: the request answers an
    error, the phone sends the fix again, and Django replaces the connection after it.
    """
    # health_check_done / _enabled: Django's (4.1+), missing from django-stubs.
    checked: bool = getattr(db, "health_check_done", True)
    if db.vendor != "postgresql" or db.connection is None or checked:
        return
    raw = db.connection
    if raw.closed or raw.info.transaction_status != raw.info.transaction_status.IDLE:
        return
    poll = select.poll()
    poll.register(raw.fileno(), select.POLLIN)
    if not poll.poll(0):
        db.health_check_done = True  # type: ignore[attr-defined]


@functools.cache
def _device_insert_sql(vendor: str, relax: bool) -> str:
    q = connection.ops.quote_name
    device, user, shift, position = (
        q(Device._meta.db_table),
        q(User._meta.db_table),
        q(Shift._meta.db_table),
        q(Position._meta.db_table),
    )
    pg = vendor == "postgresql"

    def value(name: str, pg_type: str = "float8") -> str:
        return f"%({name})s::{pg_type}" if pg else f"%({name})s"

    last_good = (
        f"FROM {position} b WHERE b.staff_id = d.user_id AND b.flag = '' "
        f"AND b.time < {value('time', 'timestamptz')} ORDER BY b.time DESC LIMIT 1"
    )
    if pg:
        # LATERAL: a look-up by id (SQLite's way, which lacks LATERAL) would search the id
        # in every monthly partition.
        previous = f"LEFT JOIN LATERAL (SELECT b.time, b.lon, b.lat {last_good}) p ON true"
        seconds = "EXTRACT(EPOCH FROM p.time)"
    else:
        previous = f"LEFT JOIN {position} p ON p.id = (SELECT b.id {last_good})"
        seconds = "(julianday(p.time) - 2440587.5) * 86400.0"
    columns = ", ".join(q(c) for c in COLUMNS)
    fields = ("accuracy", "speed", "bearing", "altitude", "battery")
    # The speed check of duty.implausible, squared: from the last good fix, metres east and
    # north, and the metres the fastest plausible walk covers in the time between. Without
    # a last good fix they are NULL and the comparison is not true.
    return (
        (f"WITH relaxed AS (SELECT {RELAX_SQL}) " if relax else "")
        + f"INSERT INTO {position} ({columns}) "
        f"SELECT found.user_id, found.shift_id, {value('time', 'timestamptz')}, "
        f"{value('lon')}, {value('lat')}, {', '.join(value(f) for f in fields)}, "
        f"{value('source', 'text')}, CASE WHEN {value('flag', 'text')} <> '' "
        f"THEN {value('flag', 'text')} WHEN found.east * found.east + found.north * found.north "
        f"> found.reach * found.reach THEN 'speed' ELSE '' END "
        f"FROM (SELECT d.user_id, s.id AS shift_id, "
        f"({value('lon')} - p.lon) * {value('east_m')} AS east, "
        f"({value('lat')} - p.lat) * {value('north_m')} AS north, "
        f"{value('max_speed')} * ({value('epoch')} - {seconds}) AS reach "
        f"FROM {device} d JOIN {user} u ON u.id = d.user_id "
        f"JOIN {shift} s ON s.user_id = d.user_id AND s.ended_at IS NULL {previous} "
        f"WHERE d.identifier = {value('device', 'text')} AND d.active AND u.is_active "
        f"AND s.started_at >= {value('earliest_start', 'timestamptz')} "
        f"AND s.started_at <= {value('latest_start', 'timestamptz')}) AS found"
        + (" CROSS JOIN relaxed" if relax else "")
        + " RETURNING flag"
    )


def _server_bound_cursor(db: BaseDatabaseWrapper) -> CursorWrapper:
    """Django's cursor, on PostgreSQL one that binds parameters on the server (Django binds
    them into the text on the client, and a statement sent as text cannot be prepared)."""
    if db.vendor != "postgresql":
        return db.cursor()
    import psycopg  # PostgreSQL's driver: not needed, maybe not installed, for SQLite

    db.close_if_health_check_failed()
    db.ensure_connection()
    bound: Any = psycopg.Cursor(db.connection)  # what Django's own cursor() wraps
    return db.make_debug_cursor(bound) if db.queries_logged else db.make_cursor(bound)


@contextmanager
def _prepared(db: BaseDatabaseWrapper) -> Iterator[None]:
    """On PostgreSQL, statements run inside are prepared on the connection once and then
    only executed: planning the OsmAnd statement (its joins, the monthly partitions) took
    ~0.5 ms, several times running it. Django turns psycopg's preparing off for the rest
    (poolers in transaction mode need PgBouncer 1.21's ``max_prepared_statements``). A
    connection closed after each request (``conn_max_age=0``) prepares nothing: preparing
    is a round trip of its own, paid back only by the runs after it."""
    if db.vendor != "postgresql" or db.settings_dict["CONN_MAX_AGE"] == 0:
        yield
        return
    raw = db.connection
    restore = raw.prepare_threshold
    raw.prepare_threshold = 0  # prepared at the first run
    try:
        yield
    finally:
        raw.prepare_threshold = restore


@contextmanager
def _sqlite_commit_relaxed(db: BaseDatabaseWrapper) -> Iterator[None]:
    """``synchronous = NORMAL`` for the statements inside, on the driver's connection: three
    pragmas that need none of Django's query wrapping."""
    raw = db.connection
    # The connection's own setting, read once per connection (only this restores it).
    known = getattr(db, "_civicgrid_synchronous", None)
    if known is None or known[0] is not raw:
        known = (raw, int(raw.execute("PRAGMA synchronous").fetchone()[0]))
        db._civicgrid_synchronous = known  # type: ignore[attr-defined]
    raw.execute("PRAGMA synchronous = NORMAL")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA synchronous = {known[1]}")


# time, lon, lat, accuracy, speed (m/s), bearing, altitude, battery
FixValues = tuple[
    dt.datetime, float, float, float | None, float | None, float | None, float | None, float | None
]


def device_position_insert(
    identifier: str,
    fix: FixValues,
    *,
    source: str,
    flag: str,
    earliest_start: dt.datetime,
    latest_start: dt.datetime,
    max_speed_ms: float,
) -> str | None:
    """Store one ``fix`` (time, lon, lat, accuracy, speed, bearing, altitude, battery) of
    the phone ``identifier`` in one statement; its flag, or None when nothing was stored.

    The statement finds the phone's owner, their open shift and their last good fix, and
    stores the fix only in the plain case: an active phone of an active user whose open
    shift started between ``earliest_start`` and ``latest_start``. ``flag`` is the fix's
    verdict on its own (future, accuracy); the statement adds a speed jump from the last
    good fix. Outside a transaction the commit does not wait for the disk (see the module).
    """
    # The connection looked up once: each ``connection.x`` passes a thread-local proxy
    # (~1 µs), and a fix needs a dozen of them.
    db = connections[DEFAULT_DB_ALIAS]
    pg = db.vendor == "postgresql"
    stamp: Callable[[dt.datetime], Any] = (lambda value: value) if pg else sqlite_time
    time, lon, lat, accuracy, speed, bearing, altitude, battery = fix
    params = {
        "device": identifier,
        "time": stamp(time),
        "epoch": time.timestamp(),
        "lon": lon,
        "lat": lat,
        "accuracy": accuracy,
        "speed": speed,
        "bearing": bearing,
        "altitude": altitude,
        "battery": battery,
        "source": source,
        "flag": flag,
        "east_m": METRES_PER_DEGREE * math.cos(math.radians(lat)),
        "north_m": METRES_PER_DEGREE,
        "max_speed": max_speed_ms,
        "earliest_start": stamp(earliest_start),
        "latest_start": stamp(latest_start),
    }
    relax = not db.in_atomic_block and not _flush_each_commit()
    sql = _device_insert_sql(db.vendor, relax and pg)
    if not db.queries_logged:  # else through Django's cursor below, so the fix is counted
        if pg:
            return _pg_device_insert(db, sql, params)
        return _sqlite_device_insert(db, params, relax=relax)
    health_check_without_round_trip(db)
    # The cursor first: it opens the connection the pragmas are set on.
    relaxed = _sqlite_commit_relaxed(db) if relax and not pg else nullcontext()
    with _server_bound_cursor(db) as cursor, relaxed, _prepared(db):
        cursor.execute(sql, params)
        found = cursor.fetchall()  # to the end: the statement, and its commit, done
    return found[0][0] if found else None


def _pg_device_insert(db: BaseDatabaseWrapper, sql: str, params: dict[str, Any]) -> Any:
    """The statement on psycopg's own cursor, kept with the connection, and prepared on the
    server at its first run (``_prepared``): Django's cursor wrapping and a new cursor per
    fix cost more CPU than psycopg's own execution. Errors still become Django's."""
    health_check_without_round_trip(db)
    db.close_if_health_check_failed()
    db.ensure_connection()
    raw = db.connection
    kept = getattr(db, "_civicgrid_fix_cursor", None)
    if kept is None or kept[0] is not raw:
        import psycopg  # PostgreSQL's driver: not needed, maybe not installed, for SQLite

        kept = (raw, psycopg.Cursor(raw))
        db._civicgrid_fix_cursor = kept  # type: ignore[attr-defined]
    with db.wrap_database_errors, _prepared(db):
        found = kept[1].execute(sql, params).fetchall()
    return found[0][0] if found else None


def _sqlite_device_insert(db: BaseDatabaseWrapper, params: dict[str, Any], *, relax: bool) -> Any:
    """The statement on SQLite's own connection, compiled once by the driver's statement
    cache: Django's cursor rewrote its parameters into SQLite's style on every call and
    wrapped every step (a fifth of a fix's time). Errors still become Django's (and mark
    the connection for its check)."""
    db.ensure_connection()
    with db.wrap_database_errors:
        relaxed = _sqlite_commit_relaxed(db) if relax else nullcontext()
        with relaxed:
            found = db.connection.execute(_sqlite_named(), params).fetchall()
    return found[0][0] if found else None


@functools.cache
def _sqlite_named() -> str:
    """``_device_insert_sql`` with SQLite's own ``:name`` parameters."""
    return re.sub(r"%\((\w+)\)s", r":\1", _device_insert_sql("sqlite", False))


# ------------------------------------------------------------------ a batch's one look-up


@dataclass(frozen=True)
class BatchState:
    """What a batch needs before its insert, read with plain SQL (no query building per
    request): the receipt of a batch already stored under its key, the shifts that may hold
    its fixes and the last good fix before them."""

    shifts: list[tuple[int, dt.datetime, dt.datetime | None]]  # (id, start, end), by start
    previous: tuple[dt.datetime, float, float] | None
    receipt: tuple[int, int] | None = None  # (stored, flagged) under the key


def _tables() -> tuple[str, str, str]:
    q = connection.ops.quote_name
    return (
        q(Shift._meta.db_table),
        q(Position._meta.db_table),
        q(BatchReceipt._meta.db_table),
    )


SHIFTS_WHERE = "user_id = %s AND (ended_at IS NULL OR (started_at <= %s AND ended_at >= %s))"
PREVIOUS_WHERE = "staff_id = %s AND time < %s AND flag = ''"


@functools.cache
def _batch_sql(vendor: str) -> tuple[str, str]:
    shift, position, _receipt = _tables()
    shifts = (
        f"SELECT id, started_at, ended_at FROM {shift} WHERE {SHIFTS_WHERE} ORDER BY started_at"
    )
    previous = (
        f"SELECT time, lon, lat FROM {position} WHERE {PREVIOUS_WHERE} ORDER BY time DESC LIMIT 1"
    )
    return shifts, previous


@functools.cache
def _batch_sql_pg(relax: bool) -> str:
    """PostgreSQL: the receipt, the shifts (as arrays) and the previous fix in one statement,
    relaxing the commit in the same statement when asked (``positions_transaction``)."""
    shift, position, receipt = _tables()
    q_key = connection.ops.quote_name("key")
    shifts = f"FROM {shift} WHERE {SHIFTS_WHERE} ORDER BY started_at, id"
    return (
        f"SELECT {RELAX_SQL if relax else 'NULL'}, "
        f"(SELECT ARRAY[stored, flagged] FROM {receipt} WHERE user_id = %s AND {q_key} = %s), "
        f"ARRAY(SELECT id {shifts}), ARRAY(SELECT started_at {shifts}), "
        f"ARRAY(SELECT ended_at {shifts}), p.time, p.lon, p.lat "
        f"FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT time, lon, lat FROM {position} "
        f"WHERE {PREVIOUS_WHERE} ORDER BY time DESC LIMIT 1) AS p ON true"
    )


def batch_state(
    user_id: int,
    first: dt.datetime,
    last: dt.datetime,
    *,
    key: str | None = None,
    relax: bool = False,
) -> BatchState:
    """The user's open shift and the shifts overlapping [``first``, ``last``], the last
    good fix before ``first`` and, given a ``key``, the receipt of a batch stored under it.

    One round trip on PostgreSQL, where ``relax`` also relaxes the commit (see
    ``positions_transaction``); separate statements on SQLite, where they cost no trip.
    """
    if connection.vendor == "postgresql":
        shift_args: list[Any] = [user_id, last, first]
        with connection.cursor() as cursor:
            cursor.execute(
                _batch_sql_pg(relax),
                [user_id, key or "", *shift_args, *shift_args, *shift_args, user_id, first],
            )
            _relaxed, found, ids, starts, ends, prev_time, prev_lon, prev_lat = cursor.fetchone()
        return BatchState(
            shifts=list(zip(ids, starts, ends, strict=True)),
            previous=(prev_time, prev_lon, prev_lat) if prev_time is not None else None,
            receipt=(found[0], found[1]) if key and found is not None else None,
        )
    shifts_sql, previous_sql = _batch_sql(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(shifts_sql, [user_id, db_time(last), db_time(first)])
        shifts = [
            (pk, from_db_time(start), from_db_time(end) if end is not None else None)
            for pk, start, end in cursor.fetchall()
        ]
        cursor.execute(previous_sql, [user_id, db_time(first)])
        prev = cursor.fetchone()
    previous = (from_db_time(prev[0]), prev[1], prev[2]) if prev is not None else None
    return BatchState(shifts, previous, receipt_find(user_id, key) if key else None)


@functools.cache
def _receipt_sql(vendor: str) -> tuple[str, str]:
    q = connection.ops.quote_name
    table = q(BatchReceipt._meta.db_table)
    # ON CONFLICT instead of a savepoint around the insert: a key taken meanwhile (the same
    # batch retried while the first attempt was being written) inserts nothing.
    return (
        f"SELECT stored, flagged FROM {table} WHERE user_id = %s AND {q('key')} = %s",
        f"INSERT INTO {table} (user_id, {q('key')}, stored, flagged, received_at) "
        f"VALUES (%s, %s, %s, %s, %s) ON CONFLICT (user_id, {q('key')}) DO NOTHING RETURNING id",
    )


def receipt_find(user_id: int, key: str) -> tuple[int, int] | None:
    """(stored, flagged) of the batch already stored under ``key``, or None."""
    with connection.cursor() as cursor:
        cursor.execute(_receipt_sql(connection.vendor)[0], [user_id, key])
        found = cursor.fetchone()
    return (found[0], found[1]) if found is not None else None


def receipt_insert(user_id: int, key: str, stored: int, flagged: int, now: dt.datetime) -> bool:
    """False, and nothing inserted, when the key is taken (the unique constraint)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _receipt_sql(connection.vendor)[1], [user_id, key, stored, flagged, db_time(now)]
        )
        return cursor.fetchone() is not None
