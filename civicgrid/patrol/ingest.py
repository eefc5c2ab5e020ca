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
from typing import Any

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


@functools.cache
def _relaxed_insert_sql() -> str:
    q = connection.ops.quote_name
    table, columns = q(Position._meta.db_table), ", ".join(q(c) for c in COLUMNS)
    values = ", ".join(f"%s::{t}" if t != "text" else "%s" for t in PG_TYPES)
    return (
        f"WITH relaxed AS (SELECT {RELAX_SQL}) "
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
