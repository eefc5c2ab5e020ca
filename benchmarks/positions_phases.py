"""Where a position batch's time goes: ``POST /api/v1/patrol/positions`` phase by phase.

In one process (no HTTP server), on the database of ``DATABASE_URL`` (migrated here; a
fresh one, since it adds a user), for ``--requests`` batches of ``--batch`` fixes each
later than the last, as ``positions.py`` sends them:

- the whole request through Django's handler (middleware, Ninja, the view), ms per batch;
- each phase timed alone on the same kind of batch: the token look-up (auth), the JSON
  parse, the validation of the body, the view's conversion into fixes, and inside
  ``services.positions_batch_record`` the look-up (receipt, shifts, last fix), the
  implausibility flags, the insert (COPY / executemany), the receipt and the commit;
- the statements one batch sends (COPY counted as one), and a raw insert of the same
  number of rows in a transaction of its own (``patrol.ingest.positions_insert``).

    DATABASE_URL=postgres://…/civicgrid_phases .venv/bin/python benchmarks/positions_phases.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_line, table

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.config.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from django.db import connection, transaction
    from django.test import Client
    from django.utils import timezone

    from civicgrid.config.api import api
    from civicgrid.patrol import api as patrol_api
    from civicgrid.patrol import duty, ingest, services
    from civicgrid.patrol.models import Position, Shift
    from civicgrid.patrol.schemas import BatchIn
    from civicgrid.people.models import User
    from civicgrid.people.services import api_token_authenticate, api_token_create

    User.objects.filter(username="phases").delete()
    user = User.objects.create_user(username="phases", password="x-long-bench-password")
    start = timezone.now() - dt.timedelta(hours=3)
    shift = Shift.objects.create(user=user, started_at=start)
    _token, raw_token = api_token_create(user=user, name="phases")
    counter = iter(range(10**9))

    def body() -> bytes:
        k = next(counter)
        parts = []
        for i in range(args.batch):
            n = k * args.batch + i
            stamp = start + dt.timedelta(seconds=60, milliseconds=10 * n)
            lon = 113.005 + (n % 1000) * 1e-7
            when = stamp.replace(tzinfo=None).isoformat("T", "milliseconds")
            parts.append(
                f'{{"lon":{lon:.7f},"lat":23.01,"accuracy":5,"speed":1.0,"battery":80,'
                f'"time":"{when}Z"}}'
            )
        return ('{"positions":[' + ",".join(parts) + "]}").encode()

    client = Client(HTTP_HOST="127.0.0.1")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw_token}"}

    def request() -> None:
        answer = client.post(
            "/api/v1/patrol/positions", body(), content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=f"k{time.perf_counter_ns()}", **headers,
        )  # fmt: skip
        assert answer.status_code == 200, answer.content

    # Statements of one batch (COPY counted once: it does not pass the execute wrappers).
    for _ in range(3):
        request()
    statements: list[str] = []

    def record(execute: Callable[..., Any], sql: str, *rest: Any) -> Any:
        statements.append(" ".join(sql.split())[:70])
        return execute(sql, *rest)

    with connection.execute_wrapper(record):
        request()
    copies = 1 if connection.vendor == "postgresql" else 0

    whole = []
    for _ in range(args.requests):
        started = time.perf_counter()
        request()
        whole.append(time.perf_counter() - started)

    # Phases, each on its own batch.
    spent: dict[str, list[float]] = defaultdict(list)

    def timed(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*a: Any, **k: Any) -> Any:
            started = time.perf_counter()
            try:
                return func(*a, **k)
            finally:
                spent[name].append(time.perf_counter() - started)

        return wrapper

    services.ingest = type(sys)("timed_ingest")  # type: ignore[assignment]
    services.ingest.__dict__.update(vars(ingest))
    services.ingest.batch_state = timed("look-up: receipt, shifts, last fix", ingest.batch_state)
    services.ingest.receipt_insert = timed("receipt insert", ingest.receipt_insert)
    services.duty = type(sys)("timed_duty")  # type: ignore[assignment]
    services.duty.__dict__.update(vars(duty))
    services.duty.implausible = timed("implausibility flags", duty.implausible)
    services.positions_insert = timed("insert (COPY / executemany)", ingest.positions_insert)
    commit = connection.commit
    connection.commit = timed("commit", commit)  # type: ignore[method-assign]
    for _ in range(args.requests):
        raw = body()
        started = time.perf_counter()
        api_token_authenticate(raw_token)
        spent["auth (token, user, roles)"].append(time.perf_counter() - started)
        started = time.perf_counter()
        data = api.parser.parse_body(type("R", (), {"body": raw})())
        spent["JSON parse"].append(time.perf_counter() - started)
        started = time.perf_counter()
        payload = BatchIn.model_validate(data)
        spent["validation"].append(time.perf_counter() - started)
        started = time.perf_counter()
        fixes = patrol_api.batch_fixes(payload)
        spent["fixes from the body"].append(time.perf_counter() - started)
        started = time.perf_counter()
        services.positions_batch_record(user=user, key=f"p{time.perf_counter_ns()}", fixes=fixes)
        spent["service (all below)"].append(time.perf_counter() - started)
    connection.commit = commit  # type: ignore[method-assign]

    rows = [
        (user.pk, shift.pk, start + dt.timedelta(hours=2, microseconds=i), 113.0, 23.0, 5.0, 1.0,
         None, None, 80.0, "batch", "")
        for i in range(args.batch)
    ]  # fmt: skip
    raw_times = []
    for k in range(args.requests):
        moved = [(r[0], r[1], r[2] + dt.timedelta(seconds=k), *r[3:]) for r in rows]
        started = time.perf_counter()
        with transaction.atomic():
            ingest.positions_insert(moved)
        raw_times.append(time.perf_counter() - started)
    Position.objects.filter(staff=user).delete()

    ms = lambda values: f"{statistics.median(values) * 1000:.2f}"  # noqa: E731
    print(machine_line())
    print(f"{connection.vendor}, {args.batch} fixes per batch, medians of {args.requests}")
    print(table(["phase", "ms per batch"], [[k, ms(v)] for k, v in spent.items()]))
    print(f"whole request through the handler: {ms(whole)} ms; "
          f"raw insert of {args.batch} rows in a transaction: {ms(raw_times)} ms")  # fmt: skip
    print(f"statements per batch: {len(statements) + copies} (COPY: {copies})")
    for sql in statements:
        print("  ", sql)
    print(machine_line())
    print(json.dumps({"whole_ms": statistics.median(whole) * 1000}))


if __name__ == "__main__":
    main()
