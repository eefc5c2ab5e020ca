"""On PostgreSQL, cases_caseevent becomes a table partitioned by year of ``at``.

Declarative range partitioning, as patrol_position by month (patrol 0004). PostgreSQL
requires the partition key in every unique key: the primary key becomes (id, at), and the
ledger's unique keys (position) and (case, seq) become (position, at) and (case, seq, at),
under their old names. The appends' head-row lock keeps them unique across years and
``ledger-verify`` checks it (``cases.partitions``). A foreign key can only point at a
unique key, so the inbox and webhook rows that name an event lose their database-level
foreign key to it (Django still joins them; ledger rows are never deleted).

The rows are copied unchanged (ids, hashes, positions), the yearly partitions of the years
they fall in and of this year and the next are created, a default partition takes any other
time, and the append-only triggers are installed on the new table (PostgreSQL copies them to
each partition). SQLite keeps its plain table: the operations do nothing there.
"""

from django.db import migrations
from django.utils import timezone

from civicgrid.core import appendonly

TABLE = "cases_caseevent"
OLD = "cases_caseevent_unpartitioned"
REFERRERS = {
    "cases_notification": "cases_notification_event_id_138f3ccc_fk_cases_caseevent_id",
    "cases_webhookdelivery": "cases_webhookdelivery_event_id_8698a420_fk_cases_caseevent_id",
}

KEYS = f"""
ALTER TABLE {TABLE} ADD CONSTRAINT cases_caseevent_pkey PRIMARY KEY (id, at);
ALTER TABLE {TABLE} ADD CONSTRAINT case_event_seq_unique UNIQUE (case_id, seq, at);
ALTER TABLE {TABLE} ADD CONSTRAINT cases_caseevent_position_key UNIQUE ("position", at);
ALTER TABLE {TABLE} ADD CONSTRAINT cases_caseevent_position_check CHECK ("position" >= 0);
ALTER TABLE {TABLE} ADD CONSTRAINT cases_caseevent_seq_check CHECK (seq >= 0);
CREATE INDEX cases_caseevent_actor_id_3b42ca2c ON {TABLE} (actor_id);
CREATE INDEX cases_caseevent_at_2a0bb58d ON {TABLE} (at);
CREATE INDEX cases_caseevent_case_id_6c6031ac ON {TABLE} (case_id);
ALTER TABLE {TABLE} ADD CONSTRAINT cases_caseevent_actor_id_3b42ca2c_fk_people_user_id
    FOREIGN KEY (actor_id) REFERENCES people_user (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE {TABLE} ADD CONSTRAINT cases_caseevent_case_id_6c6031ac_fk_cases_case_id
    FOREIGN KEY (case_id) REFERENCES cases_case (id) DEFERRABLE INITIALLY DEFERRED;
"""


def _rename_keys_out_of_the_way(schema_editor, table):  # type: ignore[no-untyped-def]
    """Free the names the new table takes: every constraint and index of ``table``."""
    run = schema_editor.execute
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(%s)", [table])
        for (name,) in cursor.fetchall():
            run(f'ALTER TABLE {table} RENAME CONSTRAINT "{name}" TO "{name[:50]}_old"')
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexname NOT LIKE '%%_old'",
            [table],
        )
        for (name,) in cursor.fetchall():
            run(f'ALTER INDEX "{name}" RENAME TO "{name[:50]}_old"')


def _copy_and_guard(schema_editor) -> None:  # type: ignore[no-untyped-def]
    run = schema_editor.execute
    run(f"INSERT INTO {TABLE} SELECT * FROM {OLD}")
    run(
        f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), "
        f"coalesce((SELECT max(id) FROM {TABLE}), 0) + 1, false)"
    )
    run(f"DROP TABLE {OLD}")
    for statement in appendonly.install_statements("postgresql", TABLE):
        run(statement, params=None)


def _partition(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    from civicgrid.cases import partitions

    run = schema_editor.execute
    for table, constraint in REFERRERS.items():
        run(f'ALTER TABLE {table} DROP CONSTRAINT IF EXISTS "{constraint}"')
    run(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
    _rename_keys_out_of_the_way(schema_editor, OLD)
    run(
        f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING IDENTITY) "
        "PARTITION BY RANGE (at)"
    )
    run(KEYS)
    run(f"CREATE TABLE {partitions.DEFAULT} PARTITION OF {TABLE} DEFAULT")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT min(at), max(at) FROM {OLD}")
        low, high = cursor.fetchone()
    this_year = timezone.localdate().year
    first = min(timezone.localdate(low).year, this_year) if low else this_year
    last = max(timezone.localdate(high).year, this_year) if high else this_year
    partitions.partitions_ensure(first=first, last=last, conn=schema_editor.connection)
    partitions.partitions_ahead(today=timezone.localdate(), conn=schema_editor.connection)
    _copy_and_guard(schema_editor)


def _unpartition(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    run(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
    _rename_keys_out_of_the_way(schema_editor, OLD)
    run(f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING IDENTITY)")
    run(
        KEYS.replace("PRIMARY KEY (id, at)", "PRIMARY KEY (id)")
        .replace("UNIQUE (case_id, seq, at)", "UNIQUE (case_id, seq)")
        .replace('UNIQUE ("position", at)', 'UNIQUE ("position")')
    )
    _copy_and_guard(schema_editor)
    run(
        f'ALTER TABLE cases_notification ADD CONSTRAINT "{REFERRERS["cases_notification"]}" '
        f"FOREIGN KEY (event_id) REFERENCES {TABLE} (id) DEFERRABLE INITIALLY DEFERRED"
    )
    run(
        f'ALTER TABLE cases_webhookdelivery ADD CONSTRAINT "{REFERRERS["cases_webhookdelivery"]}" '
        f"FOREIGN KEY (event_id) REFERENCES {TABLE} (id) DEFERRABLE INITIALLY DEFERRED"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0010_case_department_history"),
    ]

    operations = [
        migrations.RunPython(_partition, _unpartition, elidable=False),
    ]
