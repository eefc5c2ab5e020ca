"""Position ingestion and daily duty figures: rates side by side, measured in one run.

For each database (SQLite file, PostgreSQL) a fresh database is migrated and, in one
process, the script measures:

- raw: ``patrol.ingest.positions_insert`` of the rows straight (executemany / COPY);
- batch: ``POST /api/v1/patrol/positions`` with 500 positions per request (Idempotency-Key,
  shift check, plausibility flags, bulk insert), rows/s;
- osmand: ``GET /osmand/?id=…&lat=…&lon=…&timestamp=…`` one position per request, requests/s;
- trivial: ``GET /api/v1/health`` through the same handler, requests/s.

Requests go through Django's in-process test client (the full middleware stack and URL
routing, no HTTP server and no network): the ratios compare endpoints under the same
handler; they are not server throughput (see ``case_loop.py`` for that).

Then, without a database, ``patrol.duty.duty_figures`` for 700 administrators × 8 h × one
fix per 10 s (2,016,000 fixes) on one core.

    .venv/bin/python benchmarks/positions.py                 # both databases
    .venv/bin/python benchmarks/positions.py --db sqlite --rows 50000 --requests 1000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import human, machine_line, table

ROOT = Path(__file__).resolve().parent.parent

MEASURE = r"""
import datetime as dt, json, sys, time, uuid
import django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from django.db import transaction
from django.test import Client
from django.utils import timezone
from civicgrid.patrol.ingest import positions_insert
from civicgrid.patrol.models import Device, Position, Shift
from civicgrid.people.models import User

rows_wanted, requests_wanted = int(sys.argv[1]), int(sys.argv[2])
user = User.objects.create_user(username="walker", password="x-long-bench-password")
Device.objects.create(identifier="BENCH-1", user=user)
start = timezone.now() - dt.timedelta(hours=11)
shift = Shift.objects.create(user=user, started_at=start)
lon, lat = 113.005, 23.01
out = {}

rows = [(user.pk, shift.pk, start + dt.timedelta(microseconds=i), lon + i * 1e-9, lat, 5.0,
         1.0, None, None, 80.0, "batch", "") for i in range(rows_wanted)]
t = time.perf_counter()
with transaction.atomic():
    positions_insert(rows)
out["raw"] = rows_wanted / (time.perf_counter() - t)
Position.objects.all().delete()

client = Client(HTTP_HOST="localhost")
client.force_login(user)
batch_size = 500
base = start + dt.timedelta(hours=1)
bodies = []
for b in range(rows_wanted // batch_size):
    bodies.append(json.dumps({"positions": [
        {"lon": lon, "lat": lat, "accuracy": 5, "speed": 1.0,
         "time": (base + dt.timedelta(milliseconds=b * batch_size + i)).isoformat()}
        for i in range(batch_size)]}))
t = time.perf_counter()
for body in bodies:
    r = client.post("/api/v1/patrol/positions", body, content_type="application/json",
                    headers={"idempotency-key": uuid.uuid4().hex})
    assert r.status_code == 200, r.content
out["batch"] = len(bodies) * batch_size / (time.perf_counter() - t)
assert Position.objects.count() == len(bodies) * batch_size

anonymous = Client(HTTP_HOST="localhost")
now = int(timezone.now().timestamp())
for i in range(20):  # warm-up: first requests import modules and fill caches
    anonymous.get("/osmand/", {"id": "BENCH-1", "lat": lat, "lon": lon, "timestamp": now})
    anonymous.get("/api/v1/health")
t = time.perf_counter()
for i in range(requests_wanted):
    r = anonymous.get("/osmand/", {"id": "BENCH-1", "lat": lat, "lon": lon, "timestamp": now,
                                   "speed": 1, "batt": 80})
    assert r.status_code == 200, r.content
out["osmand"] = requests_wanted / (time.perf_counter() - t)
t = time.perf_counter()
for i in range(requests_wanted):
    assert anonymous.get("/api/v1/health").status_code == 200
out["trivial"] = requests_wanted / (time.perf_counter() - t)
print(json.dumps(out))
"""


def prepare_postgres(base: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def measure(db: str, rows: int, requests: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="positions-") as data:
        env = {**os.environ, "CIVICGRID_DATA_DIR": data, "LOG_LEVEL": "ERROR",
               "DJANGO_SETTINGS_MODULE": "civicgrid.config.settings"}  # fmt: skip
        env.pop("DATABASE_URL", None)
        if db == "pg":
            base = os.environ.get("PGURL", "postgres://postgres@127.0.0.1:5432")
            env["DATABASE_URL"] = prepare_postgres(base, "civicgrid_bench_positions")
        command = [sys.executable, "-c", MEASURE, str(rows), str(requests)]
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(done.stderr[-3000:])
        return json.loads(done.stdout.strip().splitlines()[-1])


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
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--staff", type=int, default=700)
    args = parser.parse_args()
    print(machine_line())
    rows = []
    for db in ["sqlite", "pg"] if args.db == "both" else [args.db]:
        r = measure(db, args.rows, args.requests)
        batch_ratio = f"{r['batch'] / r['raw']:.2f}"
        osmand_ratio = f"{r['osmand'] / r['trivial']:.2f}"
        rows.append([db, human(r["raw"]), human(r["batch"]), batch_ratio,
                     human(r["osmand"]), human(r["trivial"]), osmand_ratio])  # fmt: skip
    print(table(["db", "raw rows/s", "batch rows/s", "batch÷raw", "osmand req/s",
                 "trivial req/s", "osmand÷trivial"], rows))  # fmt: skip
    fixes, seconds = duty_rate(args.staff, 8, 10)
    print(f"duty figures: {args.staff} administrators, {fixes:,} fixes in {seconds:.1f} s "
          f"on one core ({human(fixes / seconds)} fixes/s)")  # fmt: skip


if __name__ == "__main__":
    main()
