"""The everyday reads beside the health endpoint, in one process and one run (issue 20).

A fresh data directory (with ``--db pg`` also a fresh PostgreSQL database at ``PGURL``,
dropped after) gets the township of ``case_loop.py`` and ``--cases`` cases in several
states. Then, through the whole WSGI application (no HTTP server), each of:

- health: ``GET /api/v1/health`` (no database, no authentication);
- list: ``GET /api/v1/cases?limit=50`` as the dispatcher (bearer token);
- center: ``GET /center/`` as the dispatcher (a signed-in session);

is called ``--requests`` times after a warm-up, in rotating order over ``--rounds``
rounds, and printed as requests/s with the ratio to health (medians).

Beside the list and the center page, their raw bound in the same process and rounds: a
bare WSGI callable (no Django) that runs the statements the page ran (captured from a warm
request, values included) on the same database connection and answers every row as JSON.
What the framework, the rules and the templates add is the difference; a goal above the
raw bound's ratio cannot be met by any code that reads the database on each request.

Then, in a process of its own right after (same requests and rounds), a minimal Django
app answers the same ``{"status": "ok"}`` through the same WSGI call: no middleware, no
database, one URL. The health endpoint's rate is printed as a ratio to it (goal ≥ 0.60).
``--gc-freeze`` moves what start-up and the warm-up built out of the collector's reach
(``gc.freeze()``) before measuring, to compare with a run without it.

    .venv/bin/python benchmarks/reads.py
    .venv/bin/python benchmarks/reads.py --cases 200 --requests 100
    .venv/bin/python benchmarks/reads.py --gc-freeze
    PGURL=postgres://postgres@127.0.0.1:5432 .venv/bin/python benchmarks/reads.py --db pg
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import machine_line, table  # noqa: E402
from case_loop import SETUP, prepare_postgres  # noqa: E402


def drop_postgres(base: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wsgi_call(application: Any, path: str, headers: dict[str, str]) -> None:
    route, _sep, query = path.partition("?")
    env = {"REQUEST_METHOD": "GET", "PATH_INFO": route, "QUERY_STRING": query,
           "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1",
           "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
           "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr, **headers}  # fmt: skip
    status: list[str] = []
    b"".join(application(env, lambda s, h, *a: status.append(s)))
    if not status[0].startswith("200"):
        raise SystemExit(f"{path}: {status[0]}")


def measure(
    application: Any,
    targets: dict[str, tuple[str, dict[str, str]]],
    requests: int,
    rounds: int,
    freeze: bool,
) -> dict[str, list[float]]:
    for path, headers in targets.values():
        for _ in range(10):
            wsgi_call(application, path, headers)
    if freeze:
        gc.collect()
        gc.freeze()
    results: dict[str, list[float]] = {n: [] for name in targets for n in (name, f"{name} (CPU)")}
    names = list(targets)
    for round_no in range(rounds):
        shift = round_no % len(names)
        for name in names[shift:] + names[:shift]:
            path, headers = targets[name]
            start, cpu = time.perf_counter(), time.process_time()
            for _ in range(requests):
                wsgi_call(application, path, headers)
            results[name].append(requests / (time.perf_counter() - start))
            # The same per CPU second of this process: on shared, busy cores the wall clock
            # mostly measures the wait for a core.
            results[f"{name} (CPU)"].append(requests / (time.process_time() - cpu))
    return results


def minimal_worker(requests: int, rounds: int, freeze: bool) -> dict[str, list[float]]:
    """The same WSGI calls against a minimal Django app: the bound for our health endpoint."""
    from django.conf import settings
    from django.http import HttpRequest, JsonResponse
    from django.urls import path

    def ok(request: HttpRequest) -> JsonResponse:
        return JsonResponse({"status": "ok"})

    settings.configure(DEBUG=False, SECRET_KEY="x" * 50, ALLOWED_HOSTS=["*"],
                       ROOT_URLCONF=__name__, MIDDLEWARE=[], INSTALLED_APPS=[],
                       USE_TZ=True, DATABASES={})  # fmt: skip
    globals()["urlpatterns"] = [path("api/v1/health", ok)]
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    return measure(application, {"minimal": ("/api/v1/health", {})}, requests, rounds, freeze)


def worker(
    cases: int, requests: int, rounds: int, tokens: dict[str, str], freeze: bool
) -> dict[str, list[float]]:
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from civicgrid.cases import services
    from civicgrid.config.wsgi import application
    from civicgrid.people.models import User

    admin = User.objects.get(username="bench_admin")
    dispatcher = User.objects.get(username="bench_dispatcher")
    officer = User.objects.get(username="bench_officer")
    for i in range(cases):
        # Rows of 120 points 7 m apart inside the bench administrator's grid (113.00–113.01
        # × 23.00–23.02), 22 m between rows: thousands of cases stay in the grid.
        lon, lat = 113.0005 + (i % 120) * 7e-5, 23.0005 + (i // 120) * 2e-4
        if lat >= 23.0195:
            raise SystemExit(f"--cases {cases}: more than the bench grid holds")
        case = services.case_report(actor=admin, category="0702", description="bench",
                                    lon=lon, lat=lat).case  # fmt: skip
        for step, who in (("file", dispatcher), ("dispatch", dispatcher), ("dispose", officer)):
            if i % 4 == ["file", "dispatch", "dispose"].index(step):
                break
            params = {"result": "done"} if step == "dispose" else {}
            services.case_transition(case=case, action=step, actor=who, version=case.version,
                                     **params)  # fmt: skip
    session = SessionStore()
    session[SESSION_KEY] = str(dispatcher.pk)
    session[BACKEND_SESSION_KEY] = "civicgrid.people.backends.StaffModelBackend"
    session[HASH_SESSION_KEY] = dispatcher.get_session_auth_hash()
    session.save()
    cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"

    targets = {
        "health": ("/api/v1/health", {}),
        "list": (
            "/api/v1/cases?limit=50",
            {"HTTP_AUTHORIZATION": f"Bearer {tokens['dispatcher']}"},
        ),
        "center": ("/center/", {"HTTP_COOKIE": cookie, "HTTP_ACCEPT_LANGUAGE": "en"}),
    }
    # The raw bound of each read: its own statements (as the warm request ran them, values
    # included) on the same SQLite connection, the rows as JSON, in a bare WSGI callable.
    for name in ("list", "center"):
        path, headers = targets[name]
        wsgi_call(application, path, headers)  # warm: remembered token, caches
        with CaptureQueriesContext(connection) as captured:
            wsgi_call(application, path, headers)
        statements = [q["sql"] for q in captured.captured_queries]
        targets[f"{name}, raw"] = (path, {"raw": statements})  # type: ignore[dict-item]
    raw = raw_application(connection)
    found = measure(application, {k: v for k, v in targets.items() if ", raw" not in k},
                    requests, rounds, freeze)  # fmt: skip
    for name in ("list", "center"):
        found.update(measure(raw, {f"{name}, raw": targets[f"{name}, raw"]}, requests, rounds,
                             freeze))  # fmt: skip
    found["statements"] = [len(targets[f"{n}, raw"][1]["raw"]) for n in ("list", "center")]
    return found


def raw_application(connection: Any) -> Any:
    """A WSGI callable that runs the statements it is given on ``connection``'s own
    connection and answers every row of each as a JSON object: the work a read cannot avoid
    (the database and the body), without the framework."""

    def application(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        db = connection.connection  # sqlite3's or psycopg's: both run a statement as is
        body = []
        for sql in environ["raw"]:
            cursor = db.execute(sql)
            names = [d[0] for d in cursor.description or ()]
            body.append([dict(zip(names, row, strict=True)) for row in cursor.fetchall()])
        data = json.dumps(body, default=str).encode()
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(data)))])  # fmt: skip
        return [data]

    return application


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=120)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() after warm-up")
    parser.add_argument("--db", choices=["sqlite", "pg"], default="sqlite",
                        help="pg: a fresh database at $PGURL (or the local one)")  # fmt: skip
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--minimal", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.minimal:
        print(json.dumps(minimal_worker(args.requests, args.rounds, args.gc_freeze)))
        return
    if args.worker:
        tokens = json.loads(args.worker)
        found = worker(args.cases, args.requests, args.rounds, tokens, args.gc_freeze)
        print(json.dumps(found))
        return
    freeze = ["--gc-freeze"] if args.gc_freeze else []
    print(machine_line())
    with tempfile.TemporaryDirectory(prefix="reads-") as data:
        env = {**os.environ, "CIVICGRID_DATA_DIR": data, "DJANGO_SETTINGS_MODULE":
               "civicgrid.config.settings", "LOG_LEVEL": "ERROR"}  # fmt: skip
        env.pop("DATABASE_URL", None)
        env.pop("DEBUG", None)
        base = os.environ.get("PGURL", "postgres://postgres@127.0.0.1:5432")
        name = f"civicgrid_bench_reads_{os.getpid()}"  # two runs at once keep apart
        if args.db == "pg":
            env["DATABASE_URL"] = prepare_postgres(base, name)
        try:
            setup = subprocess.run([sys.executable, "-c", SETUP], env=env, cwd=ROOT,
                                   capture_output=True, text=True, check=True)  # fmt: skip
            run = subprocess.run(
                [sys.executable, __file__, "--worker", setup.stdout.strip().splitlines()[-1],
                 "--cases", str(args.cases), "--requests", str(args.requests),
                 "--rounds", str(args.rounds), *freeze],
                env=env, cwd=ROOT, capture_output=True, text=True,
            )  # fmt: skip
        finally:
            if args.db == "pg":
                drop_postgres(base, name)
        if run.returncode != 0:
            raise SystemExit(run.stderr[-3000:])
        results = json.loads(run.stdout.strip().splitlines()[-1])
        env.pop("DJANGO_SETTINGS_MODULE")
        minimal = subprocess.run(
            [sys.executable, __file__, "--minimal", "--requests", str(args.requests),
             "--rounds", str(args.rounds), *freeze],
            env=env, cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        bound = json.loads(minimal.stdout.strip().splitlines()[-1])
    rows, bounds = [], []
    statements = dict(zip(("list", "center"), results.pop("statements"), strict=True))
    for clock in ("", " (CPU)"):
        health = results[f"health{clock}"]
        for name in ("health", "list", "list, raw", "center", "center, raw"):
            rates = results[f"{name}{clock}"]
            ratio = statistics.median(r / h for r, h in zip(rates, health, strict=True))
            rows.append([f"{name}{clock}", f"{statistics.median(rates):,.0f}", f"{ratio:.3f}"])
        minimal = statistics.median(bound[f"minimal{clock}"])
        rows.append([f"minimal Django app{clock}", f"{minimal:,.0f}", "-"])
        bounds.append(f"{statistics.median(health) / minimal:.3f}{clock}")
    frozen = ", gc.freeze() after warm-up" if args.gc_freeze else ""
    print(f"database: {args.db}; {args.cases} cases, {args.requests} requests per figure, "
          f"medians of {args.rounds}"
          f"{frozen}; the minimal app ran in the next process")  # fmt: skip
    print(table(["endpoint", "req/s", "÷ health"], rows))
    print(
        f"raw: the same {statements['list']} (list) and {statements['center']} (center) "
        "statements on the same connection, each row as JSON, in a bare WSGI callable"
    )
    print(f"health ÷ minimal Django app: {', '.join(bounds)} (goal >= 0.60)")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
