"""Inserting many rows as plain tuples with one ``executemany`` per batch.

``bulk_create`` compiles every value of every row through the ORM's INSERT compiler; for
an import of tens of thousands of rows that compilation is most of the time. Here each
field's conversion is chosen once, rows become tuples, and the database driver does the
rest. No signals are sent, as with ``bulk_create``; ``auto_now``/``auto_now_add`` fields
get the time of the call.

- ``insert_values(model, rows)``: rows as dicts of attribute names (``house_id``, not
  ``house``); a missing field takes its default. Ids are the database's.
- ``insert_objects(model, objects)``: unsaved instances; their ids are taken ahead from
  the table's sequence (PostgreSQL) or above the highest ever given (SQLite, inside the
  caller's transaction), so the instances carry them afterwards, as after bulk_create.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
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
    return lambda value: field.get_db_prep_save(value, connection)


def _sql(model: type[models.Model], fields: Sequence[models.Field[Any, Any]]) -> str:
    quote = connection.ops.quote_name
    return "INSERT INTO {} ({}) VALUES ({})".format(
        quote(model._meta.db_table),
        ", ".join(quote(str(f.column)) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )


def insert_values(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    with_ids: bool = False,
    batch: int = 2000,
    after_batch: Callable[[int, int], None] | None = None,
    now: dt.datetime | None = None,
) -> None:
    """INSERT ``rows`` (attribute name → value). ``with_ids``: each row holds its ``id``."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if with_ids or not f.primary_key]
    now = now or timezone.now()
    columns: list[tuple[str, Callable[[Any], Any] | None, Any]] = []
    for f in fields:
        convert = _converter(f)
        if _stamped(f):  # the same instant in every row: converted once
            stamp = now if isinstance(f, models.DateTimeField) else now.date()
            columns.append(("", None, stamp if convert is None else convert(stamp)))
        else:
            default = f.get_default() if f.has_default() or f.null else None
            columns.append((f.attname, convert, default))
    sql = _sql(model, fields)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            values = [
                [
                    fixed
                    if not name
                    else (
                        (convert(row[name]) if convert else row[name])
                        if name in row
                        else (convert(fixed) if convert else fixed)
                    )
                    for name, convert, fixed in columns
                ]
                for row in rows[start : start + batch]
            ]
            cursor.executemany(sql, values)
            if after_batch is not None:
                after_batch(min(start + batch, len(rows)), len(rows))


def _take_ids(model: type[models.Model], count: int) -> list[int]:
    table = model._meta.db_table
    pk = model._meta.pk.column if model._meta.pk is not None else None
    assert pk is not None, model
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [quote(table), pk, count],
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite's AUTOINCREMENT never gives an id twice: start above the highest given.
        cursor.execute(
            f"SELECT MAX(top) FROM (SELECT MAX({quote(pk)}) AS top FROM {quote(table)} "
            "UNION ALL SELECT seq FROM sqlite_sequence WHERE name = %s)",
            [table],
        )
        first = (cursor.fetchone()[0] or 0) + 1
        return list(range(first, first + count))


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
    for obj, pk in zip(objects, _take_ids(model, len(objects)), strict=True):
        obj.pk = pk
        for name, stamp in stamped:
            setattr(obj, name, stamp)
        obj._state.adding = False
        obj._state.db = connection.alias
    insert_values(
        model,
        [obj.__dict__ for obj in objects],
        with_ids=True,
        batch=batch,
        after_batch=after_batch,
        now=now,
    )
