from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


def parse_addr(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"--addr {addr!r}: expected HOST:PORT, e.g. 127.0.0.1:8000")
    return host.strip("[]"), int(port)


def serve(host: str, port: int, workers: int | None = None) -> None:
    """Run the WSGI app under granian: measured fastest here (see benchmarks/serve.py)."""
    from granian import Granian
    from granian.constants import Interfaces

    sqlite = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
    if workers is None:
        # SQLite has one writer: one process keeps writes from queueing behind a lock.
        workers = settings.CIVICGRID_SERVE_WORKERS or (1 if sqlite else os.cpu_count() or 1)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.config.settings")
    Granian(
        "civicgrid.config.wsgi:application",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        # One thread per worker process: several threads writing one SQLite file pushed
        # p99 latency to almost a second on this hardware.
        blocking_threads=1,
    ).serve()


class Command(BaseCommand):
    help = "Serve the platform with granian (WSGI), one thread per worker process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="HOST:PORT")
        parser.add_argument("--workers", type=int, help="processes (default: 1 on SQLite)")
        parser.add_argument("--no-collectstatic", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = parse_addr(options["addr"])
        if settings.PRODUCTION and not options["no_collectstatic"]:
            from django.core.management import call_command

            call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write(f"Serving on http://{host}:{port}/")
        serve(host, port, options["workers"])
