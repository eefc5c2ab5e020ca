"""kill -9 the server again and again while clients report cases and act on them.

A fresh data directory (and, for PostgreSQL, a database of its own) gets a test township
with a grid administrator, a dispatcher and a department officer. `civicgrid serve` runs
in its own process group; a killer waits until it answers, lets it work for a random
0.1-0.8 s and sends SIGKILL to the whole group, then starts it again, --kills times.
Meanwhile client threads run case loops over HTTP -- report, file, dispatch, dispose,
verify_pass, close -- each request with its own Idempotency-Key, retrying the same
request with the same key until the server acknowledges it (2xx).

Afterwards, with the server stopped, it checks and prints:
- acknowledged lost: an acknowledged report whose case is missing, or an acknowledged
  action missing from its case's ledger (must be 0);
- duplicated: a report key that made two cases, or an action twice in one case (must be 0);
- in doubt: requests the server committed but whose answer the kill swallowed (then
  acknowledged by the retry, thanks to the key), for information;
- the database's own check: SQLite `PRAGMA integrity_check` and `foreign_key_check`;
  PostgreSQL `amcheck` (`bt_index_check` with `heapallindexed`) on every B-tree index;
- `civicgrid ledger-verify` (both hash chains, head, case states, guard triggers).

Position batches: the grid administrator starts a duty shift, and each loop also sends a
batch of three positions to `/api/v1/patrol/positions` with its own Idempotency-Key; each
acknowledged position must be stored exactly once (matched by its time).

    .venv/bin/python benchmarks/crash.py                        # SQLite and PostgreSQL
    .venv/bin/python benchmarks/crash.py --db sqlite --kills 50
    PGURL=postgres://postgres@127.0.0.1:5432 .venv/bin/python benchmarks/crash.py --db pg
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import machine_line
from case_loop import SETUP, free_port, prepare_postgres

ROOT = Path(__file__).resolve().parent.parent
CIVICGRID = [sys.executable, "-m", "civicgrid"]
ACTIONS = [
    ("file", "dispatcher", {}),
    ("dispatch", "dispatcher", {"department": "URBAN"}),
    ("dispose", "officer", {"result": "已清理"}),
    ("verify_pass", "admin", {}),
    ("close", "dispatcher", {}),
]

CHECK = r"""
import json, sys
import django
django.setup()
from django.db import connection
from civicgrid.cases.models import Case, CaseEvent
from civicgrid.patrol.models import Position
positions = [t.isoformat() for t in Position.objects.filter(
    staff__username="bench_admin").values_list("time", flat=True)]
cases = {c.number: {"description": c.description, "state": c.state,
                    "actions": list(c.events.order_by("seq").values_list("action", flat=True))}
         for c in Case.objects.all()}
problems = []
with connection.cursor() as cursor:
    if connection.vendor == "sqlite":
        cursor.execute("PRAGMA integrity_check")
        problems += [r[0] for r in cursor.fetchall() if r[0] != "ok"]
        cursor.execute("PRAGMA foreign_key_check")
        problems += [repr(r) for r in cursor.fetchall()]
        what = "PRAGMA integrity_check + foreign_key_check"
    else:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
        cursor.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE a.amname = 'btree' AND n.nspname = 'public'")
        indexes = [r[0] for r in cursor.fetchall()]
        for name in indexes:
            try:
                cursor.execute("SELECT bt_index_check(%s::regclass, true)", [name])
            except Exception as exc:
                problems.append(f"{name}: {exc}")
        what = f"amcheck bt_index_check(heapallindexed) on {len(indexes)} indexes"
print(json.dumps({"cases": cases, "problems": problems, "what": what, "positions": positions,
                  "events": CaseEvent.objects.count()}))
"""


@dataclass
class Tally:
    reports: dict[str, str] = field(default_factory=dict)  # report key → acknowledged number
    attempted: set[str] = field(default_factory=set)  # report keys sent at least once
    actions: list[tuple[str, str]] = field(default_factory=list)  # acknowledged (number, action)
    positions: list[str] = field(default_factory=list)  # acknowledged position times (UTC ISO)
    retries: int = 0
    refused: list[str] = field(default_factory=list)  # unexpected 4xx answers
    lock: threading.Lock = field(default_factory=threading.Lock)


class Server:
    """`civicgrid serve` in its own process group, killed with SIGKILL on request."""

    def __init__(self, env: dict[str, str], port: int, workers: int, log: Path) -> None:
        self.env, self.port, self.workers, self.log = env, port, workers, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [*CIVICGRID, "serve", "--addr", f"127.0.0.1:{self.port}",
                 "--workers", str(self.workers), "--no-collectstatic"],
                env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def healthy(self, timeout: float = 60) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/api/v1/health")
                if conn.getresponse().status == 200:
                    return True
            time.sleep(0.05)
        return False

    def kill(self) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def call(port: int, token: str, path: str, body: dict[str, Any], key: str,
         tally: Tally) -> dict[str, Any] | None:  # fmt: skip
    """POST until the server acknowledges; None if it refuses (a 4xx it should not give)."""
    payload = json.dumps(body).encode()
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json",
               "idempotency-key": key, "accept-language": "en"}  # fmt: skip
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
            conn.request("POST", path, payload, headers)
            response = conn.getresponse()
            data = response.read()
            conn.close()
        except (OSError, http.client.HTTPException):
            with tally.lock:
                tally.retries += 1
            time.sleep(0.05)
            continue
        if response.status >= 500:
            with tally.lock:
                tally.retries += 1
            time.sleep(0.05)
            continue
        if response.status >= 400:
            with tally.lock:
                tally.refused.append(f"{response.status} {path}: {data[:200]!r}")
            return None
        return json.loads(data)


def client(port: int, tokens: dict[str, str], tally: Tally, stop: threading.Event) -> None:
    rng = random.Random()
    while not stop.is_set():
        key = uuid.uuid4().hex
        body = {
            "category": "0702",
            "description": f"crash {key}",
            "lon": 113.001 + rng.random() * 0.008,
            "lat": 23.001 + rng.random() * 0.018,
        }
        with tally.lock:
            tally.attempted.add(key)
        case = call(port, tokens["admin"], "/api/v1/cases", body, key, tally)
        if case is None:
            continue
        with tally.lock:
            tally.reports[key] = case["number"]
        now = dt.datetime.now(dt.UTC)
        times = [(now + dt.timedelta(milliseconds=i)).isoformat() for i in range(3)]
        batch = {"positions": [{"lon": 113.005, "lat": 23.01, "time": t} for t in times]}
        if call(port, tokens["admin"], "/api/v1/patrol/positions", batch, uuid.uuid4().hex,
                tally) is not None:  # fmt: skip
            with tally.lock:
                tally.positions += times
        for action, who, params in ACTIONS:
            path = f"/api/v1/cases/{case['number']}/actions/{action}"
            body = {"version": case["version"], **params}
            answer = call(port, tokens[who], path, body, uuid.uuid4().hex, tally)
            if answer is None:
                break
            case = answer
            with tally.lock:
                tally.actions.append((case["number"], action))


def run(db: str, kills: int, clients: int, workers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="crash-") as data:
        env = {**os.environ, "CIVICGRID_DATA_DIR": data, "DJANGO_SETTINGS_MODULE":
               "civicgrid.config.settings", "LOG_LEVEL": "ERROR"}  # fmt: skip
        env.pop("DATABASE_URL", None)
        if db == "pg":
            base = os.environ.get("PGURL", "postgres://postgres@127.0.0.1:5432")
            env["DATABASE_URL"] = prepare_postgres(base, "civicgrid_crash")
        setup = subprocess.run([sys.executable, "-c", SETUP], env=env, cwd=ROOT,
                               capture_output=True, text=True, check=True)  # fmt: skip
        tokens = json.loads(setup.stdout.strip().splitlines()[-1])
        port = free_port()
        log = Path(data) / "server.log"
        server = Server(env, port, workers, log)
        tally, stop = Tally(), threading.Event()
        # Daemon threads: if the server cannot be restarted, the run ends with the error.
        threads = [threading.Thread(target=client, args=(port, tokens, tally, stop), daemon=True)
                   for _ in range(clients)]  # fmt: skip
        rng = random.Random(7)
        started = time.monotonic()
        server.start()
        if not server.healthy():
            raise SystemExit("the server did not start:\n" + log.read_text()[-2000:])
        # The administrator's duty shift, so position batches are accepted.
        if call(port, tokens["admin"], "/api/v1/patrol/shifts", {}, "shift", tally) is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
            conn.request("GET", "/api/v1/patrol/shifts/current",
                         headers={"authorization": f"Bearer {tokens['admin']}"})  # fmt: skip
            if conn.getresponse().status != 200:
                raise SystemExit(f"no duty shift: {tally.refused}")
            tally.refused.clear()  # "already on duty": the first try was committed
        for thread in threads:
            thread.start()
        done = 0
        try:
            while done < kills:
                time.sleep(rng.uniform(0.1, 0.8))
                server.kill()
                done += 1
                server.start()
                if not server.healthy():
                    raise SystemExit("the server did not restart:\n" + log.read_text()[-2000:])
            stop.set()
            for thread in threads:
                thread.join(timeout=120)
        finally:
            stop.set()
            server.stop()
        elapsed = time.monotonic() - started
        check = subprocess.run([sys.executable, "-c", CHECK], env=env, cwd=ROOT,
                               capture_output=True, text=True, check=True)  # fmt: skip
        found = json.loads(check.stdout.strip().splitlines()[-1])
        verify = subprocess.run([*CIVICGRID, "ledger-verify"], env={**env, "LANGUAGE_CODE": "en"},
                                cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    cases = found["cases"]
    by_key = Counter(c["description"].removeprefix("crash ") for c in cases.values())
    lost_reports = [n for n in tally.reports.values() if n not in cases]
    lost_actions = [
        (n, a) for n, a in tally.actions if a not in cases.get(n, {}).get("actions", [])
    ]
    duplicated = sum(n - 1 for n in by_key.values() if n > 1)
    stored = Counter(dt.datetime.fromisoformat(t) for t in found["positions"])
    acked = [dt.datetime.fromisoformat(t) for t in tally.positions]
    lost_positions = [t for t in acked if t not in stored]
    duplicated += sum(n - 1 for n in stored.values() if n > 1)
    duplicated += sum(
        n - 1 for c in cases.values() for n in Counter(c["actions"]).values() if n > 1
    )
    ledger = (verify.stdout.strip().splitlines() or ["?"])[-1]
    if verify.returncode != 0:
        ledger = f"NOT intact (exit {verify.returncode}): {verify.stdout[-500:]} {verify.stderr}"
    return {
        "db": db,
        "kills": done,
        "seconds": elapsed,
        "reports": len(tally.reports),
        "actions": len(tally.actions),
        "retries": tally.retries,
        "cases": len(cases),
        "events": found["events"],
        "closed": sum(c["state"] == "closed" for c in cases.values()),
        "unacknowledged": len(tally.attempted) - len(tally.reports),
        "positions": len(tally.positions),
        "lost": len(lost_reports) + len(lost_actions) + len(lost_positions),
        "duplicated": duplicated,
        "refused": tally.refused,
        "db_check": found["what"],
        "db_problems": found["problems"],
        "ledger": ledger,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="both")
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--clients", type=int, default=3, help="client threads")
    parser.add_argument("--workers", type=int, help="server processes (1 on SQLite, 2 on PG)")
    args = parser.parse_args()
    print(f"crash benchmark: {args.kills} × kill -9, {args.clients} clients; {machine_line()}")
    failed = False
    for db in ["sqlite", "pg"] if args.db == "both" else [args.db]:
        r = run(db, args.kills, args.clients, args.workers or (1 if db == "sqlite" else 2))
        print(f"\n{db}: {r['kills']} kills in {r['seconds']:.0f} s; acknowledged {r['reports']} "
              f"reports, {r['actions']} actions and {r['positions']} positions "
              f"({r['retries']} retried requests, "
              f"{r['unacknowledged']} reports never acknowledged: the client stopped)")  # fmt: skip
        print(f"  database: {r['cases']} cases ({r['closed']} closed), {r['events']} events")
        print(f"  acknowledged lost: {r['lost']}   duplicated: {r['duplicated']}")
        print(f"  unexpected refusals: {len(r['refused'])} {r['refused'][:3]}")
        print(f"  {r['db_check']}: {'clean' if not r['db_problems'] else r['db_problems'][:5]}")
        print(f"  ledger-verify: {r['ledger']}")
        failed |= bool(r["lost"] or r["duplicated"] or r["refused"] or r["db_problems"]
                       or "NOT" in r["ledger"])  # fmt: skip
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
