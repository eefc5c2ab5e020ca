"""Month indicators for all grids: our code vs one hand-written SQL aggregate, same run.

For each database (SQLite file, PostgreSQL) a fresh database is migrated, a township of
120 grids is imported, and ``--cases`` generated cases (default 1,000,000) spread over 12
months are written with their ledger events (report, file, dispatch, dispose, verify,
close; some returned once, some still with the department, some marked overdue). The rows
go straight into the tables, skipping the services (no hash chain: the figures do not read
it): ``COPY ... FROM STDIN`` on PostgreSQL, one prepared ``INSERT`` run over many rows on
SQLite. Then, for the last month, in one process:

- sql: one hand-written aggregate of the month's cohort per grid (reports, filed,
  dispatched, accurately dispatched, disposed, verified, closed, closed without an
  overdue mark) straight from ``cases_case`` and ``cases_caseevent``;
- materialise: ``evaluation.services.figures_materialise`` of the month's days: the ledger
  replay with working-time deadlines of every step, written as daily rows (what the worker
  does once for the days that changed, never per page view);
- read: ``evaluation.selectors.period_counts`` of the month per grid from the daily rows;
- table: ``evaluation.selectors.table_in_scope``: every indicator of every grid for the
  month (the API's and the page's table);
- page: ``GET /evaluation/?level=grid&from=&to=`` for the month as a supervisor, through
  Django's test client (the whole view: the table, the previous month's table, the
  12-month trend, the ranking, the grid map, the template).

The page's trend reads 12 months of daily rows. Replaying a million cases' ledgers to fill
the 11 months before takes far longer than the figures measured here, so those months
hold copies of the measured month's rows (same units, same counts, day shifted): the page
reads as many rows as it would after a real materialisation of the year.

    .venv/bin/python benchmarks/indicators.py                      # both databases, 1 M cases
    .venv/bin/python benchmarks/indicators.py --db sqlite --cases 100000
    .venv/bin/python benchmarks/indicators.py --db pg --keep       # keep the database
    .venv/bin/python benchmarks/indicators.py --db pg --reuse      # measure a kept one again

``--keep`` leaves the PostgreSQL database (``civicgrid_bench_indicators``, or the name in
``CIVICGRID_BENCH_PG_NAME``) or the SQLite
file (in ``--data``, default a directory under the system's temporary one) in place;
``--reuse`` skips generation and materialisation when the kept database holds the cases
(``--reuse --materialise`` rewrites and times the month's rows again). Do not edit or
update the source tree while a run is going: modules imported late would come from the
new tree.
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
PG_NAME = os.environ.get("CIVICGRID_BENCH_PG_NAME", "civicgrid_bench_indicators")

MEASURE = r"""
import datetime as dt, json, random, statistics, sys, time
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from shapely.geometry import box
from civicgrid.cases import services as cases
from civicgrid.cases.models import Case, CaseEvent, Category
from civicgrid.evaluation import services, selectors
from civicgrid.evaluation.models import DailyFigure
from civicgrid.geo.geojson import Feature
from civicgrid.geo.models import Grid, Township
from civicgrid.people.models import Department, Role, RoleGrant, User

wanted, reuse, again = int(sys.argv[1]), sys.argv[2] == "reuse", sys.argv[3] == "materialise"
out = {}
tz = timezone.get_default_timezone()
today = timezone.localdate()
month_first = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
month_last = today.replace(day=1) - dt.timedelta(days=1)
days = [month_first + dt.timedelta(days=d) for d in range((month_last - month_first).days + 1)]


def rows_of(model, template, varying):
    # The columns of ``model`` and a function making one row: the template's values
    # prepared for the database once, the ``varying`` ones (attribute names) per row.
    fields = model._meta.concrete_fields
    prepared = [f.get_db_prep_save(f.pre_save(template, True), connection) for f in fields]
    index = {f.attname: i for i, f in enumerate(fields)}
    slots = [index[name] for name in varying]
    def make(*values):
        row = list(prepared)
        for slot, value in zip(slots, values):
            row[slot] = value
        return row
    return [f.column for f in fields], make


def write(model, columns, rows):
    table_name = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = ", ".join(columns)
            with cursor.cursor.copy(f"COPY {table_name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {table_name} ({', '.join(columns)}) VALUES ({marks})", rows
            )


def generate():
    villages, grids = [], []
    for v in range(12):
        x0 = 113.0 + v * 0.02
        villages.append(Feature(v + 1, {"code": f"{v + 1:03d}", "name": f"V{v + 1}"},
                                box(x0, 23.0, x0 + 0.02, 23.02)))
        for g in range(10):
            y0 = 23.0 + g * 0.002
            grids.append(Feature(len(grids) + 1, {"village": f"{v + 1:03d}", "households": 400},
                                 box(x0, y0, x0 + 0.02, y0 + 0.002)))
    from civicgrid.geo.services import boundaries_import
    township = boundaries_import(township_code="441900123", township_name="Bench",
                                 villages=villages, grids=grids).township
    cases.taxonomy_seed()
    cases.calendar_seed(township=township, years=[today.year - 1, today.year])
    Department.objects.create(township=township, code="URBAN", name="Urban", areas=["07"])
    category = Category.objects.get(code="0702")
    grid_rows = list(Grid.objects.filter(division__status="active").values_list("pk", "village_id"))
    first_month = (today.replace(day=1) - dt.timedelta(days=365)).replace(day=1)
    start = dt.datetime.combine(first_month, dt.time(0), tzinfo=tz)
    # Every event in the past: the last case is reported at least 10 hours before now.
    end = min(dt.datetime.combine(today.replace(day=1), dt.time(0), tzinfo=tz),
              timezone.now() - dt.timedelta(hours=10))
    span = (end - start).total_seconds()
    rng = random.Random(0)
    H = dt.timedelta(hours=1)
    case_columns, case_row = rows_of(
        Case,
        Case(number="B", township=township, village_id=grid_rows[0][1], grid_id=grid_rows[0][0],
             category=category, state="closed", description="x", lon=113.0, lat=23.0,
             reporter_kind="grid_admin", reported_at=start),
        ["id", "number", "village_id", "grid_id", "reported_at"],
    )
    event_columns, event_row = rows_of(
        CaseEvent,
        CaseEvent(case_id=1, seq=1, at=start, role="system", action="report", to_state="closed",
                  payload={}, position=1, hash="-"),
        ["id", "case_id", "seq", "at", "action", "payload", "position"],
    )
    adapt = lambda moment: connection.ops.adapt_datetimefield_value(moment)
    payload = lambda value: connection.ops.adapt_json_value(value, None)
    REPORT = {"category": "0702", "urgency": "normal"}
    URBAN = {"department": "URBAN"}
    plans = []
    t = time.perf_counter()

    def case_rows():
        for pk in range(1, wanted + 1):
            grid, village = grid_rows[rng.randrange(len(grid_rows))]
            at = start + dt.timedelta(seconds=rng.random() * span)
            plans.append((pk, at, rng.random()))
            yield case_row(pk, f"B{pk - 1:010d}", village, grid, adapt(at))

    def event_rows():
        position = 0
        for pk, at, r in plans:
            steps = [("report", REPORT, 0), ("file", {}, 1), ("dispatch", URBAN, 2)]
            if r < 0.05:
                steps += [("return", {}, 3), ("dispatch", URBAN, 4)]
            if r < 0.10 or r > 0.2:
                steps += [("dispose", {}, 6), ("verify_pass", {}, 8), ("close", {}, 9)]
            if 0.10 <= r < 0.15:
                steps.insert(3, ("mark_overdue", {}, 5))
            for seq, (action, data, hours) in enumerate(steps, start=1):
                position += 1
                yield event_row(position, pk, seq, adapt(at + hours * H), action, payload(data),
                                position)
        out["events"] = position

    indexes = []
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # Millions of rows in one transaction: with SQLite's default 2 MB page cache the
            # indexes no longer fit and every batch spills and re-reads them (a run at 1 M
            # wrote 33 GB and was far from done after 34 minutes). 2 GB while writing, no
            # journal and no flush (a generator's file is thrown away if it fails), and the
            # two tables' secondary indexes dropped while writing and built once after from
            # sorted keys instead of millions of random inserts into B-trees.
            cursor.execute("PRAGMA cache_size = -2000000")
            cursor.execute("PRAGMA journal_mode = OFF")
            cursor.execute("PRAGMA synchronous = OFF")
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                           "tbl_name IN ('cases_case', 'cases_caseevent') AND sql IS NOT NULL")
            indexes = cursor.fetchall()
    with transaction.atomic():
        with connection.cursor() as cursor:
            for name, _ in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
        write(Case, case_columns, case_rows())
        write(CaseEvent, event_columns, event_rows())
        with connection.cursor() as cursor:
            for _, sql in indexes:
                cursor.execute(sql)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA cache_size = -2000")  # the default again, for the reads
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for name in ("cases_case", "cases_caseevent"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                               f"(SELECT MAX(id) FROM {name}))")
                cursor.execute(f"ANALYZE {name}")
    out["generate_s"] = time.perf_counter() - t


def copy_month_back():
    # The 11 months before hold the measured month's rows with the day shifted (see above).
    rows = list(DailyFigure.objects.filter(day__gte=month_first, day__lte=month_last))
    made = []
    for back in range(1, 12):
        first = selectors.month_start(month_first, back)
        following = selectors.month_start(month_first, back - 1)
        for row in rows:
            day = first + dt.timedelta(days=row.day.day - 1)
            if day >= following:
                continue
            row.pk = None
            made.append(DailyFigure(**{f.attname: getattr(row, f.attname)
                                       for f in DailyFigure._meta.concrete_fields
                                       if f.attname != "id"} | {"day": day}))
    DailyFigure.objects.filter(day__lt=month_first).delete()
    DailyFigure.objects.bulk_create(made, batch_size=2000)


if reuse and Case.objects.exists():
    out["reused"] = True
    out["events"] = CaseEvent.objects.count()
    if again:  # the month's rows rewritten (the copies of the months before stay)
        t = time.perf_counter()
        services.figures_materialise(days=days)
        out["materialise_s"] = time.perf_counter() - t
else:
    generate()
    t = time.perf_counter()
    services.figures_materialise(days=days)
    out["materialise_s"] = time.perf_counter() - t
    copy_month_back()
out["cases"] = Case.objects.count()
township = Township.objects.get()
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

def median(func, repeat=5):
    func()  # warm: the first call pays for caches and the database's buffers
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result

out["sql_s"], rows = median(bare_sql, repeat=3)
out["month_cases"] = sum(r[1] for r in rows)
scope = selectors.Scope(frozenset(selectors.LEVELS), None)
period = selectors.Period(month_first, month_last)
out["read_s"], totals = median(lambda: selectors.period_counts(scope, "grid", period))
out["table_s"], _ = median(lambda: selectors.table_in_scope(scope, "grid", period))
out["daily_rows"] = DailyFigure.objects.filter(day__gte=month_first, day__lte=month_last).count()
out["year_rows"] = DailyFigure.objects.count()

settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
supervisor = User.objects.filter(username="bench-supervisor").first()
if supervisor is None:
    supervisor = User.objects.create_user("bench-supervisor", password="x", township=township)
    RoleGrant.objects.create(user=supervisor, role=Role.SUPERVISOR)
client = Client()
client.force_login(supervisor)
url = f"/evaluation/?level=grid&from={month_first}&to={month_last}"
def page():
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response
out["page_s"], response = median(page)
out["page_rows"] = response.content.decode().count("<tr")
# The same figures both ways (closed without an overdue mark aside: ours uses deadlines).
sql_closed = {r[0]: (r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows}
ours = {g: (c.reports, c.filed, c.dispatched, c.dispatched_accurately, c.disposed, c.verified,
            c.closed) for g, c in totals.items()}
out["same_figures"] = sql_closed == ours
out["differences"] = [(g, sql_closed.get(g), ours.get(g)) for g in set(sql_closed) | set(ours)
                      if sql_closed.get(g) != ours.get(g)][:3]
print(json.dumps(out))
"""


def prepare_postgres(base: str, name: str, *, reuse: bool) -> str:
    import psycopg

    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not (reuse and exists):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def drop_postgres(base: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def measure(
    db: str, cases: int, *, keep: bool, reuse: bool, data: str | None, materialise: bool
) -> dict:
    kept = data or os.path.join(tempfile.gettempdir(), "civicgrid-bench-indicators")
    with tempfile.TemporaryDirectory(prefix="indicators-") as scratch:
        folder = kept if (keep or reuse) else scratch
        os.makedirs(folder, exist_ok=True)
        env = {**os.environ, "CIVICGRID_DATA_DIR": folder, "LOG_LEVEL": "ERROR",
               "DJANGO_SETTINGS_MODULE": "civicgrid.config.settings"}  # fmt: skip
        env.pop("DATABASE_URL", None)
        base = os.environ.get("PGURL", "postgres://postgres@127.0.0.1:5432")
        if db == "pg":
            env["DATABASE_URL"] = prepare_postgres(base, PG_NAME, reuse=reuse)
        else:
            sqlite = Path(folder) / "civicgrid.sqlite3"
            if not reuse and sqlite.exists():
                sqlite.unlink()
        command = [
            sys.executable,
            "-c",
            MEASURE,
            str(cases),
            "reuse" if reuse else "new",
            "materialise" if materialise else "-",
        ]
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
        if db == "pg" and not (keep or reuse):
            drop_postgres(base, PG_NAME)
        if done.returncode:
            raise SystemExit(done.stderr[-3000:])
        return json.loads(done.stdout.strip().splitlines()[-1])


def ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="both")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="measure a kept database again")
    parser.add_argument("--data", help="folder of the kept SQLite file")
    parser.add_argument(
        "--materialise",
        action="store_true",
        help="with --reuse: materialise the month again and time it",
    )
    args = parser.parse_args()
    print(machine_line())
    rows, sizes = [], []
    for db in ["sqlite", "pg"] if args.db == "both" else [args.db]:
        r = measure(
            db,
            args.cases,
            keep=args.keep,
            reuse=args.reuse,
            data=args.data,
            materialise=args.materialise,
        )
        print(json.dumps({"db": db, **r}), flush=True)
        sizes.append([db, f"{r['cases']:,}", f"{r['events']:,}", f"{r['month_cases']:,}",
                      ms(r.get("generate_s")), ms(r.get("materialise_s")),
                      f"{r['daily_rows']:,}", f"{r['year_rows']:,}",
                      "yes" if r["same_figures"] else "NO"])  # fmt: skip
        rows.append([db, ms(r["sql_s"]), f"{r['read_s'] * 1000:.1f}",
                     f"{r['read_s'] / r['sql_s']:.3f}", f"{r['table_s'] * 1000:.1f}",
                     f"{r['table_s'] / r['sql_s']:.3f}",
                     ms(r.get("materialise_s")),
                     "-" if r.get("materialise_s") is None
                     else f"{r['materialise_s'] / r['sql_s']:.1f}",
                     f"{r['page_s'] * 1000:.0f}",
                     "yes" if r["page_s"] < 0.3 else "no"])  # fmt: skip
    print(table(["db", "cases", "events", "month's cases", "generate ms", "materialise ms",
                 "month's daily rows", "year's daily rows", "same figures"], sizes))  # fmt: skip
    print()
    print(table(["db", "sql ms", "read ms", "read÷sql", "table ms", "table÷sql",
                 "materialise ms", "materialise÷sql", "page ms", "page < 300 ms"],
                rows))  # fmt: skip


if __name__ == "__main__":
    main()
