"""A synthetic city on PostgreSQL under a mixed load (locust), measured (issue 21).

Two phases, both against one PostgreSQL database (``--db-name``, default ``civicgrid_city``):

build
    The database is created and migrated (the normal schema: whatever partitioning the
    migrations set up is used). One township of ``--scale`` × (200 villages × 50 grids,
    50,000 staff, 30 M case events over the past year) is written:

    - villages and grids through ``geo.services.boundaries_import`` (the real import);
    - the taxonomy, the working calendar, one department;
    - the load's own accounts through the people services (certified grid administrators
      assigned to their grids, dispatchers, department officers, supervisors, patrol staff
      with an open shift), API tokens and signed-in sessions;
    - the rest of the staff (users, role grants, grid assignments) with ``COPY``;
    - a year of cases and their ledger events with ``INSERT … SELECT`` inside PostgreSQL
      (no hash chain: the load and the pages do not read it; the ledger head is moved past
      the generated events so new actions append). Cases older than two days are closed
      (6 events; 1 in 20 returned once, 8 events; 1 in 20 marked overdue, 7 events); a
      third of the last two days' cases are still open at some step;
    - the last 7 days' evaluation figures materialised, as the worker keeps them.

    ``--scale township`` builds the township's real size instead: 117 grids in 12 villages,
    700 staff and the same history per grid (about 350,000 events).

load
    Two app-server processes (``civicgrid serve --workers 1``: granian, with the serve
    command's threads for the database, 4 on PostgreSQL, each on its own port, as behind
    a proxy) and one ``civicgrid worker`` are started, and locust
    runs headless on the same machine for ``--seconds`` with these users:

    - case loops: report → file → dispatch → dispose → verify_pass → close over the API,
      paced to ``--actions`` case actions per second in all;
    - positions: ``POST /api/v1/patrol/positions`` batches of ``--batch`` fixes, paced to
      ``--positions`` fixes per second in all;
    - dispatchers: the center's queue page, its counts and the map's GeoJSON, each
      dispatcher every ``--refresh`` seconds;
    - supervisors: the evaluation page every 15 s.

    While it runs, once a second: the machine's CPU (user+system, iowait), the CPU of the
    app servers, the worker, this database's PostgreSQL backends and locust, and what the
    database's active backends wait for. Printed: per request kind the requests, requests/s,
    p50/p95/p99 and errors; the achieved rates beside the targets; the database's size; the
    resource use, and which resource saturated first (the machine's CPU when it was busy in
    most samples, and the part of this run that took most of it; the disk when iowait was
    high; the database's locks when its backends waited mostly on them). After the load,
    each read page is requested ``--probe`` times in a row (no load but what else runs on
    the machine): the page's own cost beside its figures under load. Each request goes to
    the app server and then, through Django's handler in a process of its own, to the same
    page in-process, in turn: what HTTP and the server add, measured in the same minutes
    (with the server's CPU per request, and the in-process CPU, SQL time and statements).

    .venv/bin/pip install -e '.[bench]'                             # locust
    .venv/bin/python benchmarks/city.py --scale 0.1                 # build, then load 120 s
    .venv/bin/python benchmarks/city.py --scale township --actions 0.5 --positions 70
    .venv/bin/python benchmarks/city.py --reuse --seconds 300       # load a kept database
    .venv/bin/python benchmarks/city.py --scale 0.1 --drop          # drop it afterwards

Only loopback traffic; every loop is bounded by ``--seconds``. The machine this runs on is
named in the output (CPU count, load average): on a shared machine other processes' CPU is
reported as "others".
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import human, load_average, machine_line, table

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"

CITY = {"villages": 200, "grids_per_village": 50, "staff": 50_000, "events": 30_000_000}
TOWNSHIP = {"villages": 12, "grids": 117, "staff": 700, "events": 351_000}
EVENTS_PER_CASE = 6.15  # 18 of 20 closed with 6 events, one with 8, one with 7
OPEN_WINDOW_DAYS = 2


def sizes(scale: str) -> dict[str, int]:
    if scale == "township":
        return dict(TOWNSHIP)
    factor = float(scale)
    villages = max(1, round(CITY["villages"] * factor))
    return {
        "villages": villages,
        "grids": villages * CITY["grids_per_village"],
        "staff": max(50, round(CITY["staff"] * factor)),
        "events": max(1000, round(CITY["events"] * factor)),
    }


# --- build (runs in a child process with Django set up) -------------------------------


def build(scale: str, history_days: int, out: Path) -> None:
    import datetime as dt
    import random

    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.utils import timezone
    from shapely.geometry import box

    from civicgrid.cases.models import Case, CaseEvent, Category, LedgerHead
    from civicgrid.cases.services import calendar_seed, taxonomy_seed
    from civicgrid.evaluation.services import figures_materialise
    from civicgrid.geo.geojson import Feature
    from civicgrid.geo.models import Grid
    from civicgrid.geo.services import boundaries_import
    from civicgrid.patrol.models import Shift
    from civicgrid.people import services as people
    from civicgrid.people.models import GridAssignment, RoleGrant, User

    want = sizes(scale)
    want["events"] = round(want["events"] * history_days / 365)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 1)
        clock = now
        print(f"  {name}: {timings[name]} s", flush=True)

    call_command("migrate", interactive=False, verbosity=0)
    lap("migrate")

    # Villages on a 20-wide lattice of 0.05° squares, each cut into up to 10 grids a row.
    count, extra = divmod(want["grids"], want["villages"])
    villages: list[Feature] = []
    grids: list[Feature] = []
    for v in range(want["villages"]):
        x0, y0, side = 113.0 + (v % 20) * 0.05, 22.5 + (v // 20) * 0.05, 0.05
        code = f"{v + 1:03d}"
        villages.append(Feature(v + 1, {"code": code, "name": f"村{v + 1}"},
                                box(x0, y0, x0 + side, y0 + side)))  # fmt: skip
        k = count + (1 if v < extra else 0)
        cols = min(10, k)
        rows = math.ceil(k / cols)
        for j in range(k):
            r, c = divmod(j, cols)
            # The last grid takes the rest of its row: the village is covered, no gaps.
            x1 = x0 + side if j == k - 1 else x0 + (c + 1) * side / cols
            shape = box(x0 + c * side / cols, y0 + r * side / rows, x1, y0 + (r + 1) * side / rows)
            grids.append(Feature(len(grids) + 1, {"village": code, "households": 400}, shape))
    town = boundaries_import(
        township_code="441900123", township_name="基准市", villages=villages, grids=grids
    ).township
    taxonomy_seed()
    today = timezone.localdate()
    calendar_seed(township=town, years=[today.year - 1, today.year])
    urban = people.department_create(
        township=town, code="URBAN", name="城管", areas=["urban_management"], actor=None
    )
    lap("boundaries, taxonomy, calendar")

    grid_rows = list(
        Grid.objects.filter(division__status="active")
        .order_by("code")
        .values_list("pk", "village_id", "code", "min_lon", "max_lon", "min_lat", "max_lat")
    )
    centres = {r[0]: ((r[3] + r[4]) / 2, (r[5] + r[6]) / 2) for r in grid_rows}
    lap("grid centres")

    # The load's own accounts, through the services.
    start = today - dt.timedelta(days=30)
    grid_by_pk = {g.pk: g for g in Grid.objects.filter(division__status="active")}
    n_admins = min(len(grid_rows), 40)
    step = max(1, len(grid_rows) // n_admins)
    chosen = [grid_rows[i * step] for i in range(n_admins)]

    def make(name: str, role: str, **places: Any) -> User:
        return people.staff_create(
            username=name, full_name="负载", roles=[role], actor=None, **places
        )

    client = Client()

    def session_of(user: User) -> str:
        client.force_login(user, backend="civicgrid.people.backends.StaffModelBackend")
        value = client.cookies["sessionid"].value
        client.cookies.clear()
        return value

    def token_of(user: User) -> str:
        return people.api_token_create(user=user, name="city")[1]

    actors: dict[str, Any] = {"admins": [], "walkers": []}
    for n, (pk, _village, code, *_box) in enumerate(chosen):
        admin = make(f"load_admin_{n:03d}", "grid_admin")
        people.training_record(user=admin, course="培训", completed_on=start, actor=None)
        people.examination_record(user=admin, taken_on=start, score=90, actor=None)
        people.work_permit_issue(user=admin, number=f"CITY-{n}", issued_on=start,
                                 expires_on=start + dt.timedelta(days=365), actor=None)  # fmt: skip
        people.grid_assignment_create(user=admin, grid=grid_by_pk[pk], position="administrator",
                                      starts_on=start, actor=None)  # fmt: skip
        lon, lat = centres[pk]
        actors["admins"].append({"token": token_of(admin), "lon": lon, "lat": lat, "grid": code})
    dispatchers = [make(f"load_dispatcher_{n}", "dispatcher", township=town) for n in range(20)]
    officers = [make(f"load_officer_{n}", "department_officer", department=urban)
                for n in range(4)]  # fmt: skip
    supervisors = [make(f"load_supervisor_{n}", "supervisor", township=town) for n in range(4)]
    actors["dispatcher_tokens"] = [token_of(u) for u in dispatchers[:4]]
    actors["officer_tokens"] = [token_of(u) for u in officers]
    actors["dispatcher_sessions"] = [session_of(u) for u in dispatchers]
    actors["supervisor_sessions"] = [session_of(u) for u in supervisors]
    for n in range(60):
        walker = make(f"load_walker_{n:03d}", "grid_admin")
        Shift.objects.create(user=walker, started_at=timezone.now() - dt.timedelta(hours=1))
        lon, lat = centres[chosen[n % len(chosen)][0]]
        actors["walkers"].append({"token": token_of(walker), "lon": lon, "lat": lat})
    lap("load accounts (services)")

    def constants(model: Any, template: Any) -> dict[str, tuple[Any, str]]:
        """Each concrete column's value for ``template``, prepared, with its SQL type."""
        found = {}
        for field in model._meta.concrete_fields:
            if getattr(field, "generated", False):
                continue
            value = field.get_db_prep_save(field.pre_save(template, True), connection)
            found[field.column] = (value, field.db_type(connection) or "text")
        return found

    def insert_select(model: Any, template: Any, exprs: dict[str, str], tail: str,
                      params: dict[str, Any]) -> int:  # fmt: skip
        """``INSERT INTO table (…) SELECT …`` with ``exprs`` per column, the rest constant."""
        cols, select = [], []
        values = dict(params)
        for column, (value, db_type) in constants(model, template).items():
            if column in exprs:
                select.append(exprs[column])
            elif column == model._meta.pk.column:
                continue  # the database numbers it
            else:
                values[f"c_{column}"] = value
                select.append(f"%(c_{column})s::{db_type}")
            cols.append(column)
        sql = (f"INSERT INTO {model._meta.db_table} ({', '.join(cols)}) "
               f"SELECT {', '.join(select)} {tail}")  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            return int(cursor.rowcount)

    def copy_rows(
        model: Any, template: Any, varying: list[str], rows: Iterator[tuple[Any, ...]]
    ) -> None:
        base = {c: v for c, (v, _t) in constants(model, template).items()
                if c != model._meta.pk.column}  # fmt: skip
        cols = list(base)
        slots = [cols.index(model._meta.get_field(name).column) for name in varying]
        with connection.cursor() as cursor:
            names = ", ".join(cols)
            with cursor.cursor.copy(f"COPY {model._meta.db_table} ({names}) FROM STDIN") as copy:
                for values in rows:
                    row = list(base.values())
                    for slot, value in zip(slots, values, strict=True):
                        row[slot] = value
                    copy.write_row(row)

    # The rest of the staff: about one grid administrator per grid, the others members of
    # grid teams (leaders, deputies) and village officers.
    bulk = max(0, want["staff"] - (len(chosen) + 20 + 4 + 4 + 60))
    password = make_password(None)
    rng = random.Random(0)
    with transaction.atomic():
        village_ids = sorted({row[1] for row in grid_rows})
        copy_rows(
            User,
            User(username="x", password=password, full_name="职员", township=town),
            ["username", "village_id"],
            ((f"staff_{n:06d}", village_ids[n % len(village_ids)]) for n in range(bulk)),
        )
        staff = list(
            User.objects.filter(username__startswith="staff_").order_by("pk").values_list("pk")
        )
        roles = ["grid_admin", "grid_leader", "deputy_leader", "grid_admin", "village_officer"]
        copy_rows(RoleGrant, RoleGrant(user_id=1, role="grid_admin"), ["user_id", "role"],
                  ((pk, roles[n % 5]) for n, (pk,) in enumerate(staff)))  # fmt: skip
        positions = {"grid_admin": "administrator", "grid_leader": "leader",
                     "deputy_leader": "deputy"}  # fmt: skip
        assignment = GridAssignment(user_id=1, grid_id=grid_rows[0][0], position="administrator",
                                    starts_on=start)  # fmt: skip

        def assignments() -> Iterator[tuple[int, int, str]]:
            for n, (pk,) in enumerate(staff):
                role = roles[n % 5]
                if role in positions:
                    yield pk, grid_rows[rng.randrange(len(grid_rows))][0], positions[role]

        copy_rows(GridAssignment, assignment, ["user_id", "grid_id", "position"],
                  assignments())  # fmt: skip
    lap(f"staff ({bulk:,} by COPY)")

    # A year of cases and their events, written inside PostgreSQL.
    # The year's rate of cases over ``history_days`` (365: the whole year's events).
    cases_wanted = max(100, round(want["events"] / EVENTS_PER_CASE))
    category = Category.objects.get(code="0702")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS city_grid")
        cursor.execute("CREATE TEMP TABLE city_grid (n int PRIMARY KEY, id bigint, "
                       "village_id bigint, lon float8, lat float8)")  # fmt: skip
        with cursor.cursor.copy("COPY city_grid (n, id, village_id, lon, lat) FROM STDIN") as cp:
            for n, (pk, village, *_rest) in enumerate(grid_rows):
                cp.write_row((n, pk, village, *centres[pk]))
        cursor.execute("SELECT setseed(0)")
    now = timezone.now()
    end = now - dt.timedelta(hours=10)  # every event of a case in the past
    begin = end - dt.timedelta(days=history_days)
    span = (end - begin).total_seconds()
    template = Case(number="C", township=town, village_id=grid_rows[0][1],
                    grid_id=grid_rows[0][0], category=category, state="closed",
                    description="合成案件", lon=113.0, lat=23.0, reporter_kind="grid_admin",
                    reported_at=begin)  # fmt: skip
    # Which cases are open: a third of those reported in the last two days, never the
    # returned or overdue variants (id % 20 in 0, 1); their step is id % 5 + 1.
    open_case = (f"(s.at > %(now)s - interval '{OPEN_WINDOW_DAYS} days' AND mod(s.i, 3) = 0 "
                 "AND mod(s.i, 20) >= 2)")  # fmt: skip
    steps = "(CASE WHEN mod(s.i, 20) = 0 THEN 8 WHEN mod(s.i, 20) = 1 THEN 7 ELSE 6 END)"
    step_hours = "ARRAY[0, 1, 2, 6, 8, 9, 10, 11]"
    with transaction.atomic():
        made = insert_select(
            Case, template,
            {
                "id": "s.i",
                "number": "'C' || lpad(s.i::text, 10, '0')",
                "village_id": "g.village_id",
                "grid_id": "g.id",
                "lon": "g.lon + (random() - 0.5) * 0.004",
                "lat": "g.lat + (random() - 0.5) * 0.004",
                "reported_at": "s.at",
                "state": f"CASE WHEN {open_case} THEN (ARRAY['reported', 'filed', 'dispatched', "
                         f"'disposed', 'verified'])[mod(s.i, 5) + 1] ELSE 'closed' END",
                "step_seq": f"CASE WHEN {open_case} THEN mod(s.i, 5) + 1 ELSE {steps} END",
                "step_started_at": f"s.at + ({step_hours})[CASE WHEN {open_case} "
                                   f"THEN mod(s.i, 5) + 1 ELSE {steps} END] * interval '1 hour'",
                "deadline": f"CASE WHEN {open_case} THEN s.at + interval '3 days' END",
                "overdue_step_seq": "CASE WHEN mod(s.i, 20) = 1 THEN 3 END",
                "department_id": f"CASE WHEN NOT {open_case} OR mod(s.i, 5) >= 2 "
                                 f"THEN {urban.pk} END",
                "closed_at": f"CASE WHEN NOT {open_case} THEN s.at + ({step_hours})[{steps}] "
                             "* interval '1 hour' END",
            },
            "FROM (SELECT i, %(begin)s::timestamptz + random() * %(span)s * interval '1 second'"
            " AS at FROM generate_series(1, %(cases)s::bigint) i) s "
            "JOIN city_grid g ON g.n = mod(s.i * 7919, %(grids)s)",
            {"now": now, "begin": begin, "span": span, "cases": cases_wanted,
             "grids": len(grid_rows)},
        )  # fmt: skip
    lap(f"cases ({made:,})")

    plain = [("report", "grid_admin", "", "reported", '{"category": "0702"}'),
             ("file", "dispatcher", "reported", "filed", "{}"),
             ("dispatch", "dispatcher", "filed", "dispatched", '{"department": "URBAN"}'),
             ("dispose", "department_officer", "dispatched", "disposed", '{"result": "done"}'),
             ("verify_pass", "grid_admin", "disposed", "verified", "{}"),
             ("close", "dispatcher", "verified", "closed", "{}")]  # fmt: skip
    returned = [*plain[:3], ("return", "department_officer", "dispatched", "filed", "{}"),
                plain[2], *plain[3:]]  # fmt: skip
    overdue = [*plain[:3], ("mark_overdue", "system", "dispatched", "dispatched", "{}"),
               *plain[3:]]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS city_step")
        cursor.execute("CREATE TEMP TABLE city_step (variant int, seq int, action text, "
                       "role text, from_state text, to_state text, payload jsonb)")  # fmt: skip
        with cursor.cursor.copy("COPY city_step FROM STDIN") as cp:
            for variant, plan in enumerate((plain, returned, overdue)):
                for seq, row in enumerate(plan, start=1):
                    cp.write_row((variant, seq, *row))
    which = "(CASE WHEN mod(c.id, 20) = 0 THEN 1 WHEN mod(c.id, 20) = 1 THEN 2 ELSE 0 END)"
    event = CaseEvent(case_id=1, seq=1, at=begin, role="system", action="report",
                      to_state="closed", payload={}, position=1, hash="-")  # fmt: skip
    with transaction.atomic():
        events = insert_select(
            CaseEvent, event,
            {"case_id": "c.id", "seq": "st.seq",
             "at": f"c.reported_at + ({step_hours})[st.seq] * interval '1 hour'",
             "role": "st.role", "action": "st.action", "from_state": "st.from_state",
             "to_state": "st.to_state", "payload": "st.payload",
             "position": "c.id * 10 + st.seq"},
            f"FROM cases_case c JOIN city_step st ON st.variant = {which} "
            "AND st.seq <= c.step_seq",
            {},
        )  # fmt: skip
        top = CaseEvent.objects.order_by("-position").values_list("position", flat=True).first()
        LedgerHead.objects.update_or_create(id=1, defaults={"position": top or 0, "hash": "-"})
    with connection.cursor() as cursor:
        for name in ("cases_case", "cases_caseevent", "people_user"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                           f"(SELECT MAX(id) FROM {name}))")  # fmt: skip
    lap(f"case events ({events:,})")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    lap("vacuum analyze")
    days = [today - dt.timedelta(days=d) for d in range(1, 8)]
    figures_materialise(days=days)
    lap("evaluation figures of the last 7 days")

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM cases_case WHERE state <> 'closed'")
        open_cases = cursor.fetchone()[0]
    summary = {**want, "cases": made, "case_events": events, "open_cases": open_cases,
               "staff_total": User.objects.count(), "grids_made": len(grid_rows),
               "timings": timings}  # fmt: skip
    out.write_text(json.dumps({"summary": summary, "actors": actors}))


def sessions(out: Path) -> None:
    """Sign the load's dispatchers and supervisors in again (the secret key may be new)."""
    import django

    django.setup()
    from django.test import Client

    from civicgrid.people.models import User

    state = json.loads(out.read_text())
    client = Client()
    for key, prefix in (("dispatcher_sessions", "load_dispatcher_"),
                        ("supervisor_sessions", "load_supervisor_")):  # fmt: skip
        found = []
        for user in User.objects.filter(username__startswith=prefix).order_by("username"):
            client.force_login(user, backend="civicgrid.people.backends.StaffModelBackend")
            found.append(client.cookies["sessionid"].value)
            client.cookies.clear()
        state["actors"][key] = found
    out.write_text(json.dumps(state))


# --- load ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def started(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)  # the group this script created
                proc.wait(timeout=5)


def wait_healthy(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text(errors='replace')[-2000:]}")
        health = f"http://{HOST}:{port}/api/v1/health"
        with contextlib.suppress(OSError), urllib.request.urlopen(health, timeout=2):
            return
        time.sleep(0.3)
    raise SystemExit(f"server on {port} did not answer:\n{log.read_text(errors='replace')[-2000:]}")


class Sampler(threading.Thread):
    """Once a second: machine CPU, each group's CPU, and the database's wait events."""

    def __init__(self, groups: dict[str, list[int]], dsn: str, db_name: str) -> None:
        super().__init__(daemon=True)
        self.groups, self.dsn, self.db_name = groups, dsn, db_name
        self.halt = threading.Event()
        self.samples: list[dict[str, float]] = []
        self.waits: Counter[str] = Counter()
        self.active: list[int] = []

    def run(self) -> None:
        import psutil  # type: ignore[import-untyped]  # locust installs it, without stubs
        import psycopg

        conn = psycopg.connect(self.dsn, autocommit=True)
        procs: dict[int, Any] = {}

        def tree(pids: list[int]) -> list[Any]:
            found = []
            for pid in pids:
                with contextlib.suppress(psutil.Error):
                    root = psutil.Process(pid)
                    found += [root, *root.children(recursive=True)]
            return found

        def cpu_of(members: list[Any]) -> float:
            total = 0.0
            for p in members:
                with contextlib.suppress(psutil.Error):
                    if p.pid not in procs:
                        procs[p.pid] = p
                        p.cpu_percent(None)  # the first call primes the counter
                        continue
                    total += procs[p.pid].cpu_percent(None)
            return total

        psutil.cpu_times_percent(None)
        while not self.halt.wait(1.0):
            rows = conn.execute(
                "SELECT pid, state, wait_event_type, wait_event FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()", (self.db_name,)
            ).fetchall()  # fmt: skip
            backends = [psutil.Process(pid) for pid, *_ in rows if psutil.pid_exists(pid)]
            active = [r for r in rows if r[1] == "active"]
            self.active.append(len(active))
            for _pid, _state, kind, name in active:
                self.waits[f"{kind}:{name}" if kind else "CPU (no wait)"] += 1
            times = psutil.cpu_times_percent(None)
            sample = {
                "machine": 100.0 - times.idle - getattr(times, "iowait", 0.0),
                "iowait": getattr(times, "iowait", 0.0),
                "postgres": cpu_of(backends) / psutil.cpu_count(),
            }
            for name, pids in self.groups.items():
                sample[name] = cpu_of(tree(pids)) / psutil.cpu_count()
            self.samples.append(sample)
        conn.close()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def db_sizes(dsn: str, db_name: str) -> list[tuple[str, int]]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        total = conn.execute("SELECT pg_database_size(%s)", (db_name,)).fetchone()
        rows = conn.execute(
            # A partitioned table's size is its partitions': sum them under the parent.
            "SELECT COALESCE(parent.relname, c.relname) AS name, "
            "SUM(pg_total_relation_size(c.oid))::bigint FROM pg_class c "
            "LEFT JOIN pg_inherits i ON i.inhrelid = c.oid "
            "LEFT JOIN pg_class parent ON parent.oid = i.inhparent "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname = 'public' "
            "GROUP BY 1 ORDER BY 2 DESC LIMIT 6"
        ).fetchall()
    return [("database", int(total[0]) if total else 0), *[(r[0], int(r[1])) for r in rows]]


def load(args: argparse.Namespace, env: dict[str, str], dsn: str, state: dict[str, Any],
         tmp: Path) -> None:  # fmt: skip
    actors = state["actors"]
    ports = [free_port(), free_port()]
    serve = [sys.executable, "-m", "civicgrid", "serve", "--workers", "1", "--no-collectstatic"]
    users = {
        "case": max(1, math.ceil(args.actions / 2)),  # one loop user ≈ 2 actions/s at most
        "positions": max(1, math.ceil(args.positions / args.batch / 4)),
        "dispatcher": args.dispatchers,
        "supervisor": args.supervisors,
    }
    users["positions"] = min(users["positions"], len(actors["walkers"]))
    users["case"] = min(users["case"], len(actors["admins"]))
    config = {
        "hosts": [f"http://{HOST}:{p}" for p in ports],
        "actors": actors,
        "batch": args.batch,
        "case_rate": args.actions / 6 / users["case"],  # loops per second per user
        "position_rate": args.positions / args.batch / users["positions"],
        "refresh": args.refresh,
    }
    config_path = tmp / "locust.json"
    config_path.write_text(json.dumps(config))
    locust_env = {**env, "CITY_LOCUST_CONFIG": str(config_path)}
    total_users = sum(users.values())
    # Fixed user counts per class, set by locust's --*-users options through the weights
    # proportional to the wanted counts.
    locust_env["CITY_USERS"] = json.dumps(users)
    locust_cmd = [
        sys.executable, "-m", "locust", "-f", str(HERE / "city_locust.py"), "--headless",
        "-u", str(total_users), "-r", str(max(1, total_users)), "-t", f"{int(args.seconds)}s",
        "--csv", str(tmp / "stats"), "--only-summary", "--host", config["hosts"][0],
        "--stop-timeout", "10", "--loglevel", "WARNING",
    ]  # fmt: skip
    print(f"load: {args.seconds:g} s; users {users}; targets {args.actions:g} case actions/s, "
          f"{args.positions:g} fixes/s in batches of {args.batch}, dispatchers refresh every "
          f"{args.refresh:g} s, supervisors every 15 s")  # fmt: skip
    with contextlib.ExitStack() as stack:
        servers = []
        for port in ports:
            log = tmp / f"serve-{port}.log"
            proc = stack.enter_context(started([*serve, "--addr", f"{HOST}:{port}"], env, log))
            servers.append((proc, port, log))
        worker = stack.enter_context(
            started([sys.executable, "-m", "civicgrid", "worker"], env, tmp / "worker.log")
        )
        for proc, port, log in servers:
            wait_healthy(port, proc, log)
        # One warm request per server on each page, so no import or first-use cost is timed.
        for host in config["hosts"]:
            for path, cookie in (("/center/", actors["dispatcher_sessions"][0]),
                                 ("/evaluation/", actors["supervisor_sessions"][0])):  # fmt: skip
                request = urllib.request.Request(
                    host + path, headers={"Cookie": f"sessionid={cookie}"}
                )
                with contextlib.suppress(OSError), urllib.request.urlopen(request, timeout=60):
                    pass
        sampler = Sampler(
            {"app servers": [p.pid for p, _, _ in servers], "worker": [worker.pid]},
            dsn, args.db_name,
        )  # fmt: skip
        log = tmp / "locust.log"
        with log.open("wb") as out:
            locust = subprocess.Popen(locust_cmd, env=locust_env, cwd=ROOT, stdout=out,
                                      stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
            sampler.groups["locust"] = [locust.pid]
            sampler.start()
            try:
                locust.wait(timeout=args.seconds + 120)
            finally:
                sampler.halt.set()
                if locust.poll() is None:
                    locust.send_signal(signal.SIGINT)
                    locust.wait(timeout=30)
        sampler.join(timeout=10)
        quiet = probe(env, config["hosts"][0], servers[0][0].pid, args.probe, tmp)
    report(args, tmp, sampler, dsn, users)
    for _proc, port, log in servers:
        # An error's cause is in the server's log, which goes with the temporary directory.
        text = log.read_text(errors="replace")
        if "Traceback" in text:
            last = text[text.rindex("Traceback") :].splitlines()[:60]
            print(f"server on {port}: {text.count('Traceback')} tracebacks; the last:")
            print("\n".join(f"  {line}" for line in last))
    if quiet:
        print()
        print(f"the same pages without the load, one request at a time ({args.probe} each, "
              "same servers and worker, other processes on the machine still running), over "
              "HTTP and in one process in turn; server CPU is the mean per request (10 ms "
              f"ticks), load average now {load_average()}:")  # fmt: skip
        print(table(PROBE_HEADERS, quiet))


PROBE = [
    ("center: queue page", "/center/", "dispatcher_sessions"),
    ("center: counts", "/center/counts.json", "dispatcher_sessions"),
    ("center: map", "/center/cases.geojson", "dispatcher_sessions"),
    # What a browser's reload of the queue page also asks for (center.js draws them under
    # the cases); the load's dispatchers do not request them.
    ("map: grids layer", "/api/v1/geo/grids", "dispatcher_sessions"),
    ("map: villages layer", "/api/v1/geo/villages", "dispatcher_sessions"),
    ("evaluation page", "/evaluation/", "supervisor_sessions"),
    ("health (baseline)", "/api/v1/health", "dispatcher_sessions"),
]


def probe(env: dict[str, str], host: str, server: int, count: int, tmp: Path) -> list[list[object]]:
    """Each read page ``count`` times after the load, over HTTP and in-process in turn."""
    if count <= 0:
        return []
    out = tmp / "probe.json"
    command = [sys.executable, __file__, "_probe", "--out", str(out), "--host", host,
               "--server-pid", str(server), "--probe", str(count)]  # fmt: skip
    subprocess.run(command, env=env, cwd=ROOT, check=True)
    return list(json.loads(out.read_text()))


def probe_pages(host: str, server_pid: int, count: int, out: Path) -> None:
    """One page at a time, alternating: a request to the app server (timed by the client,
    and the server's CPU for it), then the same request in this process through Django's
    handler (test client, same session, same database). The two differ by what HTTP and
    the server add; both wait alike for the machine's cores, measured in the same minutes.
    """
    import django

    django.setup()
    import psutil
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    state = json.loads(Path(os.environ["CITY_STATE"]).read_text())
    actors = state["actors"]
    server = psutil.Process(server_pid)

    def server_cpu() -> float:
        total = 0.0
        for proc in [server, *server.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
        return total * 1e3

    rows: list[list[object]] = []
    for name, path, sessions in PROBE:
        cookie = actors[sessions][0]
        client = Client(SERVER_NAME=HOST)
        client.cookies["sessionid"] = cookie
        http, cpu, inproc, in_cpu, statements, sql = [], [], [], [], [], []
        errors = 0
        for attempt in range(count + 1):  # the first of each: warm, not counted
            request = urllib.request.Request(host + path, headers={"Cookie": f"sessionid={cookie}"})
            cpu_before = server_cpu()
            started_at = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    response.read()
                    failed = not response.geturl().endswith(path)  # sent to the login page
            except OSError:
                failed = True
            took = (time.perf_counter() - started_at) * 1e3
            time.sleep(0.02)  # the server's last CPU tick of the request, counted
            cpu_after = server_cpu()
            cpu_started, started_at = time.process_time(), time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                answer = client.get(path)
            in_took = (time.perf_counter() - started_at) * 1e3
            in_cpu_took = (time.process_time() - cpu_started) * 1e3
            if attempt == 0:
                continue
            errors += failed + (answer.status_code != 200)
            http.append(took)
            cpu.append(cpu_after - cpu_before)
            inproc.append(in_took)
            in_cpu.append(in_cpu_took)
            statements.append(len(queries))
            sql.append(sum(float(q["time"]) for q in queries.captured_queries) * 1e3)
        rows.append([
            name, f"{pct(http, 0.5):.0f}", f"{pct(http, 0.95):.0f}", f"{pct(http, 0.99):.0f}",
            f"{sum(cpu) / len(cpu):.0f}", f"{pct(inproc, 0.5):.0f}", f"{pct(inproc, 0.95):.0f}",
            f"{pct(in_cpu, 0.5):.0f}", f"{pct(sql, 0.5):.0f}", max(statements), errors,
        ])  # fmt: skip
    out.write_text(json.dumps(rows))


PROBE_HEADERS = ["request", "http p50 ms", "p95", "p99", "server CPU ms", "in-process p50 ms",
                 "p95", "CPU ms", "SQL ms", "statements", "errors"]  # fmt: skip


def report(args: argparse.Namespace, tmp: Path, sampler: Sampler, dsn: str,
           users: dict[str, int]) -> None:  # fmt: skip
    stats_file = tmp / "stats_stats.csv"
    if not stats_file.exists():
        raise SystemExit(f"locust wrote no statistics:\n{(tmp / 'locust.log').read_text()[-3000:]}")
    with stats_file.open() as handle:
        stats = list(csv.DictReader(handle))
    rows = []
    for row in stats:
        name = row["Name"] if row["Name"] != "Aggregated" else "all"
        rows.append([
            name, f"{int(row['Request Count']):,}", f"{float(row['Requests/s']):.1f}",
            row["50%"], row["95%"], row["99%"], row["Max Response Time"].split(".")[0],
            row["Failure Count"],
        ])  # fmt: skip
    print(table(["request", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms",
                 "errors"], rows))  # fmt: skip
    failures = tmp / "stats_failures.csv"
    if failures.exists():
        with failures.open() as handle:
            for row in list(csv.DictReader(handle))[:10]:
                print(f"  error: {row['Method']} {row['Name']}: {row['Error'][:200]} "
                      f"× {row['Occurrences']}")  # fmt: skip
    by_name = {r["Name"]: r for r in stats}
    actions = sum(float(r["Requests/s"]) for n, r in by_name.items() if n.startswith("case: "))
    batches = float(by_name.get("positions: batch", {}).get("Requests/s", 0) or 0)
    print()
    print(f"achieved: {actions:.1f} case actions/s (target {args.actions:g}; "
          f"{actions * 86400:,.0f} a day), {batches * args.batch:,.0f} fixes/s "
          f"(target {args.positions:g}) with {sum(users.values())} locust users")  # fmt: skip
    samples = sampler.samples[3:] or sampler.samples  # the ramp-up's first seconds left out
    print()
    print(
        f"resources, mean (p95) over {len(samples)} one-second samples, "
        "in % of the whole machine (100 % = every core busy):"
    )
    names = ["machine", "iowait", "app servers", "postgres", "worker", "locust"]
    resource_rows = []
    for name in names:
        values = [s.get(name, 0.0) for s in samples]
        mean = sum(values) / len(values) if values else 0.0
        resource_rows.append([name, f"{mean:.0f}", f"{pct(values, 0.95):.0f}"])
    ours = [sum(s.get(n, 0.0) for n in names[2:]) for s in samples]
    others = [max(0.0, s["machine"] - o) for s, o in zip(samples, ours, strict=True)]
    resource_rows.append(["others (not this run)", f"{sum(others) / max(1, len(others)):.0f}",
                          f"{pct(others, 0.95):.0f}"])  # fmt: skip
    print(table(["part", "mean %", "p95 %"], resource_rows))
    total_waits = sum(sampler.waits.values()) or 1
    mean_active = sum(sampler.active) / max(1, len(sampler.active))
    print(
        f"database: {mean_active:.1f} active backends on average; what they waited for: "
        + ", ".join(f"{k} {v / total_waits:.0%}" for k, v in sampler.waits.most_common(6))
    )
    print()
    print(
        "sizes: "
        + ", ".join(f"{name} {human(size)}B" for name, size in db_sizes(dsn, args.db_name))
    )
    machine = [s["machine"] for s in samples]
    busy = sum(1 for m in machine if m >= 95) / max(1, len(machine))
    print(
        f"machine CPU at 95 % or more in {busy:.0%} of the samples; "
        f"load average at the end: {load_average()}"
    )
    parts = {n: sum(s.get(n, 0.0) for s in samples) / max(1, len(samples)) for n in names[2:]}
    top = max(parts, key=lambda n: parts[n])
    iowait = sum(s["iowait"] for s in samples) / max(1, len(samples))
    locks = sum(v for k, v in sampler.waits.items() if k.startswith(("Lock:", "LWLock:")))
    if iowait >= 20:
        verdict = f"the disk (iowait {iowait:.0f} %)"
    elif busy >= 0.5:
        verdict = (f"the machine's CPU (busy in {busy:.0%} of the samples); of this run's "
                   f"parts the {top} took most ({parts[top]:.0f} % of the machine)")  # fmt: skip
    elif locks / total_waits >= 0.3:
        verdict = "the database's locks"
    else:
        verdict = "nothing: no resource was saturated"
    print(f"saturated first: {verdict}")


# --- main ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="1", help="a fraction of the city, or 'township'")
    parser.add_argument(
        "--history-days", type=int, default=365,
        help="days of history at the year's rate (default 365: all of it)",
    )  # fmt: skip
    parser.add_argument("--db-name", default="civicgrid_city")
    parser.add_argument(
        "--pgurl", default=os.environ.get("PGURL", "postgres://postgres@127.0.0.1:5432")
    )
    parser.add_argument("--reuse", action="store_true", help="load a kept database; no build")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    parser.add_argument("--seconds", type=float, default=120, help="load duration")
    parser.add_argument(
        "--actions",
        type=float,
        default=28.0,
        help="case actions/s (default 28: 100,000 a day in a 10-hour day, 10x)",
    )
    parser.add_argument("--positions", type=float, default=5000, help="fixes/s (default 5,000)")
    parser.add_argument("--batch", type=int, default=50, help="fixes per request")
    parser.add_argument("--dispatchers", type=int, default=10)
    parser.add_argument("--supervisors", type=int, default=2)
    parser.add_argument("--probe", type=int, default=50, help="quiet requests per page after")
    parser.add_argument("--refresh", type=float, default=10.0, help="dispatcher refresh, s")
    parser.add_argument("_build", nargs="?", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--host", help=argparse.SUPPRESS)
    parser.add_argument("--server-pid", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._build == "_probe":
        probe_pages(args.host, args.server_pid, args.probe, Path(args.out))
        return 0
    if args._build == "_sessions":
        sessions(Path(args.out))
        return 0
    if args._build == "_build":
        build(args.scale, args.history_days, Path(args.out))
        return 0
    if args.scale != "township":
        float(args.scale)

    import psycopg

    dsn_admin = f"{args.pgurl}/postgres"
    dsn = f"{args.pgurl}/{args.db_name}"
    state_file = Path(tempfile.gettempdir()) / f"{args.db_name}-state.json"
    with tempfile.TemporaryDirectory(prefix="city-") as tmpdir:
        tmp = Path(tmpdir)
        env = {k: v for k, v in os.environ.items() if k not in {"DEBUG"}}
        env |= {
            "DATABASE_URL": f"{dsn}?conn_max_age=60",
            # Kept beside the state: the secret key signing the sessions lives there.
            "CIVICGRID_DATA_DIR": str(state_file.with_name(f"{args.db_name}-data")),
            "DJANGO_SETTINGS_MODULE": "civicgrid.config.settings",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            "CITY_STATE": str(state_file),  # the accounts, for the probe after the load
        }
        print(f"city benchmark, {machine_line()}")
        if not args.reuse:
            with psycopg.connect(dsn_admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{args.db_name}"')
            want = sizes(args.scale)
            print(
                f"build: scale {args.scale}: {want['villages']} villages, {want['grids']:,} "
                f"grids, {want['staff']:,} staff, about "
                f"{round(want['events'] * args.history_days / 365):,} case events "
                f"({args.history_days} days of history at the year's rate)"
            )
            started_at = time.perf_counter()
            command = [
                sys.executable, __file__, "_build", "--scale", args.scale,
                "--history-days", str(args.history_days), "--out", str(state_file),
            ]  # fmt: skip
            subprocess.run(command, env=env, cwd=ROOT, check=True)
            print(f"build: {time.perf_counter() - started_at:.0f} s in all")
        if not args.build_only:
            command = [sys.executable, __file__, "_sessions", "--out", str(state_file)]
            subprocess.run(command, env=env, cwd=ROOT, check=True)
        state = json.loads(state_file.read_text())
        summary = state["summary"]
        print("database: " + ", ".join(f"{k} {v:,}" for k, v in summary.items()
                                       if isinstance(v, int)))  # fmt: skip
        print("sizes: " + ", ".join(f"{n} {human(s)}B" for n, s in db_sizes(dsn, args.db_name)))
        print()
        if not args.build_only:
            load(args, env, dsn, state, tmp)
    if args.drop:
        with psycopg.connect(dsn_admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)')
        state_file.unlink(missing_ok=True)
        shutil.rmtree(state_file.with_name(f"{args.db_name}-data"), ignore_errors=True)
        print(f"dropped {args.db_name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
