"""Rows per second importing 50,000 persons, against a raw bulk insert of the same rows.

Runs on the database of DATABASE_URL (SQLite by default) in a throw-away test database:

    .venv/bin/python benchmarks/registry_import.py [ROWS]
    DATABASE_URL=postgres://…/civicgrid_bench .venv/bin/python benchmarks/registry_import.py

The import checks every row (ID number, house, duplicates in file and database), writes
the persons and one history row each as plain tuples (civicgrid.core.bulk), all in one
transaction. The baseline inserts the already-checked rows and one history row per person,
each table with one ``executemany``, and nothing else: the same writes without the checks.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import sys
import time


def main() -> None:
    rows_wanted = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
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
        from civicgrid.registry.models import Person, RecordChange

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

        started = time.perf_counter()
        report = transfer.registry_import(
            kind="persons", stream=io.BytesIO(data), name="p.csv", actor=None
        )
        imported_s = time.perf_counter() - started
        assert report.ok and report.created == rows_wanted, report.lines(5)

        with transaction.atomic():
            RecordChange.objects.filter(model="registry.Person").delete()
            Person.objects.all().delete()
        houses = dict(
            __import__("civicgrid.registry.models", fromlist=["House"]).House.objects.values_list(
                "code", "pk"
            )
        )
        now = timezone.now()
        at = now if connection.vendor == "postgresql" else now.isoformat(" ")
        raw = [
            (
                at,
                at,
                name,
                "resident_id",
                number,
                base,
                "M",
                phone,
                "local",
                houses[house],
                "",
                False,
                False,
                False,
                False,
                False,
                False,
            )
            for name, number, house, phone in rows
        ]
        sql = (
            "INSERT INTO registry_person (created_at, updated_at, full_name, document_type, "
            "id_number, birth_date, sex, phone, registration_type, house_id, room, disability, "
            "living_alone, widowed, orphaned, low_income, special_needs) VALUES "
            "(" + ", ".join(["%s"] * 17) + ")"
        )
        history_sql = (
            "INSERT INTO registry_recordchange (model, record_id, action, actor_id, at, changes) "
            "VALUES (%s, %s, %s, %s, %s, %s)"
        )
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, raw)
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
            cursor.executemany(history_sql, history)
        raw_s = time.perf_counter() - started
        assert Person.objects.count() == rows_wanted

        vendor = connection.vendor
        print(f"database: {vendor}, rows: {rows_wanted}")
        print(
            f"import-registry (checked, history): {rows_wanted / imported_s:10.0f} rows/s "
            f"({imported_s:.1f} s)"
        )
        print(
            f"raw executemany (persons + history): {rows_wanted / raw_s:10.0f} rows/s "
            f"({raw_s:.1f} s)"
        )
        print(f"ratio import / raw: {raw_s / imported_s:.3f}")
    finally:
        teardown_databases(old, verbosity=0)


if __name__ == "__main__":
    main()
