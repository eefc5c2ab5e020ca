"""Backup and restore round trip: a database with cases and their ledger is backed up while
it is open, restored into a fresh database, and ``civicgrid ledger-verify`` run there (as
an operator would, in another process) passes; a restore whose ledger was edited fails.

SQLite: ``civicgrid backup`` through the online backup API. PostgreSQL: ``civicgrid
backup`` (pg_dump -Fc), ``createdb`` and ``pg_restore``. The data must be committed for
another process to see it, hence transactional tests.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from civicgrid.cases.models import CaseEvent
from civicgrid.cases.services.ledger import GUARDED_TABLES
from civicgrid.cases.tests.conftest import Loop
from civicgrid.core import appendonly

pytestmark = pytest.mark.django_db(transaction=True)


def _cases_with_history(loop: Loop) -> int:
    loop.case_in("closed")
    loop.case_in("dispatched")
    loop.report()
    return CaseEvent.objects.count()


def _ledger_verify(database_url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """``civicgrid ledger-verify`` in a process of its own against ``database_url``."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CIVICGRID_DATA_DIR": str(data_dir),
        "LANGUAGE_CODE": "en",
    }
    env.pop("CIVICGRID_LEDGER_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "civicgrid", "ledger-verify"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def _admin_params() -> dict[str, object]:
    s = connection.settings_dict
    return {
        "host": s["HOST"] or None,
        "port": s["PORT"] or None,
        "user": s["USER"] or None,
        "password": s["PASSWORD"] or None,
        "dbname": "postgres",
        "autocommit": True,
    }


@pytest.fixture
def restore_target(tmp_path: Path) -> Iterator[str]:
    """Where the backup is restored: a new file (SQLite) or a new database beside the test
    database (PostgreSQL, dropped afterwards). Yields its DATABASE_URL."""
    if connection.vendor == "sqlite":
        (tmp_path / "restored").mkdir()
        yield f"sqlite:///{tmp_path / 'restored' / 'civicgrid.sqlite3'}"
        return
    s = connection.settings_dict
    name = f"{s['NAME']}_restored"
    with psycopg.connect(**_admin_params()) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    yield f"postgres://{s['USER']}{password}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{name}"
    with psycopg.connect(**_admin_params()) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _restore(backup: Path, url: str) -> None:
    """The restore of docs/operations.md: copy the file back, or pg_restore the dump."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).write_bytes(backup.read_bytes())
        return
    s = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": s["PASSWORD"] or ""}
    restored = subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", "--dbname", url.rsplit("/", 1)[1],
         "--host", s["HOST"] or "localhost", "--port", str(s["PORT"] or 5432),
         "--username", s["USER"], str(backup)],
        env=env, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert restored.returncode == 0, restored.stderr


def _execute_on(url: str, sql: str) -> list[tuple[object, ...]]:
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as copy:
            rows = copy.execute(sql).fetchall()
        copy.close()
        return rows
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True) as copy:
        cursor = copy.execute(sql)
        return cursor.fetchall() if cursor.description else []


def test_a_backup_restores_into_a_fresh_database_whose_ledger_verifies(
    loop: Loop, tmp_path: Path, restore_target: str
) -> None:
    events = _cases_with_history(loop)
    backup = tmp_path / "civicgrid.backup"
    call_command("backup", str(backup))  # the platform's connection stays open meanwhile
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600  # personal data: owner only
    with pytest.raises(CommandError, match="exists already"):
        call_command("backup", str(backup))  # never overwrites a backup

    _restore(backup, restore_target)
    assert _execute_on(restore_target, "SELECT COUNT(*) FROM cases_caseevent") == [(events,)]
    verified = _ledger_verify(restore_target, tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"Ledger intact: {events} events" in verified.stdout

    # Someone who owns the restored database drops the guard and edits an event.
    vendor = "sqlite" if restore_target.startswith("sqlite") else "postgresql"
    for table in GUARDED_TABLES:
        for statement in appendonly.remove_statements(vendor, table):
            _execute_on(restore_target, statement)
    _execute_on(
        restore_target,
        "UPDATE cases_caseevent SET note = 'edited' "
        "WHERE id = (SELECT MIN(id) FROM cases_caseevent)",
    )
    verified = _ledger_verify(restore_target, tmp_path)
    assert verified.returncode == 1
    assert "Ledger NOT intact" in verified.stderr
    assert "[edited]" in verified.stdout and "[unguarded]" in verified.stdout
