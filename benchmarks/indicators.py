"""Month indicators for all grids: our code vs one hand-written SQL aggregate, same run.

For each database (SQLite file, PostgreSQL) a fresh database is migrated, a township of
120 grids is imported, and ``--cases`` generated cases (default 1,000,000) spread over 12
months are written with their ledger events (report, file, dispatch, dispose, verify,
close; some returned once, some still with the department, some marked overdue) by bulk
inserts that skip the services (no hash chain: the figures do not read it). Then, for the
last month, in one process:

- sql: one hand-written aggregate of the month's cohort per grid (reports, filed,
  dispatched, accurately dispatched, disposed, verified, closed, closed without an
  overdue mark) straight from ``cases_case`` and ``cases_caseevent``;
- compute: ``evaluation.services.figures_compute`` for the month's days: the ledger replay
  with working-time deadlines of every step (what the materialisation costs, once a day);
- read: ``evaluation.selectors.period_counts`` of the month per grid from the materialised
  daily rows (what the page and the API do).

    .venv/bin/python benchmarks/indicators.py                      # both databases, 1 M cases
    .venv/bin/python benchmarks/indicators.py --db sqlite --cases 100000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_line, table

ROOT = Path(__file__).resolve().parent.parent

MEASURE = r"""
import datetime as dt, json, random, sys, time
import django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from django.db import connection, transaction
from django.utils import timezone
from shapely.geometry import box
from civicgrid.cases import services as cases
from civicgrid.cases.models import Case, CaseEvent, Category
from civicgrid.evaluation import services, selectors
from civicgrid.evaluation.models import DailyFigure
from civicgrid.geo.geojson import Feature
from civicgrid.geo.models import Grid
from civicgrid.geo.services import boundaries_import
from civicgrid.people.models import Department

wanted = int(sys.argv[1])
villages, grids = [], []
for v in range(12):
    x0 = 113.0 + v * 0.02
    villages.append(Feature(v + 1, {"code": f"{v + 1:03d}", "name": f"V{v + 1}"},
                            box(x0, 23.0, x0 + 0.02, 23.02)))
    for g in range(10):
        y0 = 23.0 + g * 0.002
        grids.append(Feature(len(grids) + 1, {"village": f"{v + 1:03d}", "households": 400},
                             box(x0, y0, x0 + 0.02, y0 + 0.002)))
township = boundaries_import(township_code="441900123", township_name="Bench",
                             villages=villages, grids=grids).township
cases.taxonomy_seed()
today = timezone.localdate()
cases.calendar_seed(township=township, years=[today.year - 1, today.year])
Department.objects.create(township=township, code="URBAN", name="Urban", areas=["07"])
category = Category.objects.get(code="0702")
grid_rows = list(Grid.objects.filter(division__status="active").values_list("pk", "village_id"))
tz = timezone.get_default_timezone()
first_month = (today.replace(day=1) - dt.timedelta(days=365)).replace(day=1)
start = dt.datetime.combine(first_month, dt.time(0), tzinfo=tz)
# Every event in the past: the last case is reported at least 10 hours before now.
end = min(dt.datetime.combine(today.replace(day=1), dt.time(0), tzinfo=tz),
          timezone.now() - dt.timedelta(hours=10))
span = (end - start).total_seconds()
rng = random.Random(0)
H = dt.timedelta(hours=1)
position = 0
t = time.perf_counter()
BATCH = 5000
made = 0
while made < wanted:
    n = min(BATCH, wanted - made)
    batch = []
    for i in range(n):
        grid, village = grid_rows[rng.randrange(len(grid_rows))]
        at = start + dt.timedelta(seconds=rng.random() * span)
        batch.append(Case(number=f"B{made + i:010d}", township=township, village_id=village,
                          grid_id=grid, category=category, state="closed", description="x",
                          lon=113.0, lat=23.0, reporter_kind="grid_admin", reported_at=at))
    with transaction.atomic():
        Case.objects.bulk_create(batch, batch_size=BATCH)
        events = []
        for case in batch:
            r = rng.random()
            steps = [("report", {"category": "0702", "urgency": "normal"}, 0), ("file", {}, 1),
                     ("dispatch", {"department": "URBAN"}, 2)]
            if r < 0.05:
                steps += [("return", {}, 3), ("dispatch", {"department": "URBAN"}, 4)]
            if r < 0.10 or r > 0.2:
                steps += [("dispose", {}, 6), ("verify_pass", {}, 8), ("close", {}, 9)]
            if 0.10 <= r < 0.15:
                steps.insert(3, ("mark_overdue", {}, 5))
            for seq, (action, payload, hours) in enumerate(steps, start=1):
                position += 1
                events.append(CaseEvent(case_id=case.pk, seq=seq, at=case.reported_at + hours * H,
                                        role="system", action=action, to_state="closed",
                                        payload=payload, position=position, hash="-"))
        CaseEvent.objects.bulk_create(events, batch_size=BATCH)
    made += n
out = {"cases": made, "events": position, "generate_s": time.perf_counter() - t}

month_first = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
month_last = today.replace(day=1) - dt.timedelta(days=1)
days = [month_first + dt.timedelta(days=d) for d in range((month_last - month_first).days + 1)]
lo = dt.datetime.combine(month_first, dt.time(0), tzinfo=tz)
hi = dt.datetime.combine(month_last + dt.timedelta(days=1), dt.time(0), tzinfo=tz)

SQL = '''
SELECT grid_id, COUNT(*), SUM(filed), SUM(dispatched), SUM(dispatched * (1 - returned)),
       SUM(disposed), SUM(verified), SUM(closed), SUM(closed * (1 - late))
FROM (
  SELECT c.grid_id AS grid_id,
    MAX(CASE WHEN e.action = 'file' THEN 1 ELSE 0 END) AS filed,
    MAX(CASE WHEN e.action = 'dispatch' THEN 1 ELSE 0 END) AS dispatched,
    MAX(CASE WHEN e.action = 'return' THEN 1 ELSE 0 END) AS returned,
    MAX(CASE WHEN e.action = 'dispose' THEN 1 ELSE 0 END) AS disposed,
    MAX(CASE WHEN e.action = 'verify_pass' THEN 1 ELSE 0 END) AS verified,
    MAX(CASE WHEN e.action = 'close' THEN 1 ELSE 0 END) AS closed,
    MAX(CASE WHEN e.action = 'mark_overdue' THEN 1 ELSE 0 END) AS late
  FROM cases_case c JOIN cases_caseevent e ON e.case_id = c.id
  WHERE c.reported_at >= %s AND c.reported_at < %s
  GROUP BY c.id, c.grid_id
) per_case
GROUP BY grid_id
'''
def bare_sql():
    with connection.cursor() as cursor:
        bounds = [connection.ops.adapt_datetimefield_value(x) for x in (lo, hi)]
        cursor.execute(SQL, bounds)
        return cursor.fetchall()

def best(func, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - t)
    return min(times), result

out["sql_s"], rows = best(bare_sql)
out["month_cases"] = sum(r[1] for r in rows)
out["compute_s"], units = best(lambda: services.figures_compute(days), repeat=1)
services.figures_materialise(days=days)
scope = selectors.Scope(frozenset(selectors.LEVELS), None)
period = selectors.Period(month_first, month_last)
out["read_s"], totals = best(lambda: selectors.period_counts(scope, "grid", period))
out["daily_rows"] = DailyFigure.objects.filter(day__gte=month_first, day__lte=month_last).count()
# The same figures both ways (closed without an overdue mark aside: ours uses deadlines).
sql_closed = {r[0]: (r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows}
ours = {g: (c.reports, c.filed, c.dispatched, c.dispatched_accurately, c.disposed, c.verified,
            c.closed) for g, c in totals.items()}
out["same_figures"] = sql_closed == ours
out["differences"] = [(g, sql_closed.get(g), ours.get(g)) for g in set(sql_closed) | set(ours)
                      if sql_closed.get(g) != ours.get(g)][:3]
print(json.dumps(out))
"""


def prepare_postgres(base: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def measure(db: str, cases: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="indicators-") as data:
        env = {**os.environ, "CIVICGRID_DATA_DIR": data, "LOG_LEVEL": "ERROR",
               "DJANGO_SETTINGS_MODULE": "civicgrid.config.settings"}  # fmt: skip
        env.pop("DATABASE_URL", None)
        if db == "pg":
            base = os.environ.get("PGURL", "postgres://postgres@127.0.0.1:5432")
            env["DATABASE_URL"] = prepare_postgres(base, "civicgrid_bench_indicators")
        command = [sys.executable, "-c", MEASURE, str(cases)]
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(done.stderr[-3000:])
        return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="both")
    parser.add_argument("--cases", type=int, default=1_000_000)
    args = parser.parse_args()
    print(machine_line())
    rows = []
    for db in ["sqlite", "pg"] if args.db == "both" else [args.db]:
        r = measure(db, args.cases)
        rows.append([db, f"{r['cases']:,}", f"{r['events']:,}", f"{r['month_cases']:,}",
                     f"{r['sql_s'] * 1000:.0f}", f"{r['compute_s'] * 1000:.0f}",
                     f"{r['compute_s'] / r['sql_s']:.1f}", f"{r['read_s'] * 1000:.1f}",
                     f"{r['read_s'] / r['sql_s']:.3f}", f"{r['daily_rows']:,}",
                     "yes" if r["same_figures"] else "NO"])  # fmt: skip
    print(table(["db", "cases", "events", "month's cases", "sql ms", "compute ms",
                 "compute÷sql", "read ms", "read÷sql", "daily rows", "same figures"],
                rows))  # fmt: skip


if __name__ == "__main__":
    main()
