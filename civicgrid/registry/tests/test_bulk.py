"""Rows written in bulk for an import (``core.bulk``): ids taken ahead, columns left out."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection, transaction
from django.utils import timezone

from civicgrid.core import bulk
from civicgrid.core.bulk import insert_values, take_ids
from civicgrid.registry.models import House, RecordChange
from civicgrid.registry.tests.conftest import Cast


def _history(ids: list[int]) -> list[dict[str, object]]:
    return [
        {"model": "registry.Person", "record_id": pk, "action": "import", "actor_id": None,
         "changes": {}}
        for pk in ids
    ]  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_ids_are_new_consecutive_and_insertable():
    with transaction.atomic():
        stored = RecordChange.objects.create(model="registry.Person", record_id=1, action="import")
        ids = take_ids(RecordChange, 500)
        assert ids == list(range(ids[0], ids[0] + 500))
        assert ids[0] > stored.pk
        insert_values(RecordChange, _history(ids), ids=ids, batch=200)
    assert sorted(RecordChange.objects.exclude(pk=stored.pk).values_list("pk", flat=True)) == ids
    with transaction.atomic():
        later = take_ids(RecordChange, 3)
    assert later[0] > ids[-1]  # never given twice, though the first rows may be deleted


@pytest.mark.django_db(transaction=True)
def test_ids_stay_distinct_and_given_by_the_database_when_not_consecutive():
    """When the database does not give consecutive ids (on PostgreSQL another session took
    some meanwhile, imitated by a sequence counting in twos), each id read back is one the
    database gave; on SQLite, ids deleted from the top are not given again."""
    with transaction.atomic():
        first = take_ids(RecordChange, 1)[0]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_get_serial_sequence(%s, 'id')", [RecordChange._meta.db_table]
                )
                sequence = cursor.fetchone()[0]
                cursor.execute(f"ALTER SEQUENCE {sequence} INCREMENT BY 2")
                try:
                    ids = take_ids(RecordChange, 50)
                finally:
                    cursor.execute(f"ALTER SEQUENCE {sequence} INCREMENT BY 1")
            assert len(set(ids)) == 50
            assert all(b - a == 2 for a, b in itertools.pairwise(ids))
            assert ids[0] > first
        else:
            insert_values(RecordChange, _history([first]), ids=[first])
            RecordChange.objects.filter(pk=first).delete()
            ids = take_ids(RecordChange, 50)
            assert ids == list(range(first + 1, first + 51))
        insert_values(RecordChange, _history(ids), ids=ids)
    assert RecordChange.objects.filter(pk__in=ids).count() == 50


@pytest.mark.django_db
def test_a_column_null_in_every_row_is_left_out_and_stored_null(cast: Cast) -> None:
    with transaction.atomic():
        ids = take_ids(RecordChange, 4)
        nobody = _history(ids[:2])
        insert_values(RecordChange, nobody, ids=ids[:2])
        one = [{**row, "actor_id": cast.admin.pk} if i == 0 else row
               for i, row in enumerate(_history(ids[2:]))]  # fmt: skip
        insert_values(RecordChange, one, ids=ids[2:])
    actors = dict(RecordChange.objects.filter(pk__in=ids).values_list("pk", "actor_id"))
    assert actors == {ids[0]: None, ids[1]: None, ids[2]: cast.admin.pk, ids[3]: None}
    now = timezone.now()
    assert "actor_id" not in bulk._tuples(RecordChange, nobody, ids[:2], now, {})[0]
    assert "actor_id" in bulk._tuples(RecordChange, one, ids[2:], now, {})[0]


@pytest.mark.django_db
def test_values_the_same_in_every_row_are_given_once(cast: Cast) -> None:
    """``same`` fills the columns the rows leave out; a row that leaves out another field
    (after rows that did not) takes that field's default, as ``Model(**row)`` does."""
    with transaction.atomic():
        ids = take_ids(RecordChange, 3)
        rows = [{"record_id": pk, "changes": {"n": [None, pk]}} for pk in ids]
        del rows[2]["changes"]
        insert_values(RecordChange, rows, ids=ids,
                      same={"model": "registry.House", "action": "import",
                            "actor_id": cast.admin.pk})  # fmt: skip
    stored = list(
        RecordChange.objects.filter(pk__in=ids)
        .order_by("pk")
        .values_list("model", "record_id", "action", "actor_id", "changes")
    )
    assert stored == [
        ("registry.House", ids[0], "import", cast.admin.pk, {"n": [None, ids[0]]}),
        ("registry.House", ids[1], "import", cast.admin.pk, {"n": [None, ids[1]]}),
        ("registry.House", ids[2], "import", cast.admin.pk, {}),
    ]


@pytest.mark.django_db
def test_a_row_leaving_out_a_field_after_full_rows_takes_its_default(cast: Cast) -> None:
    """Rows read whole as long as each has every field (on PostgreSQL, where houses need
    no conversion, without a list per row); from the first that does not, field by field."""
    full = {"address": "东村路", "lon": 113.005, "lat": 23.01, "grid_id": cast.grid.pk,
            "building_type": "detached", "floors": 3, "households": 2, "owner_name": "王五",
            "owner_phone": "", "use": "own", "rental_registered": False, "rental_rooms": 0,
            "rental_tenants": 0, "rental_starts_on": None, "rental_ends_on": None}  # fmt: skip
    rows = [{**full, "code": "B1"}, {**full, "code": "B2"}, {**full, "code": "B3"}]
    del rows[1]["floors"], rows[2]["owner_name"]
    with transaction.atomic():
        ids = take_ids(House, 3)
        insert_values(House, rows, ids=ids)
    stored = (
        House.objects.filter(pk__in=ids).order_by("pk").values_list("code", "floors", "owner_name")
    )
    assert list(stored) == [("B1", 3, "王五"), ("B2", 1, "王五"), ("B3", 3, "")]
