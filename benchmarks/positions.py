"""Position ingestion over a real server, and the daily duty figures, measured in one run.

For each database (SQLite file, PostgreSQL) a fresh database is migrated, a staff member
with a registered phone, an open shift and an API token is created, and:

- raw: ``patrol.ingest.positions_insert`` of the rows straight (executemany / COPY), in a
  process of its own, rows/s, into the same table the endpoint writes to: on PostgreSQL
  the monthly partitions as migrated (``--pg-table plain`` reverses ``patrol.0004`` for
  both), with the same foreign keys checked at commit;
- the platform is served by ``civicgrid serve`` (granian, WSGI, one thread per worker; one
  worker on SQLite, one per core on PostgreSQL, as the command chooses) and loaded with
  ``wrk`` over HTTP on 127.0.0.1, one endpoint after the other:

  - batch: ``POST /api/v1/patrol/positions`` with ``--batch`` positions per request and a
    new Idempotency-Key each time (bearer token), rows/s;
  - osmand: ``GET /osmand/?id=…&lat=…&lon=…&timestamp=NOW&…`` one position per request
    (as Traccar Client sends them), requests/s;
  - trivial: ``GET /api/v1/health`` on the same server, requests/s (answered by the first
    middleware, ``HealthShortcut``: nearly a bare WSGI answer);
  - full stack: the same request to a second server whose settings leave the shortcut out
    (``full_stack_settings.py``), so it passes the whole middleware stack and the API, as
    the trivial endpoint did when issue 14's goal was written; a second reference, not
    the goal's.

- fix alone: then, with the server stopped, the OsmAnd fix's own work without HTTP or a
  request (``services.osmand_fix_plain``, what the front calls: the one statement and the
  Python around it) in the server's processes and threads, fixes/s: how much of the
  trivial endpoint's rate the fix's database work alone leaves room for.

``--before DIR`` measures the code of another checkout (e.g. ``git worktree add DIR
main``) the same way, database by database just before this one, so the two compare
under the same load.

Then, without a database, ``patrol.duty.duty_figures`` for 700 administrators × 8 h × one
fix per 10 s (2,016,000 fixes) on one core.

PostgreSQL is served with ``?conn_max_age=60`` (persistent connections, one per worker), as
a production deployment runs it; ``--pg-conn-max-age 0`` measures a connection per request.

    .venv/bin/python benchmarks/positions.py                     # both databases
    .venv/bin/python benchmarks/positions.py --db sqlite --seconds 5
    PGURL=postgres://postgres@127.0.0.1:5432 .venv/bin/python benchmarks/positions.py --db pg
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from subprocess import PIPE
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import human, machine_line, table

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"

SETUP = r"""
import datetime as dt, json, sys, time
import django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
if sys.argv[3] == "plain":  # PostgreSQL: back to one plain table (patrol.0004 reversed)
    call_command("migrate", "patrol", "0003", interactive=False, verbosity=0)
from django.db import connection, transaction
from django.utils import timezone
from civicgrid.patrol.ingest import positions_insert
from civicgrid.patrol.models import Device, Position, Shift
from civicgrid.people.models import User
from civicgrid.people.services import api_token_create

rows_wanted, batch = int(sys.argv[1]), int(sys.argv[2])
user = User.objects.create_user(username="walker", password="x-long-bench-password")
Device.objects.create(identifier="BENCH-1", user=user)
start = timezone.now() - dt.timedelta(hours=2)
shift = Shift.objects.create(user=user, started_at=start)
_token, raw_token = api_token_create(user=user, name="bench")
lon, lat = 113.005, 23.01
rows = [(user.pk, shift.pk, start + dt.timedelta(microseconds=i), lon + i * 1e-9, lat, 5.0,
         1.0, None, None, 80.0, "batch", "") for i in range(rows_wanted)]
best = 0.0
for _ in range(3):
    t = time.perf_counter()
    with transaction.atomic():
        positions_insert(rows)
    best = max(best, rows_wanted / (time.perf_counter() - t))
    Position.objects.all().delete()
if connection.vendor == "postgresql":
    # Empty again as a new month's partition is: never analysed. Deleted and analysed, the
    # statistics would say "empty" while the endpoint fills it, and a plan the connection
    # prepared then would keep reading it as one (until autovacuum analyses it again).
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE patrol_position")
with connection.cursor() as cursor:  # what both the raw insert and the endpoint write to
    table = "sqlite table"
    if connection.vendor == "postgresql":
        cursor.execute(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'patrol_position'::regclass"
        )
        parts = cursor.fetchone()[0]
        table = f"partitioned, {parts} partitions" if parts else "plain table"
print(json.dumps({"raw": best, "token": raw_token, "base": int(start.timestamp()) + 60,
                  "table": table}))
"""

# The OsmAnd fix's own work without HTTP or a request: ``services.osmand_fix_plain`` (what
# the front calls) in as many threads as this process's share of the server's, for as long
# as wrk ran; prints the fixes stored. Run once per server worker, side by side.
STATEMENT = r"""
import datetime as dt, sys, threading, time
import django
django.setup()
from django.db import connections
from django.utils import timezone
from civicgrid.patrol import services
from civicgrid.patrol.osmand import Fix
seconds, threads, offset = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
counts = [0] * threads
def work(i):
    step, n = 1e-4, 0
    base = time.time() - 1800 + (offset * threads + i) * 100
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        n += 1
        fix = Fix(time=dt.datetime.fromtimestamp(base + n * step, tz=dt.UTC), lon=113.005,
                  lat=23.01, accuracy=6.0, speed=0.6, bearing=90.0, altitude=12.0, battery=80.0)
        assert services.osmand_fix_plain(identifier="BENCH-1", fix=fix, now=timezone.now())
    counts[i] = n
    connections.close_all()
pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
for t in pool: t.start()
for t in pool: t.join()
print(sum(counts))
"""

COUNT = r"""
import django
django.setup()
from civicgrid.patrol.models import Position
print(Position.objects.count())
"""

OSMAND_LUA = """
request = function()
  return wrk.format("GET", "/osmand/?id=BENCH-1&lat=23.01&lon=113.005&timestamp="
    .. os.time() .. "&speed=1.2&bearing=90&altitude=12&accuracy=6&batt=80")
end
"""

BATCH_LUA = """
-- Every request a new batch whose fixes follow the previous one's, 10 ms apart, as a
-- phone's buffer would: later times append to the (staff, time) index.
local counter = 0
local size = tonumber(os.getenv("BENCH_BATCH"))
local base = tonumber(os.getenv("BENCH_BASE"))
local token = os.getenv("BENCH_TOKEN")
local prefix = tostring(math.random(1, 1000000000))
request = function()
  local parts = {}
  for i = 0, size - 1 do
    local n = counter * size + i
    local stamp = os.date("!%Y-%m-%dT%H:%M:%S", base + math.floor(n / 100))
      .. string.format(".%03dZ", (n % 100) * 10)
    parts[#parts + 1] = string.format(
      '{"lon":%.7f,"lat":23.01,"accuracy":5,"speed":1.0,"battery":80,"time":"%s"}',
      113.005 + (n % 1000) * 1e-7, stamp)
  end
  counter = counter + 1
  return wrk.format("POST", "/api/v1/patrol/positions", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = prefix .. "-" .. counter,
  }, '{"positions":[' .. table.concat(parts, ",") .. ']}')
end
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def prepare_postgres(base: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


@contextlib.contextmanager
def serving(env: dict[str, str], log: Path, code: Path) -> Iterator[int]:
    port = free_port()
    command = [sys.executable, "-m", "civicgrid", "serve", "--addr", f"{HOST}:{port}"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, env=env, cwd=code, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: its workers stop with it
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"the server exited:\n{log.read_text()[-2000:]}")
            health = f"http://{HOST}:{port}/api/v1/health"
            with contextlib.suppress(OSError), urllib.request.urlopen(health, timeout=1):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"the server did not answer:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield port
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


def wrk(
    url: str, seconds: float, connections: int, script: Path | None, env: dict[str, str]
) -> tuple[float, int]:
    """Requests/s and errors (socket errors and non-2xx answers)."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s"]
    if script is not None:
        command += ["-s", str(script)]
    done = subprocess.run(
        [*command, url], capture_output=True, text=True, env=env, timeout=seconds + 60, check=True
    )
    rate = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    if rate is None:
        raise SystemExit(f"could not read wrk's output:\n{done.stdout}\n{done.stderr}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", done.stdout))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", done.stdout)
    return float(rate.group(1)), errors + (int(non2xx.group(1)) if non2xx else 0)


def measure(db: str, args: argparse.Namespace, code: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="positions-") as tmp:
        data = Path(tmp)
        env = {**os.environ, "CIVICGRID_DATA_DIR": str(data), "LOG_LEVEL": "ERROR",
               "DJANGO_SETTINGS_MODULE": "civicgrid.config.settings",
               "PYTHONPATH": os.pathsep.join([str(code), str(ROOT / "benchmarks")])}  # fmt: skip
        env.pop("DATABASE_URL", None)
        env.pop("DEBUG", None)
        if db == "pg":
            base = os.environ.get("PGURL", "postgres://postgres@127.0.0.1:5432")
            url = prepare_postgres(base, "civicgrid_bench_positions")
            env["DATABASE_URL"] = url
        setup = subprocess.run(
            [sys.executable, "-c", SETUP, str(args.rows), str(args.batch), args.pg_table],
            env=env, cwd=code, capture_output=True, text=True,
        )  # fmt: skip
        if setup.returncode:
            raise SystemExit(setup.stderr[-3000:])
        prepared = json.loads(setup.stdout.strip().splitlines()[-1])
        if db == "pg":
            env["DATABASE_URL"] = f"{url}?conn_max_age={args.pg_conn_max_age}"
        (data / "osmand.lua").write_text(OSMAND_LUA)
        (data / "batch.lua").write_text(BATCH_LUA)
        load_env = {**env, "BENCH_TOKEN": prepared["token"], "BENCH_BATCH": str(args.batch),
                    "BENCH_BASE": str(prepared["base"])}  # fmt: skip
        out: dict[str, Any] = {"raw": prepared["raw"], "table": prepared["table"]}
        with serving(env, data / "server.log", code) as port:
            root = f"http://{HOST}:{port}"
            plan = [
                ("trivial", f"{root}/api/v1/health", None),
                ("osmand", f"{root}/osmand/", data / "osmand.lua"),
                ("batch", f"{root}/api/v1/patrol/positions", data / "batch.lua"),
            ]
            for name, url, script in plan:
                wrk(url, 2, args.connections, script, load_env)  # warm-up
                rate, errors = wrk(url, args.seconds, args.connections, script, load_env)
                out[name] = rate * (args.batch if name == "batch" else 1)
                out[f"{name}_errors"] = errors
        full_env = {**env, "DJANGO_SETTINGS_MODULE": "full_stack_settings"}
        with serving(full_env, data / "server-full.log", code) as port:
            url = f"http://{HOST}:{port}/api/v1/health"
            wrk(url, 2, args.connections, None, load_env)  # warm-up
            out["full"], out["full_errors"] = wrk(
                url, args.seconds, args.connections, None, load_env
            )
        # The same fix's work alone, in the server's processes and threads, no HTTP.
        from civicgrid.core.management.commands.serve import POSTGRES_THREADS

        workers, threads = (1, 1) if db == "sqlite" else (os.cpu_count() or 1, POSTGRES_THREADS)
        command = [sys.executable, "-c", STATEMENT, str(args.seconds), str(threads)]
        alone = [
            subprocess.Popen([*command, str(k)], env=env, cwd=code, stdout=PIPE, text=True)
            for k in range(workers)
        ]
        out["alone"] = sum(int(p.communicate()[0].strip()) for p in alone) / args.seconds
        counted = subprocess.run(
            [sys.executable, "-c", COUNT], env=env, cwd=code, capture_output=True, text=True
        )
        out["stored"] = int(counted.stdout.strip() or 0)
        return out


def duty_rate(staff: int, hours: float, every_s: float) -> tuple[int, float]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.config.settings")
    from shapely.geometry import box

    from civicgrid.patrol.duty import duty_figures

    rng = np.random.default_rng(0)
    n = int(hours * 3600 / every_s)
    day = 1_700_000_000.0
    grid = box(113.00, 23.00, 113.01, 23.02)
    houses = list(zip(rng.uniform(113.0, 113.01, 400), rng.uniform(23.0, 23.02, 400), strict=True))
    tracks = []
    for _ in range(staff):
        steps = rng.normal(0, 1e-5, (n, 2)).cumsum(axis=0)
        tracks.append((day + 8 * 3600 + np.arange(n) * every_s, 113.005 + steps[:, 0],
                       23.01 + steps[:, 1], np.zeros(n, dtype=bool)))  # fmt: skip
    started = time.perf_counter()
    for times, lons, lats, flagged in tracks:
        duty_figures(times=times, lons=lons, lats=lats, flagged=flagged, day_start=day,
                     day_end=day + 86_400, grid=grid, houses=houses)  # fmt: skip
    return staff * n, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="both")
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the raw insert")
    parser.add_argument("--batch", type=int, default=500, help="positions per batch request")
    parser.add_argument("--seconds", type=float, default=10.0, help="load per endpoint")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--pg-conn-max-age", type=int, default=60)
    parser.add_argument(
        "--pg-table", choices=["partitioned", "plain"], default="partitioned",
        help="PostgreSQL: the monthly partitions (as migrated) or one plain table; the raw "
        "insert and the endpoint always write to the same table",
    )  # fmt: skip
    parser.add_argument(
        "--before", type=Path, help="also measure this checkout's code, before each database"
    )
    parser.add_argument("--staff", type=int, default=700)
    parser.add_argument("--no-duty", action="store_true", help="skip the duty figures")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed (Debian: apt-get install wrk)")
    print(machine_line())
    rows = []
    codes = [("before", args.before.resolve())] if args.before else []
    codes.append(("after" if args.before else "this", ROOT))
    for db in ["sqlite", "pg"] if args.db == "both" else [args.db]:
        for label, code in codes:
            r = measure(db, args, code)
            errors = sum(
                int(r[f"{name}_errors"]) for name in ("trivial", "osmand", "batch", "full")
            )
            rows.append([label, db, r["table"], human(r["raw"]), human(r["batch"]),
                         f"{r['batch'] / r['raw']:.2f}", human(r["osmand"]), human(r["trivial"]),
                         f"{r['osmand'] / r['trivial']:.2f}", human(r["alone"]),
                         f"{r['alone'] / r['trivial']:.2f}", human(r["full"]),
                         f"{r['osmand'] / r['full']:.2f}", f"{r['stored']:,}", errors])  # fmt: skip
            print(machine_line(), file=sys.stderr)
    print(table(["code", "db", "positions table", "raw rows/s", "batch rows/s", "batch÷raw",
                 "osmand req/s", "trivial req/s", "osmand÷trivial", "fix alone /s",
                 "alone÷trivial", "full-stack req/s",
                 "osmand÷full stack", "rows stored", "errors"], rows))  # fmt: skip
    print(machine_line())
    if not args.no_duty:
        fixes, seconds = duty_rate(args.staff, 8, 10)
        print(f"duty figures: {args.staff} administrators, {fixes:,} fixes in {seconds:.1f} s "
              f"on one core ({human(fixes / seconds)} fixes/s)")  # fmt: skip


if __name__ == "__main__":
    main()
