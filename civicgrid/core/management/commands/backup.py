"""``civicgrid backup FILE``: a consistent copy of the database while the platform runs.

SQLite: the online backup API of SQLite (``sqlite3.Connection.backup``) copies the pages
of the database through the platform's own connection, so writers may go on meanwhile
and the copy is one consistent state (WAL included); the result is an ordinary database
file. PostgreSQL: ``pg_dump`` in its custom format (restore with ``pg_restore``), with the
connection settings of the platform. See docs/operations.md, "Backups, restore and
upgrades".
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.translation import gettext as _

from civicgrid.core.env import private_file_open


def sqlite_backup(source: Any, target: Path, *, pages: int = 1024) -> None:
    """Copy the SQLite database behind ``source`` (a DB-API connection) into ``target``.

    Copies ``pages`` pages at a time, so a long backup lets the platform's writers in
    between steps; SQLite restarts the copy by itself when a page already copied changes.
    """
    with private_file_open(target):
        pass  # created 0600 before SQLite writes into it: the copy holds personal data
    destination = sqlite3.connect(target)
    try:
        source.backup(destination, pages=pages)
    finally:
        destination.close()


def pg_dump(settings_dict: dict[str, Any], target: Path) -> None:
    """``pg_dump -Fc`` of the database ``settings_dict`` names, written to ``target``."""
    program = shutil.which("pg_dump")
    if program is None:
        raise CommandError(_("pg_dump is not installed (Debian: apt install postgresql-client)."))
    env = {**os.environ}
    for key, variable in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
    ):
        if settings_dict.get(key):
            env[variable] = str(settings_dict[key])
    options = settings_dict.get("OPTIONS") or {}
    if options.get("sslmode"):
        env["PGSSLMODE"] = str(options["sslmode"])
    with private_file_open(target):
        pass
    done = subprocess.run(
        [program, "--format=custom", "--file", str(target), "--dbname", settings_dict["NAME"]],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise CommandError(
            _("pg_dump failed: %(error)s") % {"error": done.stderr.strip() or done.returncode}
        )


class Command(BaseCommand):
    help = (
        "Write a consistent backup of the database while the platform runs: SQLite through "
        "its online backup API (a database file), PostgreSQL with pg_dump -Fc (for "
        "pg_restore). Photos and the ledger key are not in it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="where to write the backup (must not exist)")
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="database alias (default: default)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        target: Path = options["file"]
        if target.exists():
            raise CommandError(_("%(path)s exists already: name a new file.") % {"path": target})
        connection = connections[options["database"]]
        try:
            if connection.vendor == "sqlite":
                connection.ensure_connection()
                sqlite_backup(connection.connection, target)
            elif connection.vendor == "postgresql":
                pg_dump(connection.settings_dict, target)
            else:
                raise CommandError(
                    _("No backup for the %(vendor)s database.") % {"vendor": connection.vendor}
                )
        except BaseException:
            target.unlink(missing_ok=True)  # never leave half a backup behind
            raise
        self.stdout.write(
            _("Backup written: %(path)s (%(size)s bytes).")
            % {"path": target, "size": target.stat().st_size}
        )
