"""Each case action's requests/s beside a minimal view making the same writes (issue 20).

For each database a fresh data directory (and, for PostgreSQL, a fresh database) gets the
two-village township of ``case_loop.py`` (one grid administrator, one dispatcher, one
department officer, API tokens). Then, in one process and one run, for each step of the
loop (report → file → dispatch → dispose → verify_pass → close):

- ours: ``POST /api/v1/cases`` / ``POST /api/v1/cases/{id}/actions/{action}`` through the
  whole WSGI application (every middleware, the bearer token, Ninja, the service, the
  answer with ``allowed``), on ``--cases`` cases, each request on its own case;
- ceiling: a minimal Django app under the same server and database settings (the
  issue's ceiling): Django's WSGI handler with no middleware and one URL, whose view makes
  the same writes in one transaction: the case row's compare-and-swap UPDATE (INSERT for a
  report), the ledger head read under lock, the case's last event, one hash-chained event,
  the head update, and the inbox row where the action notifies someone. No authentication,
  no checks, no answer beyond the id;
- bare view: the same view called with a request built from the same WSGI environ, without
  Django's handler (the ceiling of earlier rounds, printed for comparison).

No HTTP server is involved (server throughput is ``serve.py``'s and ``case_loop.py``'s): the
figures are the application's own cost per action against the database's. Both run on the
same connection settings (``CONN_MAX_AGE`` as configured). Printed per action: requests/s
for each side and ours ÷ ceiling and ours ÷ bare view, medians of ``--rounds`` (default
3); rounds alternate the order of the sides, and each side is warmed up before timing.
Beside them the CPU milliseconds of the measuring process per request (the database
server's work on PostgreSQL is not in it): on shared, busy cores the wall clock mostly
measures the wait for a core.

    .venv/bin/python benchmarks/actions.py                        # SQLite and PostgreSQL
    .venv/bin/python benchmarks/actions.py --db sqlite --cases 200
    PGURL=postgres://postgres@127.0.0.1:5432 .venv/bin/python benchmarks/actions.py --db pg
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import machine_line, table  # noqa: E402
from case_loop import SETUP, prepare_postgres  # noqa: E402

STEPS = [
    ("report", "admin", {}),
    ("file", "dispatcher", {}),
    ("dispatch", "dispatcher", {}),
    ("dispose", "officer", {"result": "done"}),
    ("verify_pass", "admin", {}),
    ("close", "dispatcher", {}),
]
NOTIFIES = {"dispatch", "dispose"}
TARGET = {"report": "reported", "file": "filed", "dispatch": "dispatched",
          "dispose": "disposed", "verify_pass": "verified", "close": "closed"}  # fmt: skip


Figures = dict[str, list[tuple[float, float, float, float, float, float]]]


def worker(cases: int, rounds: int, tokens: dict[str, str]) -> Figures:
    import hashlib
    import io
    import time

    import django

    django.setup()
    from typing import Any

    from django.core.handlers.exception import convert_exception_to_response
    from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
    from django.db import connection, transaction
    from django.http import JsonResponse
    from django.urls import path
    from django.utils import timezone

    from civicgrid.config.wsgi import application
    from civicgrid.people.models import User

    def environ(method: str, path: str, body: bytes, token: str | None) -> dict[str, object]:
        env: dict[str, object] = {
            "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http", "wsgi.input":
            io.BytesIO(body), "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)), "wsgi.errors": sys.stderr,
            "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
        }  # fmt: skip
        if token:
            env["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return env

    def ours(path: str, body: dict[str, object], who: str) -> dict[str, object]:
        raw = json.dumps(body).encode()
        status: list[str] = []
        chunks = application(environ("POST", path, raw, tokens[who]),
                             lambda s, h, *a: status.append(s))  # fmt: skip
        data = b"".join(chunks)
        if not status[0].startswith(("200", "201")):
            raise SystemExit(f"{path}: {status[0]} {data[:300]!r}")
        return dict(json.loads(data))

    officer_id = User.objects.get(username="bench_officer").pk
    admin_id = User.objects.get(username="bench_admin").pk

    def minimal_view(request: WSGIRequest, case_id: int | None, action: str) -> JsonResponse:
        """The same writes as the action, in one transaction, nothing else."""
        body = json.loads(request.body)
        now = timezone.now()
        with transaction.atomic(), connection.cursor() as cur:
            if case_id is None:  # a report: the case row
                cur.execute(
                    "INSERT INTO cases_case (number, township_id, village_id, grid_id, "
                    "category_id, urgency, state, version, description, lon, lat, address, "
                    "reporter_id, reporter_kind, reporter_name, reporter_phone, "
                    "follow_token_digest, step_seq, on_backlog, rework_count, return_count, "
                    "result, rating_comment, reported_at, step_started_at, updated_at) "
                    "SELECT %s, township_id, village_id, grid_id, category_id, urgency, "
                    "'reported', 1, %s, lon, lat, '', reporter_id, reporter_kind, '', '', '', "
                    "1, %s, 0, 0, '', '', %s, %s, %s FROM cases_case WHERE id = %s RETURNING id",
                    [f"M{time.perf_counter_ns()}", body["description"], False, now, now, now,
                     body["template"]],
                )  # fmt: skip
                case_id = cur.fetchone()[0]
            else:
                cur.execute(
                    "UPDATE cases_case SET version = version + 1, state = %s, updated_at = %s "
                    "WHERE id = %s AND version = %s",
                    [TARGET[action], now, case_id, body["version"]],
                )
            cur.execute(
                "SELECT position, hash FROM cases_ledgerhead WHERE id = 1"
                + (" FOR UPDATE" if connection.vendor == "postgresql" else "")
            )
            position, head_hash = cur.fetchone()
            cur.execute("SELECT seq, hash FROM cases_caseevent WHERE case_id = %s "
                        "ORDER BY seq DESC LIMIT 1", [case_id])  # fmt: skip
            last = cur.fetchone() or (0, "")
            payload = json.dumps({"bench": True})
            digest = hashlib.sha256(
                f"{case_id}|{last[0] + 1}|{now.isoformat()}|{action}|{payload}|{last[1]}|"
                f"{position + 1}|{head_hash}".encode()
            ).hexdigest()
            cur.execute(
                "INSERT INTO cases_caseevent (case_id, seq, at, actor_id, role, action, "
                "from_state, to_state, note, payload, prev_hash, position, chain_prev, hash) "
                "VALUES (%s, %s, %s, NULL, 'system', %s, '', %s, '', %s, %s, %s, %s, %s) "
                "RETURNING id",
                [case_id, last[0] + 1, now, action, TARGET[action], payload, last[1],
                 position + 1, head_hash, digest],
            )  # fmt: skip
            event_id = cur.fetchone()[0]
            cur.execute("UPDATE cases_ledgerhead SET position = %s, hash = %s WHERE id = 1",
                        [position + 1, digest])  # fmt: skip
            if action in NOTIFIES:
                cur.execute(
                    "INSERT INTO cases_notification (user_id, case_id, kind, event_id, "
                    "created_at) VALUES (%s, %s, %s, %s, %s)",
                    [officer_id if action == "dispatch" else admin_id, case_id, action,
                     event_id, now],
                )  # fmt: skip
        return JsonResponse({"id": case_id, "state": action})

    def bare(case_id: int | None, action: str, version: int) -> int:
        """The minimal view called with the request, without Django's handler."""
        body = {"version": version, "description": "bench", "template": template}
        path = f"/minimal/{case_id or 0}/{action}"
        request = WSGIRequest(environ("POST", path, json.dumps(body).encode(), None))
        return int(json.loads(minimal_view(request, case_id, action).content)["id"])

    class MinimalApp(WSGIHandler):
        """A minimal Django app: Django's WSGI handler (its signals, the request, URL
        resolution, the response) with no middleware and the one URL of the minimal view."""

        class urls:  # noqa: N801  (a URLconf: anything with ``urlpatterns``, hashable)
            urlpatterns = [
                path("minimal/<int:case_id>/<str:action>",
                     lambda request, case_id, action: minimal_view(request, case_id or None,
                                                                   action)),
            ]  # fmt: skip

        def load_middleware(self, is_async: bool = False) -> None:
            self._view_middleware: list[Any] = []
            self._template_response_middleware: list[Any] = []
            self._exception_middleware: list[Any] = []
            self._middleware_chain = convert_exception_to_response(self._get_response)

        def get_response(self, request: Any) -> Any:
            request.urlconf = self.urls
            return super().get_response(request)

    minimal_app = MinimalApp()

    def ceiling(case_id: int | None, action: str, version: int) -> int:
        body = {"version": version, "description": "bench", "template": template}
        raw = json.dumps(body).encode()
        status: list[str] = []
        chunks = minimal_app(environ("POST", f"/minimal/{case_id or 0}/{action}", raw, None),
                             lambda s, h, *a: status.append(s))  # fmt: skip
        data = b"".join(chunks)
        if not status[0].startswith("200"):
            raise SystemExit(f"minimal app: {status[0]} {data[:300]!r}")
        return int(json.loads(data)["id"])

    template: int | None = None
    report = {"category": "0702", "description": "bench", "lat": 23.01}
    results: Figures = {step: [] for step, _w, _p in STEPS}
    serial = 0

    def report_body() -> dict[str, object]:
        nonlocal serial
        serial += 1
        # Spread the reports so the duplicate check finds no neighbours, as in a real day.
        return {**report, "lon": 113.0005 + (serial * 104729) % 9000 * 1e-6}

    # Warm both sides up (imports, caches, the connection).
    for _ in range(5):
        made = ours("/api/v1/cases", report_body(), "admin")
        template = int(made["id"])  # type: ignore[call-overload]
        ceiling(ceiling(None, "report", 0), "file", 1)
        bare(bare(None, "report", 0), "file", 1)
    for round_no in range(rounds):
        ours_first = round_no % 2 == 0
        made_cases: list[dict[str, object]] = []
        side_cases: dict[str, list[int]] = {"ceiling": [], "bare": []}
        for step, who, params in STEPS:
            timings: dict[str, float] = {}
            cpu: dict[str, float] = {}
            sides = ("ours", "ceiling", "bare")
            for side in sides if ours_first else sides[::-1]:
                start, cpu_start = time.perf_counter(), time.process_time()
                if side == "ours" and step == "report":
                    made_cases = [ours("/api/v1/cases", report_body(), who) for _ in range(cases)]
                elif side == "ours":
                    made_cases = [
                        ours(f"/api/v1/cases/{c['id']}/actions/{step}",
                             {"version": c["version"], **params}, who)
                        for c in made_cases
                    ]  # fmt: skip
                else:
                    call = ceiling if side == "ceiling" else bare
                    if step == "report":
                        side_cases[side] = [call(None, step, 0) for _ in range(cases)]
                    else:
                        version = STEPS.index((step, who, params))  # the case's version now
                        for case_id in side_cases[side]:
                            call(case_id, step, version)
                timings[side] = cases / (time.perf_counter() - start)
                cpu[side] = (time.process_time() - cpu_start) / cases * 1000
            results[step].append((timings["ours"], timings["ceiling"], cpu["ours"],
                                  cpu["ceiling"], timings["bare"], cpu["bare"]))  # fmt: skip
    return results


def _drop_postgres(base: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench(db: str, cases: int, rounds: int) -> Figures:
    with tempfile.TemporaryDirectory(prefix="actions-") as data:
        env = {**os.environ, "CIVICGRID_DATA_DIR": data, "DJANGO_SETTINGS_MODULE":
               "civicgrid.config.settings", "LOG_LEVEL": "ERROR"}  # fmt: skip
        env.pop("DATABASE_URL", None)
        env.pop("DEBUG", None)
        base = os.environ.get("PGURL", "postgres://postgres@127.0.0.1:5432")
        # The process id in the name: two runs at once (two sessions) keep apart.
        name = f"civicgrid_bench_actions_{os.getpid()}"
        if db == "pg":
            env["DATABASE_URL"] = prepare_postgres(base, name)
        try:
            setup = subprocess.run([sys.executable, "-c", SETUP], env=env, cwd=ROOT,
                                   capture_output=True, text=True, check=True)  # fmt: skip
            tokens = setup.stdout.strip().splitlines()[-1]
            run = subprocess.run(
                [sys.executable, __file__, "--worker", tokens, "--cases", str(cases),
                 "--rounds", str(rounds)],
                env=env, cwd=ROOT, capture_output=True, text=True,
            )  # fmt: skip
        finally:
            if db == "pg":
                _drop_postgres(base, name)
        if run.returncode != 0:
            raise SystemExit(run.stderr[-3000:])
        return dict(json.loads(run.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="both")
    parser.add_argument("--cases", type=int, default=100, help="requests per action and side")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        results = worker(args.cases, args.rounds, json.loads(args.worker))
        print(json.dumps(results))
        return
    print(machine_line())
    print(f"{args.cases} requests per action and side, medians of {args.rounds} rounds")
    for db in ["sqlite", "pg"] if args.db == "both" else [args.db]:
        results = bench(db, args.cases, args.rounds)
        rows = []
        for step, pairs in results.items():
            ours = statistics.median(p[0] for p in pairs)
            ceil = statistics.median(p[1] for p in pairs)
            ratio = statistics.median(p[0] / p[1] for p in pairs)
            ours_cpu = statistics.median(p[2] for p in pairs)
            ceil_cpu = statistics.median(p[3] for p in pairs)
            bare = statistics.median(p[4] for p in pairs)
            bare_ratio = statistics.median(p[0] / p[4] for p in pairs)
            bare_cpu = statistics.median(p[5] for p in pairs)
            rows.append([db, step, f"{ours:,.0f}", f"{ceil:,.0f}", f"{ratio:.3f}",
                         f"{bare:,.0f}", f"{bare_ratio:.3f}", f"{ours_cpu:.2f}",
                         f"{ceil_cpu:.2f}", f"{bare_cpu:.2f}"])  # fmt: skip
        print(table(["db", "action", "ours req/s", "ceiling req/s", "ours ÷ ceiling",
                     "bare view req/s", "ours ÷ bare view", "ours CPU ms", "ceiling CPU ms",
                     "bare view CPU ms"], rows))  # fmt: skip
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
