from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


def private_sqlite_files(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Make an SQLite database and its WAL and shared-memory files 0600.

    SQLite creates the database with the process's umask (usually 0644) and gives the -wal
    and -shm files it creates later the database file's mode, so tightening the database
    on every new connection covers all three.
    """
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    for path in (Path(name), Path(f"{name}-wal"), Path(f"{name}-shm")):
        try:
            info = path.stat()
        except FileNotFoundError:
            continue
        if info.st_uid == os.getuid() and info.st_mode & 0o077:
            path.chmod(0o600)


class CoreConfig(AppConfig):
    name = "civicgrid.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        connection_created.connect(private_sqlite_files, dispatch_uid="private_sqlite_files")
        from civicgrid.core.appendonly import register_sqlite_function

        connection_created.connect(register_sqlite_function, dispatch_uid="civicgrid_append_only")
        from django.core import checks

        from civicgrid.core.storage import media_storage_check

        checks.register(media_storage_check, checks.Tags.security)
