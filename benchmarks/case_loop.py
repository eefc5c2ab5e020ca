"""Full case loops per second over HTTP, beside the same server's trivial endpoint.

One loop is six requests by three staff: report (POST /api/v1/cases) → file → dispatch →
dispose → verify_pass → close (POST /api/v1/cases/{id}/actions/{action}). Every step is a
guarded transition with a compare-and-swap UPDATE, one hash-chained ledger row, inbox
rows and a deadline on the working calendar.

For each database a fresh data directory (and, for PostgreSQL, a fresh database) is set
up with a two-village test township and one account per role, `civicgrid serve` (granian,
WSGI) is started on a free loopback port, and client processes run for --seconds on:

- health: GET /api/v1/health (no database, no authentication): the bound;
- loop: the six-request case loop, each client process with its own cases.

Printed: requests/s for health, loops/s and requests/s for the loop, and the ratio of loop
requests/s to health requests/s (same server, same run). The clients are Python processes
on the same two cores as the server, so absolute figures are lower than wrk would show.

    .venv/bin/python benchmarks/case_loop.py                      # SQLite and PostgreSQL
    .venv/bin/python benchmarks/case_loop.py --db sqlite --seconds 5
    PGURL=postgres://postgres@127.0.0.1:5432 .venv/bin/python benchmarks/case_loop.py --db pg
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CIVICGRID = [sys.executable, "-m", "civicgrid"]

SETUP = r"""
import json
import django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
import datetime as dt
from django.utils import timezone
from shapely.geometry import box
from civicgrid.cases.services import calendar_seed, taxonomy_seed
from civicgrid.geo.geojson import Feature
from civicgrid.geo.services import boundaries_import
from civicgrid.people import services as people

villages = [Feature(1, {"code": "001", "name": "东村"}, box(113.00, 23.00, 113.02, 23.02))]
grids = [Feature(1, {"village": "001", "households": 350}, box(113.00, 23.00, 113.01, 23.02)),
         Feature(2, {"village": "001", "households": 420}, box(113.01, 23.00, 113.02, 23.02))]
town = boundaries_import(township_code="441900123", township_name="基准镇",
                         villages=villages, grids=grids).township
taxonomy_seed()
calendar_seed(township=town)
urban = people.department_create(township=town, code="URBAN", name="城管",
                                 areas=["urban_management"], actor=None)
def make(name, role, **places):
    return people.staff_create(username=name, full_name="基准", roles=[role], actor=None,
                               **places)
admin = make("bench_admin", "grid_admin")
start = timezone.localdate() - dt.timedelta(days=10)
people.training_record(user=admin, course="培训", completed_on=start, actor=None)
people.examination_record(user=admin, taken_on=start, score=90, actor=None)
people.work_permit_issue(user=admin, number="B-1", issued_on=start,
                         expires_on=start + dt.timedelta(days=365), actor=None)
grid = town.villages.get().grids.order_by("code").first()
people.grid_assignment_create(user=admin, grid=grid, position="administrator",
                              starts_on=start, actor=None)
dispatcher = make("bench_dispatcher", "dispatcher", township=town)
officer = make("bench_officer", "department_officer", department=urban)
tokens = {name: people.api_token_create(user=user, name="bench")[1]
          for name, user in (("admin", admin), ("dispatcher", dispatcher),
                             ("officer", officer))}
print(json.dumps(tokens))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with contextlib.suppress(OSError):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/health")
            if conn.getresponse().status == 200:
                return
        time.sleep(0.3)
    raise SystemExit("server did not start")


def _health_client(port: int, seconds: float, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    conn = http.client.HTTPConnection("127.0.0.1", port)
    done = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        conn.request("GET", "/api/v1/health")
        response = conn.getresponse()
        response.read()
        assert response.status == 200
        done += 1
    out.put(done)


def _loop_client(
    port: int,
    seconds: float,
    tokens: dict[str, str],
    index: int,
    out: multiprocessing.Queue,  # type: ignore[type-arg]
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port)

    def call(who: str, path: str, body: dict[str, object]) -> dict[str, object]:
        headers = {"authorization": f"Bearer {tokens[who]}", "content-type": "application/json"}
        conn.request("POST", path, json.dumps(body), headers)
        response = conn.getresponse()
        data = response.read()
        if response.status not in (200, 201):
            raise SystemExit(f"{path}: {response.status} {data[:300]!r}")
        return dict(json.loads(data))

    steps = [("dispatcher", "file", {}), ("dispatcher", "dispatch", {}),
             ("officer", "dispose", {"result": "done"}), ("admin", "verify_pass", {}),
             ("dispatcher", "close", {})]  # fmt: skip
    loops = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        # Spread the reports so the duplicate check finds no neighbours, as in a real day.
        lon = 113.0005 + (index * 7919 + loops * 104729) % 9000 * 1e-6
        case = call("admin", "/api/v1/cases", {"category": "0702", "description": "bench",
                                               "lon": lon, "lat": 23.01})  # fmt: skip
        version = case["version"]
        for who, action, params in steps:
            case = call(who, f"/api/v1/cases/{case['id']}/actions/{action}",
                        {"version": version, **params})  # fmt: skip
            version = case["version"]
        assert case["state"] == "closed"
        loops += 1
    out.put(loops)


def run_clients(target, args: tuple, clients: int) -> int:  # type: ignore[no-untyped-def,type-arg]
    out: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    procs = [
        multiprocessing.Process(target=target, args=(*args, i, out) if target is _loop_client
                                else (*args, out))
        for i in range(clients)
    ]  # fmt: skip
    for p in procs:
        p.start()
    total = sum(out.get(timeout=600) for _ in procs)
    for p in procs:
        p.join()
    return total


def prepare_postgres(base: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def bench(db: str, seconds: float, clients: int, workers: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="case-loop-") as data:
        env = {**os.environ, "CIVICGRID_DATA_DIR": data, "DJANGO_SETTINGS_MODULE":
               "civicgrid.config.settings", "LOG_LEVEL": "ERROR"}  # fmt: skip
        env.pop("DATABASE_URL", None)
        if db == "pg":
            base = os.environ.get("PGURL", "postgres://postgres@127.0.0.1:5432")
            env["DATABASE_URL"] = prepare_postgres(base, "civicgrid_bench_cases")
        setup = subprocess.run([sys.executable, "-c", SETUP], env=env, cwd=ROOT,
                               capture_output=True, text=True, check=True)  # fmt: skip
        tokens = json.loads(setup.stdout.strip().splitlines()[-1])
        port = free_port()
        server = subprocess.Popen(
            [*CIVICGRID, "serve", "--addr", f"127.0.0.1:{port}", "--workers", str(workers),
             "--no-collectstatic"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_for(port)
            run_clients(_health_client, (port, 1.0), clients)  # warm-up
            started = time.perf_counter()
            health = run_clients(_health_client, (port, seconds), clients)
            health_rate = health / (time.perf_counter() - started)
            started = time.perf_counter()
            loops = run_clients(_loop_client, (port, seconds, tokens), clients)
            loop_rate = loops / (time.perf_counter() - started)
        finally:
            server.terminate()
            server.wait(timeout=30)
    return {"health": health_rate, "loops": loop_rate, "loop_requests": loop_rate * 6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--workers", type=int, help="server processes (1 on SQLite, 2 on PG)")
    args = parser.parse_args()
    dbs = ["sqlite", "pg"] if args.db == "both" else [args.db]
    print(f"case loop benchmark: {args.seconds:g} s per figure, {args.clients} client "
          f"processes, {os.cpu_count()} cores, granian WSGI")  # fmt: skip
    print(f"{'db':<8}{'workers':>8}{'health req/s':>14}{'loops/s':>10}{'loop req/s':>12}"
          f"{'ratio':>8}")  # fmt: skip
    for db in dbs:
        workers = args.workers or (1 if db == "sqlite" else 2)
        r = bench(db, args.seconds, args.clients, workers)
        ratio = r["loop_requests"] / r["health"]
        print(f"{db:<8}{workers:>8}{r['health']:>14.0f}{r['loops']:>10.1f}"
              f"{r['loop_requests']:>12.0f}{ratio:>8.3f}")  # fmt: skip
    print("ratio = loop requests/s ÷ health requests/s on the same server in the same run")


if __name__ == "__main__":
    main()
