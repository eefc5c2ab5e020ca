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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

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
def positions_transaction() -> Iterator[None]:
    """``transaction.atomic()`` whose commit does not wait for the disk (see the module).

    Inside an outer transaction it is a plain savepoint: the outer commit decides.
    """
    relax = not _flush_each_commit() and not connection.in_atomic_block
    restore = None
    if relax and connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            restore = cursor.execute("PRAGMA synchronous").fetchone()[0]
            cursor.execute("PRAGMA synchronous = NORMAL")
    try:
        with transaction.atomic():
            if relax and connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
            yield
    finally:
        if restore is not None and connection.connection is not None:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA synchronous = {int(restore)}")


@functools.cache
def _relaxed_insert_sql() -> str:
    q = connection.ops.quote_name
    table, columns = q(Position._meta.db_table), ", ".join(q(c) for c in COLUMNS)
    values = ", ".join(f"%s::{t}" if t != "text" else "%s" for t in PG_TYPES)
    # set_config(..., true) lasts for the statement's own transaction; the commit that ends
    # it reads the setting before it is reset, so this one commit does not wait for the flush.
    return (
        "WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)) "
        f"INSERT INTO {table} ({columns}) SELECT {values} FROM relaxed"
    )


def position_insert_alone(row: Row) -> None:
    """One fix as a statement of its own, committed without a flush (see the module).

    Outside a transaction, one statement is atomic by itself: on PostgreSQL it is one
    round trip to the server instead of five (BEGIN, SET, INSERT as COPY, COMMIT).
    """
    if connection.in_atomic_block or _flush_each_commit():
        positions_insert([row])
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_relaxed_insert_sql(), row)
            return
        restore = cursor.execute("PRAGMA synchronous").fetchone()[0]
        cursor.execute("PRAGMA synchronous = NORMAL")
        try:
            cursor.execute(
                _insert_sql(connection.vendor), (row[0], row[1], sqlite_time(row[2]), *row[3:])
            )
        finally:
            cursor.execute(f"PRAGMA synchronous = {int(restore)}")


@dataclass(frozen=True)
class DeviceState:
    """What one OsmAnd request needs, read in one query: whose phone, their open shift, and
    their last good fix before the new one (for the speed check)."""

    user_id: int
    shift_id: int | None
    shift_start: dt.datetime | None
    previous: tuple[dt.datetime, float, float] | None


@functools.cache
def _device_state_sql(vendor: str) -> str:
    q = connection.ops.quote_name
    device, user, shift, position = (
        q(Device._meta.db_table),
        q(User._meta.db_table),
        q(Shift._meta.db_table),
        q(Position._meta.db_table),
    )
    # The last good fix through a subquery on the (staff, time) index rather than a
    # LATERAL join, which SQLite lacks; the open shift is unique per user (a constraint).
    return (
        f"SELECT d.user_id, s.id, s.started_at, p.time, p.lon, p.lat "
        f"FROM {device} d JOIN {user} u ON u.id = d.user_id "
        f"LEFT JOIN {shift} s ON s.user_id = d.user_id AND s.ended_at IS NULL "
        f"LEFT JOIN {position} p ON p.id = (SELECT b.id FROM {position} b "
        f"WHERE b.staff_id = d.user_id AND b.flag = '' AND b.time < %s "
        f"ORDER BY b.time DESC LIMIT 1) "
        f"WHERE d.identifier = %s AND d.active AND u.is_active"
    )


def device_state(identifier: str, before: dt.datetime) -> DeviceState | None:
    """The active device ``identifier`` of an active user, or ``None``."""
    sql = _device_state_sql(connection.vendor)
    when = db_time(before)
    with connection.cursor() as cursor:
        cursor.execute(sql, [when, identifier])
        found = cursor.fetchone()
    if found is None:
        return None
    user_id, shift_id, started, prev_time, prev_lon, prev_lat = found
    return DeviceState(
        user_id=user_id,
        shift_id=shift_id,
        shift_start=from_db_time(started) if started is not None else None,
        previous=(from_db_time(prev_time), prev_lon, prev_lat) if prev_time is not None else None,
    )


# ------------------------------------------------------------------ a batch's one look-up


@dataclass(frozen=True)
class BatchState:
    """What a batch needs before its insert, read with plain SQL (no query building per
    request): the shifts that may hold its fixes and the last good fix before them."""

    shifts: list[tuple[int, dt.datetime, dt.datetime | None]]  # (id, start, end), by start
    previous: tuple[dt.datetime, float, float] | None


@functools.cache
def _batch_sql(vendor: str) -> tuple[str, str]:
    q = connection.ops.quote_name
    shift, position = q(Shift._meta.db_table), q(Position._meta.db_table)
    shifts = (
        f"SELECT id, started_at, ended_at FROM {shift} WHERE user_id = %s "
        f"AND (ended_at IS NULL OR (started_at <= %s AND ended_at >= %s)) ORDER BY started_at"
    )
    previous = (
        f"SELECT time, lon, lat FROM {position} WHERE staff_id = %s AND time < %s "
        f"AND flag = '' ORDER BY time DESC LIMIT 1"
    )
    return shifts, previous


def batch_state(user_id: int, first: dt.datetime, last: dt.datetime) -> BatchState:
    """The user's open shift and the shifts overlapping [``first``, ``last``], and the last
    good fix before ``first``."""
    shifts_sql, previous_sql = _batch_sql(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(shifts_sql, [user_id, db_time(last), db_time(first)])
        shifts = [
            (pk, from_db_time(start), from_db_time(end) if end is not None else None)
            for pk, start, end in cursor.fetchall()
        ]
        cursor.execute(previous_sql, [user_id, db_time(first)])
        found = cursor.fetchone()
    previous = (from_db_time(found[0]), found[1], found[2]) if found is not None else None
    return BatchState(shifts, previous)


@functools.cache
def _receipt_sql(vendor: str) -> tuple[str, str]:
    q = connection.ops.quote_name
    table = q(BatchReceipt._meta.db_table)
    return (
        f"SELECT stored, flagged FROM {table} WHERE user_id = %s AND {q('key')} = %s",
        f"INSERT INTO {table} (user_id, {q('key')}, stored, flagged, received_at) "
        f"VALUES (%s, %s, %s, %s, %s)",
    )


def receipt_find(user_id: int, key: str) -> tuple[int, int] | None:
    """(stored, flagged) of the batch already stored under ``key``, or None."""
    with connection.cursor() as cursor:
        cursor.execute(_receipt_sql(connection.vendor)[0], [user_id, key])
        found = cursor.fetchone()
    return (found[0], found[1]) if found is not None else None


def receipt_insert(user_id: int, key: str, stored: int, flagged: int, now: dt.datetime) -> None:
    """Raises ``IntegrityError`` when the key is taken (the unique constraint)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _receipt_sql(connection.vendor)[1], [user_id, key, stored, flagged, db_time(now)]
        )
