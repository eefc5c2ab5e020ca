"""`civicgrid serve` picks granian's processes and threads for the database it serves."""

import granian
import pytest
from django.conf import settings as django_settings
from django.core.management.base import CommandError

from civicgrid.core.management.commands import serve as command
from civicgrid.core.management.commands.serve import (
    POSTGRES_THREADS,
    ServerOptions,
    server_options,
)


def test_sqlite_keeps_one_process_with_one_thread(settings):
    settings.CIVICGRID_SERVE_WORKERS = 0
    settings.CIVICGRID_SERVE_THREADS = 0
    assert server_options(sqlite=True) == ServerOptions(workers=1, threads=1)


def test_postgresql_runs_several_threads_in_each_process(settings, monkeypatch):
    settings.CIVICGRID_SERVE_WORKERS = 0
    settings.CIVICGRID_SERVE_THREADS = 0
    monkeypatch.setattr(command.os, "cpu_count", lambda: 2)
    assert POSTGRES_THREADS > 1
    assert server_options(sqlite=False) == ServerOptions(workers=2, threads=POSTGRES_THREADS)


def test_the_settings_and_the_flags_override_the_defaults(settings):
    settings.CIVICGRID_SERVE_WORKERS = 3
    settings.CIVICGRID_SERVE_THREADS = 2
    assert server_options(sqlite=False) == ServerOptions(workers=3, threads=2)
    given = server_options(sqlite=True, workers=1, threads=1)
    assert given == ServerOptions(workers=1, threads=1)
    with pytest.raises(CommandError, match="at least 1"):
        server_options(sqlite=False, threads=0)


def test_serve_hands_granian_the_options_of_the_database_in_use(settings, monkeypatch):
    settings.CIVICGRID_SERVE_WORKERS = 0
    settings.CIVICGRID_SERVE_THREADS = 0
    started: list[dict] = []

    class Recorder:
        def __init__(self, target: str, **options: object) -> None:
            started.append({"target": target, **options})

        def serve(self) -> None:
            pass

    monkeypatch.setattr(granian, "Granian", Recorder)
    monkeypatch.setattr(command, "refuse_busy_port", lambda host, port: None)
    monkeypatch.setattr(command.os, "cpu_count", lambda: 2)
    command.serve("127.0.0.1", 8797)

    sqlite = django_settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
    (options,) = started
    assert options["target"] == "civicgrid.config.wsgi:application"
    assert options["workers"] == (1 if sqlite else 2)
    assert options["blocking_threads"] == (1 if sqlite else POSTGRES_THREADS)
