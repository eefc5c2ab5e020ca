"""The everyday reads beside the health endpoint, in one process and one run (issue 20).

A fresh SQLite data directory gets the township of ``case_loop.py`` and ``--cases`` cases
in several states. Then, through the whole WSGI application (no HTTP server), each of:

- health: ``GET /api/v1/health`` (no database, no authentication);
- list: ``GET /api/v1/cases?limit=50`` as the dispatcher (bearer token);
- center: ``GET /center/`` as the dispatcher (a signed-in session);

is called ``--requests`` times after a warm-up, in rotating order over ``--rounds``
rounds, and printed as requests/s with the ratio to health (medians).

    .venv/bin/python benchmarks/reads.py
    .venv/bin/python benchmarks/reads.py --cases 200 --requests 100
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
from case_loop import SETUP  # noqa: E402


def worker(
    cases: int, requests: int, rounds: int, tokens: dict[str, str]
) -> dict[str, list[float]]:
    import io
    import time

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from civicgrid.cases import services
    from civicgrid.config.wsgi import application
    from civicgrid.people.models import User

    admin = User.objects.get(username="bench_admin")
    dispatcher = User.objects.get(username="bench_dispatcher")
    officer = User.objects.get(username="bench_officer")
    for i in range(cases):
        case = services.case_report(actor=admin, category="0702", description="bench",
                                    lon=113.0005 + i * 7e-5, lat=23.011).case  # fmt: skip
        for step, who in (("file", dispatcher), ("dispatch", dispatcher), ("dispose", officer)):
            if i % 4 == ["file", "dispatch", "dispose"].index(step):
                break
            params = {"result": "done"} if step == "dispose" else {}
            services.case_transition(case=case, action=step, actor=who, version=case.version,
                                     **params)  # fmt: skip
    session = SessionStore()
    session[SESSION_KEY] = str(dispatcher.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = dispatcher.get_session_auth_hash()
    session.save()
    cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"

    def call(path: str, headers: dict[str, str]) -> None:
        route, _sep, query = path.partition("?")
        env = {"REQUEST_METHOD": "GET", "PATH_INFO": route, "QUERY_STRING": query,
               "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1",
               "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
               "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr, **headers}  # fmt: skip
        status: list[str] = []
        b"".join(application(env, lambda s, h, *a: status.append(s)))
        if not status[0].startswith("200"):
            raise SystemExit(f"{path}: {status[0]}")

    targets = {
        "health": ("/api/v1/health", {}),
        "list": (
            "/api/v1/cases?limit=50",
            {"HTTP_AUTHORIZATION": f"Bearer {tokens['dispatcher']}"},
        ),
        "center": ("/center/", {"HTTP_COOKIE": cookie, "HTTP_ACCEPT_LANGUAGE": "en"}),
    }
    for path, headers in targets.values():
        for _ in range(10):
            call(path, headers)
    results: dict[str, list[float]] = {name: [] for name in targets}
    names = list(targets)
    for round_no in range(rounds):
        for name in names[round_no % 3 :] + names[: round_no % 3]:
            path, headers = targets[name]
            start = time.perf_counter()
            for _ in range(requests):
                call(path, headers)
            results[name].append(requests / (time.perf_counter() - start))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=120)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.cases, args.requests, args.rounds, json.loads(args.worker))))
        return
    print(machine_line())
    with tempfile.TemporaryDirectory(prefix="reads-") as data:
        env = {**os.environ, "CIVICGRID_DATA_DIR": data, "DJANGO_SETTINGS_MODULE":
               "civicgrid.config.settings", "LOG_LEVEL": "ERROR"}  # fmt: skip
        env.pop("DATABASE_URL", None)
        env.pop("DEBUG", None)
        setup = subprocess.run([sys.executable, "-c", SETUP], env=env, cwd=ROOT,
                               capture_output=True, text=True, check=True)  # fmt: skip
        run = subprocess.run(
            [sys.executable, __file__, "--worker", setup.stdout.strip().splitlines()[-1],
             "--cases", str(args.cases), "--requests", str(args.requests),
             "--rounds", str(args.rounds)],
            env=env, cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        if run.returncode != 0:
            raise SystemExit(run.stderr[-3000:])
        results = json.loads(run.stdout.strip().splitlines()[-1])
    health = statistics.median(results["health"])
    rows = []
    for name, rates in results.items():
        ratio = statistics.median(r / h for r, h in zip(rates, results["health"], strict=True))
        rows.append([name, f"{statistics.median(rates):,.0f}", f"{ratio:.3f}"])
    print(f"{args.cases} cases, {args.requests} requests per figure, medians of {args.rounds}")
    print(table(["endpoint", "req/s", "÷ health"], rows))
    print(f"health {health:,.0f} req/s; load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
