"""Append-only tables guarded by the database itself, on PostgreSQL and SQLite.

The models already refuse ``save`` on a stored row, ``delete`` and bulk changes; these
triggers refuse UPDATE and DELETE from anything else that reaches the database (a script,
a console, a bug in raw SQL). Someone who owns the database can drop a trigger: the
ledger's signed checkpoints are what detect that case.

On SQLite the triggers call ``civicgrid_append_only()``, a function each connection opened
by the platform registers. A connection without it (the ``sqlite3`` shell, another
program) gets "no such function" and changes nothing; inside the platform the function
answers 1 except within ``guard_lifted()``, which only ``flush`` (empty the whole database
on purpose, as the test runner does) uses. On PostgreSQL ``flush`` uses TRUNCATE, which
row triggers do not see, so the trigger has no way round.

SQLite drops a table's triggers when a migration rebuilds the table: a migration that
alters a guarded table must install the guard again (``ledger-verify`` reports a
missing trigger).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

SQLITE_FUNCTION = "civicgrid_append_only"
_state = threading.local()


def _guard_on() -> int:
    return 0 if getattr(_state, "lifted", 0) else 1


@contextmanager
def guard_lifted() -> Iterator[None]:
    """Let this thread's SQLite connections delete guarded rows (``flush`` only)."""
    _state.lifted = getattr(_state, "lifted", 0) + 1
    try:
        yield
    finally:
        _state.lifted -= 1


def register_sqlite_function(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """``connection_created`` receiver: give the triggers their function."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_FUNCTION, 0, _guard_on)


def trigger_names(table: str) -> list[str]:
    return [f"{table}_no_update", f"{table}_no_delete"]


def install_statements(vendor: str, table: str) -> list[str]:
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"WHEN {SQLITE_FUNCTION}() BEGIN "
            f"SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END"
            for verb in ("UPDATE", "DELETE")
        ]
    if vendor == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION civicgrid_refuse_change() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '% is append-only: % refused', "
            "TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege'; END $$",
            *(
                f"CREATE OR REPLACE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION civicgrid_refuse_change()"
                for verb in ("UPDATE", "DELETE")
            ),
        ]
    return []  # other databases: the models' own refusal is all there is


def remove_statements(vendor: str, table: str) -> list[str]:
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {name}" for name in trigger_names(table)]
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {name} ON {table}" for name in trigger_names(table)]
    return []


def installed_triggers(connection: BaseDatabaseWrapper, table: str) -> set[str]:
    """Which of the table's guard triggers exist now."""
    names = trigger_names(table)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table]
            )
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                [table],
            )
        else:
            return set()
        return {row[0] for row in cursor.fetchall()} & set(names)


def guard_operations(*tables: str) -> tuple[Any, Any]:
    """The forward and backward functions of a ``RunPython`` that guards ``tables``."""

    def install(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
        for table in tables:
            for statement in install_statements(schema_editor.connection.vendor, table):
                schema_editor.execute(statement, params=None)

    def remove(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
        for table in tables:
            for statement in remove_statements(schema_editor.connection.vendor, table):
                schema_editor.execute(statement, params=None)

    return install, remove
