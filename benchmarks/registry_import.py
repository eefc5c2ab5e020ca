"""Rows per second importing 50,000 persons, against a raw bulk insert of the same rows.

Runs on the database of DATABASE_URL (SQLite by default) in a throw-away test database:

    .venv/bin/python benchmarks/registry_import.py [ROWS [ROUNDS]]
    DATABASE_URL=postgres://…/civicgrid_bench .venv/bin/python benchmarks/registry_import.py

The import checks every row (ID number, house, duplicates in file and database), writes
the persons and one history row each as plain tuples (civicgrid.core.bulk), all in one
transaction. The baseline inserts the already-checked rows and one history row per person,
each table with one ``executemany`` (SQLite) or one COPY (PostgreSQL), and nothing else: the
same writes without the checks. Medians of ROUNDS rounds (default 3), each round timing
both sides, alternating which goes first.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import statistics
import sys
import time


def main() -> None:
    rows_wanted = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.config.settings")
    import django

    django.setup()
    from django.db import connection, transaction
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases
    from django.utils import timezone
    from stdnum.cn import ric

    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False)
    try:
        from civicgrid.conftest import square_township_features
        from civicgrid.geo.services import boundaries_import
        from civicgrid.registry import services, transfer
        from civicgrid.registry.models import House, Person, RecordChange

        villages, grids = square_township_features()
        boundaries_import(
            township_code="441900123", township_name="bench", villages=villages, grids=grids
        )
        for i in range(100):
            services.house_create(
                values={
                    "code": f"H{i:03d}",
                    "address": f"路{i}号",
                    "lon": 113.001 + i * 0.0003,
                    "lat": 23.01,
                },
                actor=None,
            )
        base = dt.date(1940, 1, 1)
        rows = []
        for i in range(rows_wanted):
            body = f"110105{base + dt.timedelta(days=i % 30000):%Y%m%d}{i // 30000:02d}{i % 2 + 1}"
            rows.append(
                [
                    f"居民{i}",
                    body + ric.calc_check_digit(body + "0"),
                    f"H{i % 100:03d}",
                    "13912345678",
                ]
            )
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(
            [
                "姓名 / Name",
                "证件号码 / Document number",
                "房屋编号 / House code",
                "联系电话 / Phone",
            ]
        )
        writer.writerows(rows)
        data = text.getvalue().encode("utf-8")

        houses = dict(House.objects.values_list("code", "pk"))

        def import_checked() -> float:
            started = time.perf_counter()
            report = transfer.registry_import(
                kind="persons", stream=io.BytesIO(data), name="p.csv", actor=None
            )
            seconds = time.perf_counter() - started
            assert report.ok and report.created == rows_wanted, report.lines(5)
            return seconds

        def import_raw() -> float:
            """The same rows and history rows, already checked, written as fast as we can."""
            now = timezone.now()
            postgres = connection.vendor == "postgresql"
            at = now if postgres else now.isoformat(" ")
            raw = [
                (at, at, name, "resident_id", number, base, "M", phone, "local", houses[house],
                 "", False, False, False, False, False, False)
                for name, number, house, phone in rows
            ]  # fmt: skip
            person_columns = (
                "created_at, updated_at, full_name, document_type, id_number, birth_date, sex, "
                "phone, registration_type, house_id, room, disability, living_alone, widowed, "
                "orphaned, low_income, special_needs"
            )
            history_columns = "model, record_id, action, actor_id, at, changes"
            started = time.perf_counter()
            with transaction.atomic(), connection.cursor() as cursor:
                if postgres:  # COPY: the fastest way in
                    with cursor.cursor.copy(
                        f"COPY registry_person ({person_columns}) FROM STDIN"
                    ) as copy:
                        for row in raw:
                            copy.write_row(row)
                else:
                    cursor.executemany(
                        f"INSERT INTO registry_person ({person_columns}) VALUES "
                        "(" + ", ".join(["%s"] * 17) + ")",
                        raw,
                    )
                cursor.execute("SELECT id, full_name, house_id FROM registry_person")
                history = [
                    (
                        "registry.Person",
                        pk,
                        "import",
                        None,
                        at,
                        json.dumps({"full_name": [None, name[0] + "*"], "house": [None, house]}),
                    )
                    for pk, name, house in cursor.fetchall()
                ]
                if postgres:
                    with cursor.cursor.copy(
                        f"COPY registry_recordchange ({history_columns}) FROM STDIN"
                    ) as copy:
                        for row in history:
                            copy.write_row(row)
                else:
                    cursor.executemany(
                        f"INSERT INTO registry_recordchange ({history_columns}) "
                        "VALUES (%s, %s, %s, %s, %s, %s)",
                        history,
                    )
            seconds = time.perf_counter() - started
            assert Person.objects.count() == rows_wanted
            return seconds

        def empty() -> None:
            with transaction.atomic():
                RecordChange.objects.filter(model="registry.Person").delete()
                Person.objects.all().delete()

        timings: dict[str, list[float]] = {"import": [], "raw": []}
        for round_no in range(repeat):
            # Alternate which side goes first, so drift on a shared machine evens out.
            sides = ("import", "raw") if round_no % 2 == 0 else ("raw", "import")
            for side in sides:
                timings[side].append(import_checked() if side == "import" else import_raw())
                empty()
        imported_s = statistics.median(timings["import"])
        raw_s = statistics.median(timings["raw"])
        ratios = [r / i for i, r in zip(timings["import"], timings["raw"], strict=True)]

        vendor = connection.vendor
        way = "COPY" if vendor == "postgresql" else "executemany"
        print(f"database: {vendor}, rows: {rows_wanted}, rounds: {repeat} (medians)")
        print(
            f"import-registry (checked, history): {rows_wanted / imported_s:10.0f} rows/s "
            f"({imported_s:.2f} s)"
        )
        print(f"raw {way} (persons + history): {rows_wanted / raw_s:10.0f} rows/s ({raw_s:.2f} s)")
        print(
            f"ratio import / raw: {raw_s / imported_s:.3f} "
            f"(per round: {', '.join(f'{r:.3f}' for r in ratios)})"
        )
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    finally:
        teardown_databases(old, verbosity=0)


if __name__ == "__main__":
    main()
