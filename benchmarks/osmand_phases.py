"""What an OsmAnd request costs: ``GET /osmand/`` in one process, no HTTP server.

On the database of ``DATABASE_URL`` (migrated here; a fresh one, since it adds a user), as
``civicgrid serve`` runs it (persistent connection, the health check on): ``--requests``
fixes, each 100 ms later than the last, sent as Traccar Client sends them, straight into
Django's WSGI handler (no socket, no HTTP parsing):

- the whole request through the handler, µs per request, beside ``GET /api/v1/health``
  (the trivial endpoint, answered by the first middleware) and a bare WSGI callable that
  answers 204 (no Django at all);
- the statements one request sends, as the database receives them: SQLite's trace, or
  libpq's record of the wire on PostgreSQL (one line per round trip, Django's health
  check and any ``BEGIN`` / ``COMMIT`` included; a prepared statement sends no text).

``PYTHONPATH=DIR`` measures the code of another checkout with the same script.

    DATABASE_URL=postgres://…/civicgrid_osmand_phases .venv/bin/python benchmarks/osmand_phases.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_line, table

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.config.settings")


def environ(path: str, query: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1:8000",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def bare(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("204 No Content", [])
    return [b""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from django.db import connection
    from django.utils import timezone

    from civicgrid.patrol.models import Device, Position, Shift
    from civicgrid.people.models import User

    Device.objects.filter(identifier="PHASES-1").delete()
    User.objects.filter(username="osmand-phases").delete()
    user = User.objects.create_user(username="osmand-phases", password="x-long-bench-password")
    Device.objects.create(identifier="PHASES-1", user=user)
    Shift.objects.create(user=user, started_at=timezone.now() - dt.timedelta(hours=3))
    # Unix milliseconds, 100 ms apart, all inside the shift and none in the future.
    first = int(time.time() * 1000) - 2 * 3600 * 1000
    stamps = iter(range(first, first + 10**12, 100))
    from civicgrid.config.wsgi import application as handler  # as served: the OsmAnd front

    answers: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], *rest: Any) -> None:
        answers.append(status)

    def call(app: Callable[..., Any], path: str, query: str = "") -> None:
        response = app(environ(path, query), start_response)
        b"".join(response)
        if hasattr(response, "close"):
            response.close()  # request_finished, as a WSGI server calls it

    def osmand() -> None:
        query = (
            f"id=PHASES-1&lat=23.01&lon=113.005&timestamp={next(stamps)}&speed=1.2"
            "&bearing=90&altitude=12&accuracy=6&batt=80"
        )
        call(handler, "/osmand/", query)

    def health() -> None:
        call(handler, "/api/v1/health")

    def nothing() -> None:
        call(bare, "/")

    for _ in range(50):  # warm: the connection, the cached SQL, the translations
        osmand()
        health()
    assert set(answers) == {"200 OK"}, set(answers)

    # Statements as the server receives them, the driver's BEGIN and COMMIT included.
    statements: list[str] = []
    if connection.vendor == "postgresql":
        import tempfile

        connection.ensure_connection()
        pgconn = connection.connection.pgconn
        with tempfile.TemporaryFile("w+") as trace:
            pgconn.trace(trace.fileno())  # libpq's own trace: every message on the wire
            osmand()
            pgconn.untrace()
            trace.seek(0)
            pending = "(a prepared statement)"
            for line in trace:
                # One round trip: a simple Query, or Parse/Bind/Execute ended by a Sync.
                fields = line.rstrip("\n").split("\t")
                if len(fields) < 4 or fields[1] != "F":
                    continue
                kind, rest = fields[3], " ".join(fields[4:]).strip()
                if kind == "Query":
                    statements.append(rest.strip('"')[:90])
                elif kind == "Parse":
                    pending = " ".join(rest.split('"')[3].split())[:90]
                elif kind == "Sync":
                    statements.append(pending)
                    pending = "(a prepared statement)"
    else:
        connection.ensure_connection()
        connection.connection.set_trace_callback(
            lambda sql: statements.append(" ".join(sql.split())[:90])
        )
        osmand()
        connection.connection.set_trace_callback(None)

    def median_us(func: Callable[[], None]) -> tuple[float, float]:
        spent = []
        cpu = time.process_time()
        for _ in range(args.requests):
            started = time.perf_counter()
            func()
            spent.append(time.perf_counter() - started)
        cpu = time.process_time() - cpu
        return statistics.median(spent) * 1e6, cpu / args.requests * 1e6

    rows = []
    results = {}
    for name, func in [("osmand", osmand), ("health", health), ("bare WSGI 204", nothing)]:
        wall, cpu = median_us(func)
        results[name] = wall
        rows.append([name, f"{wall:.0f}", f"{cpu:.0f}"])
    stored = Position.objects.filter(staff=user).count()
    Position.objects.filter(staff=user).delete()
    print(machine_line())
    print(f"{connection.vendor}, {args.requests} requests each, in-process")
    print(table(["request", "µs wall (median)", "µs process CPU (mean)"], rows))
    print(f"statements per OsmAnd request: {len(statements)}")
    for sql in statements:
        print("  ", sql)
    print(f"stored: {stored}")
    print(machine_line())
    print(json.dumps(results))


if __name__ == "__main__":
    main()
