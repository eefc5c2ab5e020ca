"""Inserting many rows as plain tuples: ``executemany`` on SQLite, ``COPY`` on PostgreSQL.

``bulk_create`` compiles every value of every row through the ORM's INSERT compiler; for
an import of tens of thousands of rows that compilation is most of the time. Here each
field's conversion is chosen once, rows become tuples, and the database driver does the
rest, one batch at a time. No signals are sent, as with ``bulk_create``;
``auto_now``/``auto_now_add`` fields get the time of the call.

- ``insert_values(model, rows)``: rows as dicts of attribute names (``house_id``, not
  ``house``); a missing field takes its default, as in ``Model(**row)``. Ids are the
  database's unless given as ``ids``.
- ``insert_rows(model, rows)``: the same with ids taken ahead, returned in row order, so
  that history rows and child rows can point at the new records without reading them back.
- ``insert_objects(model, objects)``: unsaved instances, which carry their ids and time
  stamps afterwards, as after ``bulk_create``.

Ids are taken from the table's sequence (PostgreSQL) or above the highest ever given
(SQLite, inside the caller's transaction).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone

# Fields whose Python value both drivers take as it is.
_PLAIN = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.FloatField,
    models.ForeignKey,
)


class JsonText(str):
    """A JSON field's value already encoded: written as it is, not encoded again."""


# The key of a time-stamped column: no row holds it, so every row takes the one stamp.
_STAMP = object()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a bulk job builds many small objects.

    Every few hundred new dicts and lists the collector walks the objects that survived
    earlier passes, so building tens of thousands of rows that all stay alive costs ever
    longer walks that free nothing (more than half of an import's time, measured). Rows
    hold no cycles: reference counting frees them when the job ends.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _stamped(field: models.Field[Any, Any]) -> bool:
    return isinstance(field, models.DateField) and bool(
        getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    )


def _sqlite_date(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _converter(field: models.Field[Any, Any]) -> Callable[[Any], Any] | None:
    """How a value of ``field`` goes to the driver; None where it goes as it is."""
    if isinstance(field, _PLAIN):
        return None
    if type(field) is models.DateField:
        return _sqlite_date if connection.vendor == "sqlite" else None
    if isinstance(field, models.JSONField):
        # What the SQLite backend stores, and what COPY's text format reads into jsonb.
        encoder = field.encoder
        return lambda value: (
            str(value)
            if isinstance(value, JsonText)
            else (None if value is None else json.dumps(value, cls=encoder))
        )
    return lambda value: field.get_db_prep_save(value, connection)


def _all_null(field: models.Field[Any, Any], rows: Sequence[Mapping[str, Any]]) -> bool:
    """Whether ``field`` is NULL in every row and NULL when left out: then it is left out
    of the statement (fewer values to send and bind)."""
    if not field.null or field.db_default is not models.NOT_PROVIDED:
        return False
    if field.get_default() is not None:
        return False
    name = field.attname
    return all(row.get(name) is None for row in rows)


def _tuples(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    ids: Sequence[int] | None,
    now: dt.datetime,
    same: Mapping[str, Any],
) -> tuple[list[str], Callable[[int, int], Iterator[tuple[Any, ...]]]]:
    """The column names, and a function giving the rows from ``start`` to ``end`` as tuples.

    Columns taken from the rows come first, then the values the same in every row (the
    time stamps, ``same``), then the id: one ``itemgetter`` call reads a whole row, and
    the constant tail is appended to it.
    """
    taken: list[models.Field[Any, Any]] = []
    stamps: list[tuple[str, Any]] = []
    pk_column = ""
    for f in model._meta.concrete_fields:
        if f.primary_key:
            if ids is not None:
                pk_column = str(f.column)
        elif _stamped(f) or f.attname in same:  # the same in every row: converted once
            convert = _converter(f)
            if f.attname in same:
                value = same[f.attname]
            else:
                value = now if isinstance(f, models.DateTimeField) else now.date()
            stamps.append((str(f.column), value if convert is None else convert(value)))
        elif not _all_null(f, rows):
            taken.append(f)
    names = [f.attname for f in taken]
    defaults = [f.get_default() for f in taken]
    converters = [(i, c) for i, f in enumerate(taken) if (c := _converter(f)) is not None]
    read = operator.itemgetter(*names)
    tail = tuple(value for _column, value in stamps)
    single = len(names) == 1

    def chunk(start: int, end: int) -> Iterator[tuple[Any, ...]]:
        if not converters and not single and pk_column:  # the tuple as read, no list
            try:
                for position in range(start, end):
                    yield (*read(rows[position]), *tail, ids[position])  # type: ignore[index]
                return
            except KeyError:  # a row leaves a field out: the general way from that row on
                start = position
        for position in range(start, end):
            row = rows[position]
            try:
                values = [read(row)] if single else list(read(row))
            except KeyError:  # a field left out takes its default, as in Model(**row)
                values = [row.get(n, d) for n, d in zip(names, defaults, strict=True)]
            for index, convert in converters:
                values[index] = convert(values[index])
            if pk_column:
                yield (*values, *tail, ids[position])  # type: ignore[index]
            else:
                yield (*values, *tail)

    columns = [str(f.column) for f in taken] + [c for c, _v in stamps]
    return columns + ([pk_column] if pk_column else []), chunk


def insert_values(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    ids: Sequence[int] | None = None,
    batch: int = 2000,
    after_batch: Callable[[int, int], None] | None = None,
    now: dt.datetime | None = None,
    same: Mapping[str, Any] | None = None,
) -> None:
    """INSERT ``rows`` (attribute name → value), one ``executemany`` or COPY per batch;
    ``same`` holds values the same in every row, which the rows may leave out."""
    if not rows:
        return
    columns, chunk = _tuples(model, rows, ids, now or timezone.now(), same or {})
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            end = min(start + batch, len(rows))
            if connection.vendor == "postgresql":
                raw = cursor.cursor  # the driver's cursor: Django's wrapper has no copy()
                with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for values in chunk(start, end):
                        copy.write_row(values)
            else:
                placeholders = ", ".join(["%s"] * len(columns))
                cursor.executemany(
                    f"INSERT INTO {table} ({names}) VALUES ({placeholders})",
                    list(chunk(start, end)),
                )
            if after_batch is not None:
                after_batch(end, len(rows))


def take_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` new primary keys of ``model``'s table, never given before."""
    table = model._meta.db_table
    pk = model._meta.pk.column if model._meta.pk is not None else None
    assert pk is not None, model
    if count == 0:
        return []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            taken = (
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) AS id FROM generate_series(1, %s)"
            )
            params: list[str | int] = [quote(table), pk, count]
            # Taken in one statement the ids are consecutive, unless another session took
            # some meanwhile: only then are they taken again and read back one by one (a
            # sequence may have gaps).
            cursor.execute(f"SELECT MIN(id), MAX(id) FROM ({taken}) AS taken", params)
            first, last = cursor.fetchone()
            if last - first + 1 == count:
                return list(range(first, last + 1))
            cursor.execute(taken, params)
            return [row[0] for row in cursor.fetchall()]
        # SQLite's AUTOINCREMENT never gives an id twice: start above the highest given.
        cursor.execute(
            f"SELECT MAX(top) FROM (SELECT MAX({quote(pk)}) AS top FROM {quote(table)} "
            "UNION ALL SELECT seq FROM sqlite_sequence WHERE name = %s)",
            [table],
        )
        first = (cursor.fetchone()[0] or 0) + 1
        return list(range(first, first + count))


def insert_rows(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    batch: int = 2000,
    after_batch: Callable[[int, int], None] | None = None,
    now: dt.datetime | None = None,
) -> list[int]:
    """INSERT ``rows`` with ids taken ahead; the ids, in the order of the rows.

    Call inside a transaction: on SQLite the ids are read and written in it.
    """
    ids = take_ids(model, len(rows))
    insert_values(model, rows, ids=ids, batch=batch, after_batch=after_batch, now=now)
    return ids


def insert_objects(
    model: type[models.Model],
    objects: Sequence[models.Model],
    *,
    batch: int = 2000,
    after_batch: Callable[[int, int], None] | None = None,
) -> None:
    """INSERT unsaved instances of ``model``; each gets its primary key and time stamps.

    Call inside a transaction: on SQLite the ids are read and written in it.
    """
    if not objects:
        return
    now = timezone.now()
    stamped = [
        (f.attname, now if isinstance(f, models.DateTimeField) else now.date())
        for f in model._meta.concrete_fields
        if _stamped(f)
    ]
    ids = take_ids(model, len(objects))
    for obj, pk in zip(objects, ids, strict=True):
        obj.pk = pk
        for name, stamp in stamped:
            setattr(obj, name, stamp)
        obj._state.adding = False
        obj._state.db = connection.alias
    insert_values(
        model,
        [obj.__dict__ for obj in objects],
        ids=ids,
        batch=batch,
        after_batch=after_batch,
        now=now,
    )
