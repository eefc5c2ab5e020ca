"""On PostgreSQL, patrol_position becomes a table partitioned by month of ``time``.

Declarative range partitioning: the primary key becomes (id, time), as PostgreSQL requires
the partition key in it (Django still reads ``id`` as the key; nothing refers to a position
by its id). The rows are copied into the new table, the monthly partitions of the months
they fall in and of this month and the next two are created, and a default partition takes
any other time. SQLite keeps its plain table: the operations do nothing there.
"""


from django.db import migrations
from django.utils import timezone

TABLE = "patrol_position"
OLD = "patrol_position_unpartitioned"

COLUMNS_AND_KEYS = f"""
ALTER TABLE {TABLE} ADD CONSTRAINT patrol_position_pkey PRIMARY KEY (id, "time");
CREATE INDEX position_staff_time ON {TABLE} (staff_id, "time");
CREATE INDEX patrol_position_shift_id ON {TABLE} (shift_id);
ALTER TABLE {TABLE} ADD CONSTRAINT patrol_position_staff_id_fk_people_user
    FOREIGN KEY (staff_id) REFERENCES people_user (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE {TABLE} ADD CONSTRAINT patrol_position_shift_id_fk_patrol_shift
    FOREIGN KEY (shift_id) REFERENCES patrol_shift (id) DEFERRABLE INITIALLY DEFERRED;
"""


def _partition(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    from civicgrid.patrol import partitions

    run = schema_editor.execute
    run(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
    with schema_editor.connection.cursor() as cursor:
        # Free the names the new table takes: the primary key, and every index and foreign
        # key Django named after the table or the model.
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(%s)", [OLD]
        )
        for (name,) in cursor.fetchall():
            run(f'ALTER TABLE {OLD} RENAME CONSTRAINT "{name}" TO "{name[:50]}_old"')
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s "
            "AND indexname NOT LIKE '%%_old'",
            [OLD],
        )
        for (name,) in cursor.fetchall():
            run(f'ALTER INDEX "{name}" RENAME TO "{name[:50]}_old"')
    run(
        f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING IDENTITY) "
        'PARTITION BY RANGE ("time")'
    )
    run(COLUMNS_AND_KEYS)
    run(f"CREATE TABLE {partitions.DEFAULT} PARTITION OF {TABLE} DEFAULT")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT min(time), max(time) FROM {OLD}")
        low, high = cursor.fetchone()
    today = timezone.localdate()
    first = min(timezone.localdate(low), today) if low else today
    last = max(timezone.localdate(high), today) if high else today
    partitions.partitions_ensure(first=first, last=last, conn=schema_editor.connection)
    partitions.partitions_ahead(today=today, conn=schema_editor.connection)
    run(f"INSERT INTO {TABLE} SELECT * FROM {OLD}")
    run(
        f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), "
        f"coalesce((SELECT max(id) FROM {TABLE}), 0) + 1, false)"
    )
    run(f"DROP TABLE {OLD}")


def _unpartition(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    run(f"CREATE TABLE {OLD} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING IDENTITY)")
    run(f"INSERT INTO {OLD} SELECT * FROM {TABLE}")
    run(f"DROP TABLE {TABLE}")
    run(f"ALTER TABLE {OLD} RENAME TO {TABLE}")
    run(COLUMNS_AND_KEYS.replace('PRIMARY KEY (id, "time")', "PRIMARY KEY (id)"))
    run(
        f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), "
        f"coalesce((SELECT max(id) FROM {TABLE}), 0) + 1, false)"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("patrol", "0003_schedules_cross_midnight"),
    ]

    operations = [
        migrations.RunPython(_partition, _unpartition, elidable=False),
    ]
