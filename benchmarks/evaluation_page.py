"""The /evaluation/ page alone on a database kept by ``indicators.py --keep``, for one or
more source trees side by side (issue 17's goal: under 300 ms on a month of 1 M cases).

Each tree runs in its own process (its ``civicgrid`` package imported from that tree),
answers one request to warm up, then the trees take turns: ``--rounds`` rounds of
``--per-round`` requests each, so a change in the machine's load reaches every tree alike.
Prints the 1-minute load average at each round, each tree's median and minimum, the
ratio of each median to the first tree's, and whether every tree answered the same HTML
(the per-request CSP nonce and CSRF token aside).

    .venv/bin/python benchmarks/evaluation_page.py --db pg                 # this tree
    .venv/bin/python benchmarks/evaluation_page.py --db sqlite --data DIR ../before .
    CIVICGRID_BENCH_PG_NAME=NAME .venv/bin/python benchmarks/evaluation_page.py --db pg OLD .

The page is ``GET /evaluation/?level=grid&from=&to=`` for the month before this one as the
benchmark's supervisor, through Django's test client, as in ``indicators.py``.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_line, table

ROOT = Path(__file__).resolve().parent.parent
PG_NAME = os.environ.get("CIVICGRID_BENCH_PG_NAME", "civicgrid_bench_indicators")

WORKER = r"""
import datetime as dt, hashlib, json, re, sys, time
import django
django.setup()
from django.conf import settings
from django.test import Client
from django.utils import timezone
from civicgrid.people.models import User
today = timezone.localdate()
first = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
last = today.replace(day=1) - dt.timedelta(days=1)
settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
client = Client()
client.force_login(User.objects.get(username="bench-supervisor"))
url = f"/evaluation/?level=grid&from={first}&to={last}"
response = client.get(url)
assert response.status_code == 200, response.status_code
page = re.sub(rb'(nonce|value)="[^"]*"', b"", response.content)
print(json.dumps({"digest": hashlib.sha256(page).hexdigest(), "bytes": len(response.content)}),
      flush=True)
for line in sys.stdin:
    times = []
    for _ in range(int(line)):
        t = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - t)
        assert response.status_code == 200, response.status_code
    print(json.dumps(times), flush=True)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "pg"], required=True)
    parser.add_argument("--data", help="folder of the kept SQLite file (as for indicators.py)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--per-round", type=int, default=5)
    parser.add_argument("trees", nargs="*", help="source trees (default: this one)")
    args = parser.parse_args()
    trees = [str(Path(t).resolve()) for t in args.trees] or [str(ROOT)]
    kept = args.data or os.path.join(tempfile.gettempdir(), "civicgrid-bench-indicators")
    env = {**os.environ, "CIVICGRID_DATA_DIR": kept, "LOG_LEVEL": "ERROR",
           "DJANGO_SETTINGS_MODULE": "civicgrid.config.settings"}  # fmt: skip
    env.pop("DATABASE_URL", None)
    if args.db == "pg":
        base = os.environ.get("PGURL", "postgres://postgres@127.0.0.1:5432")
        env["DATABASE_URL"] = f"{base}/{PG_NAME}"
    elif not (Path(kept) / "civicgrid.sqlite3").exists():
        raise SystemExit(f"No kept SQLite file in {kept}: run indicators.py --db sqlite --keep.")
    print(machine_line())
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER], cwd=tree, env=env, text=True,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        for tree in trees
    ]  # fmt: skip
    answers = []
    for tree, worker in zip(trees, workers, strict=True):
        line = worker.stdout.readline() if worker.stdout else ""
        if not line:
            raise SystemExit(f"{tree}: the page did not answer (see the error above)")
        answers.append(json.loads(line))
    times: dict[str, list[float]] = {tree: [] for tree in trees}
    loads = []
    for _ in range(args.rounds):
        loads.append(os.getloadavg()[0])
        for tree, worker in zip(trees, workers, strict=True):
            assert worker.stdin and worker.stdout
            worker.stdin.write(f"{args.per_round}\n")
            worker.stdin.flush()
            times[tree].extend(json.loads(worker.stdout.readline()))
    for worker in workers:
        assert worker.stdin
        worker.stdin.close()
        worker.wait()
    print("load average (1 min) at each round:", ", ".join(f"{x:.1f}" for x in loads))
    first = statistics.median(times[trees[0]])
    rows = []
    for tree, answer in zip(trees, answers, strict=True):
        middle = statistics.median(times[tree])
        fastest = min(times[tree])
        rows.append([Path(tree).name, args.db, f"{middle * 1000:.0f}", f"{fastest * 1000:.0f}",
                     f"{middle / first:.2f}", str(len(times[tree])), f"{answer['bytes']:,}",
                     "yes" if middle < 0.3 else "no"])  # fmt: skip
    print(table(["tree", "db", "median ms", "min ms", "÷ first", "requests", "bytes",
                 "< 300 ms"], rows))  # fmt: skip
    same = len({answer["digest"] for answer in answers}) == 1
    print("same HTML from every tree:", "yes" if same else "NO")


if __name__ == "__main__":
    main()
