from __future__ import annotations

import os
import socket
from typing import Any, NamedTuple

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


def parse_addr(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"--addr {addr!r}: expected HOST:PORT, e.g. 127.0.0.1:8000")
    return host.strip("[]"), int(port)


def refuse_busy_port(host: str, port: int) -> None:
    """Stop before serving when something already listens on the address.

    granian binds with SO_REUSEPORT, so a second server on a busy port would start without
    a word and the two (with their two databases) would answer at random.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise CommandError(f"--addr {host}:{port}: {exc}") from None
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # Lets a port a stopped server left in TIME_WAIT pass; a listening one still fails.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError:
            raise CommandError(
                f"{host}:{port} is already in use (another civicgrid demo or serve?). "
                f"Stop it (Ctrl+C in its terminal) or choose another port with "
                f"--addr {host}:{port + 1}."
            ) from None


# Threads per worker on PostgreSQL: a queue page need not wait behind a slow evaluation
# page in the same process, and each thread holds at most one kept connection
# (workers x threads x app servers stays far below max_connections).
POSTGRES_THREADS = 4


class ServerOptions(NamedTuple):
    workers: int  # processes
    threads: int  # per process


def server_options(
    *, sqlite: bool, workers: int | None = None, threads: int | None = None
) -> ServerOptions:
    """granian's processes and threads per process for this database, unless given."""
    if workers is None:
        # SQLite has one writer: one process keeps writes from queueing behind a lock.
        workers = settings.CIVICGRID_SERVE_WORKERS or (1 if sqlite else os.cpu_count() or 1)
    if threads is None:
        # One thread on SQLite: several threads writing one file pushed p99 latency to
        # almost a second on this hardware.
        threads = settings.CIVICGRID_SERVE_THREADS or (1 if sqlite else POSTGRES_THREADS)
    if workers < 1 or threads < 1:
        raise CommandError("--workers and --threads must be at least 1.")
    return ServerOptions(workers, threads)


def serve(host: str, port: int, workers: int | None = None, threads: int | None = None) -> None:
    """Run the WSGI app under granian: measured fastest here (see benchmarks/serve.py)."""
    from granian import Granian
    from granian.constants import Interfaces

    sqlite = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
    options = server_options(sqlite=sqlite, workers=workers, threads=threads)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.config.settings")
    refuse_busy_port(host, port)
    Granian(
        "civicgrid.config.wsgi:application",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=options.workers,
        blocking_threads=options.threads,
    ).serve()


class Command(BaseCommand):
    help = "Serve the platform with granian (WSGI): on SQLite one process with one thread."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="HOST:PORT")
        parser.add_argument(
            "--workers", type=int, help="processes (default: 1 on SQLite, cores on PostgreSQL)"
        )
        parser.add_argument(
            "--threads",
            type=int,
            help=f"threads per process (default: 1 on SQLite, {POSTGRES_THREADS} on PostgreSQL)",
        )
        parser.add_argument("--no-collectstatic", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = parse_addr(options["addr"])
        refuse_busy_port(host, port)
        if settings.PRODUCTION and not options["no_collectstatic"]:
            from django.core.management import call_command

            call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write(f"Serving on http://{host}:{port}/")
        serve(host, port, options["workers"], options["threads"])
