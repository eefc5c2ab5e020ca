"""One row in and out of a model's table as plain SQL written once per process.

The ORM builds every statement afresh: resolving the lookups, the joins and the column
list, choosing each column's converters. On a hot path that runs the same statement on
every request (a case action reads one case, writes one event, updates one row) that
compilation cost more than the database's work (issue 20). Here the column list and the
converters are chosen once per model and database vendor; the values come back as the ORM
would give them (SQLite's text dates and 0/1 booleans converted, JSON decoded).

- ``columns(model, alias)``: the model's concrete columns, qualified by ``alias``, for a
  select list (``skip=`` leaves fields out, deferred as ``QuerySet.defer`` does);
  ``from_row(model, values)`` turns those values into an instance;
  ``value(model, name, raw)`` converts one column's value.
- ``insert(obj)``: INSERT of an unsaved instance, its id back with ``RETURNING``.
- ``update_statement(model, pk, changes, version=)``: the text and parameters of an UPDATE
  of one row by id (and, with ``version``, only while the row has that version, which it
  bumps); ``changes`` are attribute values or related instances.
- ``insert_after(obj, before, only_if=)``: on PostgreSQL, the INSERT of ``obj`` with other
  data-modifying statements in its ``WITH``: one round trip for writes that belong
  together (a case's compare-and-swap, its event, the ledger head).

No signals are sent: use these only for models that have no receivers.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import connection, models
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

Converter = Callable[[Any, Any, Any], Any]
Converters = tuple[tuple[int, tuple[Converter, ...], Any], ...]
Fields = tuple[models.Field[Any, Any], ...]


def _loaded(model: type[models.Model], skip: tuple[str, ...]) -> Fields:
    """The concrete fields read, in order: all but those named in ``skip`` (left deferred)."""
    return tuple(f for f in model._meta.concrete_fields if f.name not in skip)


@functools.cache
def _converters(
    model: type[models.Model], vendor: str, skip: tuple[str, ...] = ()
) -> tuple[tuple[int, tuple[Converter, ...], Any], ...]:
    """Each column's converters (the backend's, then the field's), as ``SQLCompiler`` picks
    them."""
    found = []
    for i, field in enumerate(_loaded(model, skip)):
        col = field.get_col(model._meta.db_table)
        chosen = tuple(connection.ops.get_db_converters(col) + col.get_db_converters(connection))
        if chosen:
            found.append((i, chosen, col))
    return tuple(found)


@functools.cache
def _attnames(model: type[models.Model], skip: tuple[str, ...] = ()) -> tuple[str, ...]:
    return tuple(f.attname for f in _loaded(model, skip))


@functools.cache
def _columns(model: type[models.Model], alias: str, vendor: str, skip: tuple[str, ...]) -> str:
    q = connection.ops.quote_name
    return ", ".join(f"{alias}.{q(str(f.column))}" for f in _loaded(model, skip))


def columns(model: type[models.Model], alias: str, *, skip: tuple[str, ...] = ()) -> str:
    """``alias."col", …`` for every concrete field of ``model`` (but the fields named in
    ``skip``), in ``from_row``'s order."""
    return _columns(model, alias, connection.vendor, skip)


def width(model: type[models.Model], *, skip: tuple[str, ...] = ()) -> int:
    """How many values of a row ``from_row`` takes for ``model``."""
    return len(_attnames(model, skip))


def from_row[M: models.Model](
    model: type[M], values: Sequence[Any], *, skip: tuple[str, ...] = ()
) -> M:
    """An instance of ``model`` from the values of ``columns(model, …)``, as loaded by the
    ORM; the fields in ``skip`` are deferred (read from the database if touched)."""
    row = list(values)
    for i, chosen, col in _converters(model, connection.vendor, skip):
        value = row[i]
        for convert in chosen:
            value = convert(value, col, connection)
        row[i] = value
    if _plain_attributes(model, skip) and not (
        pre_init.has_listeners(model) or post_init.has_listeners(model)
    ):
        # What ``Model.__init__`` ends with for these fields, without its per-field
        # ``setattr`` through the descriptors (a list page builds fifty such rows).
        obj = model.__new__(model)
        state = obj._state = ModelState()
        state.adding = False
        state.db = connection.alias
        obj.__dict__.update(zip(_attnames(model, skip), row, strict=True))
        return obj
    return model.from_db(connection.alias, list(_attnames(model, skip)), row)


@functools.cache
def _plain_attributes(model: type[models.Model], skip: tuple[str, ...] = ()) -> bool:
    """Whether setting each loaded field's attribute only stores the value in the
    instance's ``__dict__`` (Django's own attributes for columns and foreign keys' ids:
    the latter also forget a cached related object, which a new instance has not)."""
    plain = (DeferredAttribute, ForeignKeyDeferredAttribute)
    return all(
        type(inspect.getattr_static(model, f.attname, None)) in plain for f in _loaded(model, skip)
    )


@functools.cache
def _field_converters(
    model: type[models.Model], name: str, vendor: str
) -> tuple[tuple[Converter, ...], Any]:
    col = model._meta.get_field(name).get_col(model._meta.db_table)  # type: ignore[union-attr]
    return tuple(connection.ops.get_db_converters(col) + col.get_db_converters(connection)), col


def value(model: type[models.Model], name: str, raw: Any) -> Any:
    """One column's value (field ``name`` of ``model``) as the ORM would give it."""
    chosen, col = _field_converters(model, name, connection.vendor)
    for convert in chosen:
        raw = convert(raw, col, connection)
    return raw


@functools.cache
def _insert_sql(
    model: type[models.Model], vendor: str
) -> tuple[str, tuple[models.Field[Any, Any], ...]]:
    q = connection.ops.quote_name
    fields = tuple(f for f in model._meta.concrete_fields if not f.primary_key)
    names = ", ".join(q(str(f.column)) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    pk = q(str(model._meta.pk.column))
    return (
        f"INSERT INTO {q(model._meta.db_table)} ({names}) VALUES ({marks}) RETURNING {pk}",
        fields,
    )


def prepared_cursor() -> Any:
    """A cursor whose statements the database plans once per connection where it can
    (``core.postgresql``'s ``prepared_cursor``), else an ordinary one: for statements that
    run on every request, written with the same text each time."""
    make = getattr(connection, "prepared_cursor", None)
    return connection.cursor() if make is None else make()


def insert(obj: models.Model) -> None:
    """INSERT ``obj`` (no id yet); its id is set from ``RETURNING``, as after ``save()``."""
    sql, fields = _insert_sql(type(obj), connection.vendor)
    params = [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields]
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    assert row is not None
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = connection.alias


def update_statement(
    model: type[models.Model],
    pk: Any,
    changes: Mapping[str, Any],
    *,
    version: int | None = None,
) -> tuple[str, list[Any]]:
    """UPDATE the row ``pk`` with ``changes`` (field names; a related instance stands for its
    id); with ``version``, only while the row's ``version`` is that one, and bump it. The
    statement's text and parameters, for the caller to run (alone or in a ``WITH``)."""
    q = connection.ops.quote_name
    meta = model._meta
    sets: list[str] = []
    params: list[Any] = []
    for name, value in changes.items():
        field = meta.get_field(name)
        assert isinstance(field, models.Field) and field.concrete
        if isinstance(value, models.Model):
            value = value.pk
        sets.append(f"{q(str(field.column))} = %s")
        params.append(field.get_db_prep_save(value, connection))
    where = f"{q(str(meta.pk.column))} = %s"
    params.append(pk)
    if version is not None:
        sets.append(f"{q('version')} = {q('version')} + 1")
        where += f" AND {q('version')} = %s"
        params.append(version)
    return f"UPDATE {q(meta.db_table)} SET {', '.join(sets)} WHERE {where}", params


@functools.cache
def _insert_select_sql(model: type[models.Model], vendor: str) -> str:
    """``INSERT INTO table (columns) SELECT %s, … FROM`` (the source follows), ``RETURNING``
    left to the caller."""
    q = connection.ops.quote_name
    fields = tuple(f for f in model._meta.concrete_fields if not f.primary_key)
    names = ", ".join(q(str(f.column)) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {q(model._meta.db_table)} ({names}) SELECT {marks} FROM"


def insert_after(
    obj: models.Model,
    before: Sequence[tuple[str, str, Sequence[Any]]],
    *,
    only_if: str | None = None,
) -> bool:
    """PostgreSQL: INSERT ``obj`` (as ``insert``) in one statement with ``before``, each
    ``(name, statement, params)`` a data-modifying statement run in the ``WITH`` of the
    INSERT, in that order; a later one may refer to an earlier one by its name.

    With ``only_if`` (one of the names, a statement with ``RETURNING``) the row is inserted
    only when that statement returned a row. Whether it was inserted; its id is set if so.
    Every statement of ``before`` runs to its end either way (PostgreSQL's rule for
    data-modifying ``WITH``): make the others depend on ``only_if`` themselves if needed.
    """
    assert connection.vendor == "postgresql", "data-modifying WITH is PostgreSQL's"
    q = connection.ops.quote_name
    _sql, fields = _insert_sql(type(obj), connection.vendor)
    params: list[Any] = []
    parts: list[str] = []
    for name, statement, values in before:
        parts.append(f"{q(name)} AS ({statement})")
        params.extend(values)
    params.extend(f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields)
    source = q(only_if) if only_if is not None else "(SELECT 1) AS one"
    pk = q(str(type(obj)._meta.pk.column))
    sql = (
        f"WITH {', '.join(parts)} " if parts else ""
    ) + f"{_insert_select_sql(type(obj), connection.vendor)} {source} RETURNING {pk}"
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = connection.alias
    return True
