"""What each middleware costs the health endpoint, in one process (issue 20).

``GET /api/v1/health`` through our WSGI application with the whole middleware stack, then
with each middleware left out in turn, then with none: requests per CPU second of this
process (the wall clock on shared, busy cores mostly measures the wait for a core),
``--requests`` calls per figure after a warm-up, medians of ``--rounds`` rounds in rotating
order. A middleware's cost is the stack's time per request minus the time without it.

``--bearer`` adds a bearer-token API read (``GET /api/v1/cases/inbox?limit=1``, an empty
inbox: one statement, in a database migrated for the run) through the whole stack, the same
stack without ``BearerApiShortcut`` (every request through the browser's middleware) and
no middleware at all.

    .venv/bin/python benchmarks/middleware.py
    .venv/bin/python benchmarks/middleware.py --requests 2000 --rounds 5
    .venv/bin/python benchmarks/middleware.py --bearer
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import machine_line, table  # noqa: E402
from reads import wsgi_call  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bearer", action="store_true", help="also a bearer-token API read")
    args = parser.parse_args()
    os.environ.setdefault("CIVICGRID_DATA_DIR", tempfile.mkdtemp(prefix="middleware-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "civicgrid.config.settings"
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.conf import settings

    full = list(settings.MIDDLEWARE)
    variants: dict[str, list[str]] = {"whole stack": full}
    # Those that need another one leave with it (the session's dependants with the session).
    needs = {
        "django.contrib.sessions.middleware.SessionMiddleware": (
            "SessionIdleRenewal", "AuthenticationMiddleware", "MessageMiddleware",
            "AxesMiddleware"),
        "django.contrib.auth.middleware.AuthenticationMiddleware": ("AxesMiddleware",),
    }  # fmt: skip
    for name in full:
        gone = {name, *(m for m in full if m.rsplit(".", 1)[-1] in needs.get(name, ()))}
        label = " + ".join(m.rsplit(".", 1)[-1] for m in full if m in gone)
        variants[f"without {label}"] = [m for m in full if m not in gone]
    variants["no middleware"] = []
    health = measure(variants, "/api/v1/health", {}, args.requests, args.rounds)
    print(machine_line())
    print(f"GET /api/v1/health, {args.requests} requests per figure, medians of {args.rounds}")
    print(health)
    if args.bearer:
        from django.core.management import call_command

        from civicgrid.people import services

        call_command("migrate", interactive=False, verbosity=0)
        user = services.staff_create(username="bench", full_name="基准", actor=None)
        raw = services.api_token_create(user=user, name="bench")[1]
        shortcut = "civicgrid.config.middleware.BearerApiShortcut"
        stacks = {"whole stack": full, "no middleware": []}
        if shortcut in full:
            stacks["without BearerApiShortcut"] = [m for m in full if m != shortcut]
        headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}", "HTTP_ACCEPT_LANGUAGE": "en"}
        url = "/api/v1/cases/inbox?limit=1"
        bearer = measure(stacks, url, headers, args.requests, args.rounds)
        print(f"GET {url} with a bearer token, {args.requests} requests per figure")
        print(bearer)
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


def measure(
    variants: dict[str, list[str]],
    url: str,
    headers: dict[str, str],
    requests: int,
    rounds: int,
) -> str:
    """CPU µs per request of ``url`` through each variant's stack, as a table."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.utils import override_settings

    handlers: dict[str, Any] = {}
    for label, stack in variants.items():
        with override_settings(MIDDLEWARE=stack):
            handlers[label] = WSGIHandler()  # loads the middleware chain from the settings
    for handler in handlers.values():
        for _ in range(50):
            wsgi_call(handler, url, headers)
    cpu: dict[str, list[float]] = {label: [] for label in handlers}
    labels = list(handlers)
    for round_no in range(rounds):
        shift = round_no % len(labels)
        for label in labels[shift:] + labels[:shift]:
            handler = handlers[label]
            start = time.process_time()
            for _ in range(requests):
                wsgi_call(handler, url, headers)
            cpu[label].append((time.process_time() - start) / requests * 1e6)
    whole = statistics.median(cpu["whole stack"])
    rows = []
    for label in labels:
        us = statistics.median(cpu[label])
        rows.append([label, f"{us:,.0f}", f"{1e6 / us:,.0f}", f"{whole - us:+,.0f}"])
    return table(["stack", "µs CPU/request", "req per CPU s", "saved vs whole"], rows)


if __name__ == "__main__":
    main()
