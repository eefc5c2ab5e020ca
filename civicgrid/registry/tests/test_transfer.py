from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from civicgrid.people.models import AccessLog
from civicgrid.registry import columns, services, transfer
from civicgrid.registry.models import House, Person, RecordChange
from civicgrid.registry.tests.conftest import IN_GRID, house_values, resident_id

PERSON_HEADER = ["姓名 / Name", "证件号码", "Document number", "房屋编号 / House code"]


def person_rows(count: int, *, start: int = 0) -> list[list[str]]:
    base = dt.date(1950, 1, 1)
    return [
        [
            f"居民{i}",
            resident_id(base + dt.timedelta(days=i), female=bool(i % 2)),
            "",
            f"H{i % 20:03d}",
        ]
        for i in range(start, start + count)
    ]


def as_csv(header: list[str], rows: list[list[str]]) -> io.BytesIO:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return io.BytesIO(text.getvalue().encode("utf-8-sig"))


@pytest.fixture
def twenty_houses(cast) -> None:
    for i in range(20):
        services.house_create(values=house_values(f"H{i:03d}"), actor=None)


def test_clean_ten_thousand_rows_are_all_written(cast, twenty_houses):
    rows = person_rows(10_000)
    header = ["姓名 / Name", "证件号码 / Document number", "房屋编号 / House code"]
    report = transfer.registry_import(
        kind="persons",
        stream=as_csv(header, [[r[0], r[1], r[3]] for r in rows]),
        name="p.csv",
        actor=cast.admin,
    )
    assert report.ok, report.lines(5)
    assert report.created == 10_000 == Person.objects.count()
    assert RecordChange.objects.filter(model="registry.Person", action="import").count() == 10_000
    assert Person.objects.filter(sex="F").count() == 5_000


def test_errors_sprinkled_in_ten_thousand_rows_are_reported_and_nothing_written(
    cast, twenty_houses
):
    services.person_create(
        values={
            "full_name": "已登记",
            "id_number": person_rows(1, start=7000)[0][1],
            "house": "H000",
        },
        actor=None,
    )
    header = ["姓名 / Name", "证件号码 / Document number", "房屋编号 / House code"]
    rows = [[r[0], r[1], r[3]] for r in person_rows(10_000)]
    rows[10][1] = rows[10][1][:-1] + ("0" if rows[10][1][-1] != "0" else "1")  # bad check char
    rows[2000][2] = "NOPE"  # unknown house
    rows[5000][0] = ""  # name missing
    rows[9999][1] = rows[42][1]  # same number as an earlier row
    report = transfer.registry_import(
        kind="persons", stream=as_csv(header, rows), name="p.csv", actor=None
    )
    assert not report.ok
    found = {(p.row, p.column, p.duplicate) for p in report.problems}
    assert found == {
        (12, "证件号码 / Document number", False),
        (2002, "房屋编号 / House code", False),
        (5002, "姓名 / Name", False),
        (7002, "证件号码 / Document number", True),  # already stored
        (10001, "证件号码 / Document number", True),  # row 44 of the file
    }
    problem = next(p for p in report.problems if p.row == 10001)
    assert "row 44" in problem.problem and problem.value == rows[42][1]
    assert Person.objects.count() == 1


def test_dry_run_writes_nothing(cast, twenty_houses):
    header = ["Name", "Document number", "House code"]
    rows = [[r[0], r[1], r[3]] for r in person_rows(5)]
    report = transfer.registry_import(
        kind="persons", stream=as_csv(header, rows), name="p.csv", actor=None, dry_run=True
    )
    assert report.ok and report.rows == 5 and report.created == 0
    assert Person.objects.count() == 0


def test_import_refuses_rows_outside_the_actors_grids(cast):
    header = ["code", "address", "lon", "lat"]
    rows = [["H1", "a", *IN_GRID], ["H2", "b", 113.035, 23.01]]
    report = transfer.registry_import(
        kind="houses", stream=as_csv(header, rows), name="h.csv", actor=cast.admin
    )
    assert [p.row for p in report.problems] == [3]
    assert House.objects.count() == 0


def test_unknown_and_missing_columns_are_reported(cast):
    report = transfer.registry_import(
        kind="houses", stream=as_csv(["code", "colour"], []), name="h.csv", actor=None
    )
    problems = {(p.column, p.problem) for p in report.problems}
    assert ("colour", "Unknown column.") in problems
    assert ("地址 / Address", "Required column missing.") in problems


def test_xlsx_round_trip_of_legal_persons(cast, house, tmp_path):
    services.legal_person_create(
        values={
            "name": "好味餐馆",
            "credit_code": "91350100M000100Y43",
            "kind": "个体工商户",
            "representative_name": "钱七",
            "house": "H001",
            "industry": "餐饮",
            "licences": "business|L1|市场监管局|;catering|C1||2020-01-01",
        },
        actor=cast.admin,
    )
    buffer = io.BytesIO()
    count = transfer.registry_export(
        kind="legal-persons",
        actor=cast.admin,
        out=buffer,
        fmt="xlsx",
        purpose="核查",
        unmasked=True,
    )
    assert count == 1
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).worksheets[0]
    header, row = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert header[1] == "统一社会信用代码 / Unified social credit code"
    assert row[3] == "钱七" and row[8] == "business|L1|市场监管局|;catering|C1||2020-01-01"
    # the same file imports again only as a duplicate
    report = transfer.registry_import(
        kind="legal-persons", stream=io.BytesIO(buffer.getvalue()), name="x.xlsx", actor=None
    )
    assert [p.duplicate for p in report.problems] == [True]


def test_export_is_scoped_masked_and_logged(cast, house, far_house):
    services.person_create(
        values={
            "full_name": "赵六",
            "id_number": resident_id(dt.date(1990, 3, 4)),
            "phone": "13912345678",
            "house": "H001",
        },
        actor=None,
    )
    buffer = io.BytesIO()
    assert transfer.registry_export(kind="houses", actor=cast.admin, out=buffer, fmt="csv") == 1
    buffer = io.BytesIO()
    transfer.registry_export(kind="persons", actor=cast.admin, out=buffer, fmt="csv")
    [_header, row] = list(csv.reader(io.StringIO(buffer.getvalue().decode("utf-8-sig"))))
    assert row[0] == "赵*" and row[2] == "110105********0015"[:6] + row[2][6:] and "*" in row[2]
    assert row[5] == "139****5678"
    log = AccessLog.objects.filter(channel="export").order_by("id")
    assert [(entry.model, entry.fields) for entry in log] == [
        ("registry.House", []),
        ("registry.Person", []),
    ]


def test_unmasked_export_writes_one_access_log_row_with_the_fields(cast, house):
    buffer = io.BytesIO()
    transfer.registry_export(
        kind="houses", actor=cast.admin, out=buffer, fmt="csv", purpose="走访", unmasked=True
    )
    entry = AccessLog.objects.get()
    assert entry.fields == ["owner_name", "owner_phone", "lon", "lat"] and entry.purpose == "走访"
    assert "王五" in buffer.getvalue().decode("utf-8-sig")


def test_template_has_chinese_and_english_headers():
    text = transfer.template("components", "csv").decode("utf-8-sig")
    assert text.splitlines()[0].startswith("部件标识码 / Component identifier,部件类别 / Category")
    book = load_workbook(io.BytesIO(transfer.template("persons", "xlsx")))
    assert next(book.worksheets[0].iter_rows(values_only=True))[0] == "姓名 / Name"
    assert len(columns.PERSON) == 19


def test_import_command_exit_codes(cast, tmp_path, capsys):
    good = tmp_path / "houses.csv"
    good.write_bytes(as_csv(["code", "address", "lon", "lat"], [["H1", "a", *IN_GRID]]).read())
    call_command("import_registry", "houses", str(good), "--dry-run")
    assert "would import 1 rows" in capsys.readouterr().out
    call_command("import_registry", "houses", str(good))
    assert House.objects.count() == 1
    with pytest.raises(SystemExit) as exited:
        call_command("import_registry", "houses", str(good))
    assert exited.value.code == 1
    out = capsys.readouterr().out
    assert "row 2" in out and "Already registered" in out and "nothing imported" in out


def test_export_command_writes_by_extension(cast, house, tmp_path):
    target = tmp_path / "houses.xlsx"
    call_command("export_registry", "houses", "--out", str(target), "--user", "admin1")
    assert load_workbook(target).worksheets[0].max_row == 2


def test_imported_rows_carry_their_ids_and_the_database_keeps_counting_after_them(
    cast, twenty_houses
):
    """Imports write tuples with ids taken ahead (civicgrid.core.bulk): the rows, their
    history and later single writes must agree on the ids, and no id is given twice."""
    header = ["姓名 / Name", "证件号码 / Document number", "房屋编号 / House code"]
    rows = [[name, number, house] for name, number, _blank, house in person_rows(30)]
    first = transfer.registry_import(
        kind="persons", stream=as_csv(header, rows[:20]), name="p.csv", actor=cast.admin
    )
    assert first.ok and first.created == 20
    imported = list(Person.objects.order_by("pk"))
    assert [p.full_name for p in imported] == [f"居民{i}" for i in range(20)]
    assert imported[0].birth_date == dt.date(1950, 1, 1)
    assert imported[1].sex == "F" and imported[0].sex == "M"
    assert all(p.created_at is not None and p.updated_at is not None for p in imported)
    history = RecordChange.objects.filter(model="registry.Person", action="import")
    assert sorted(history.values_list("record_id", flat=True)) == [p.pk for p in imported]
    assert {h.actor_id for h in history} == {cast.admin.pk}
    assert all(h.at is not None and "full_name" in h.changes for h in history)

    # The highest id is deleted: neither a single write nor the next import reuses it.
    highest = imported[-1].pk
    Person.objects.filter(pk=highest).delete()
    single = services.person_create(
        values={"full_name": "单写", "id_number": rows[20][1], "house": "H000"}, actor=None
    )
    assert single.pk > highest
    second = transfer.registry_import(
        kind="persons", stream=as_csv(header, rows[21:]), name="p.csv", actor=cast.admin
    )
    assert second.ok and second.created == 9
    later = list(Person.objects.filter(pk__gt=single.pk).values_list("full_name", flat=True))
    assert later == [f"居民{i}" for i in range(21, 30)]
    assert (
        services.person_create(
            values={
                "full_name": "再写",
                "id_number": resident_id(dt.date(1990, 5, 5)),
                "house": "H001",
            },
            actor=None,
        ).pk
        > Person.objects.exclude(full_name="再写").order_by("-pk").first().pk
    )


def test_imported_history_is_what_a_single_create_would_record(cast, twenty_houses):
    """The bulk history text equals the diff of a model instance built from the same values."""
    header = ["姓名", "证件号码", "房屋编号", "联系电话"]
    rows = [[r[0], r[1], r[3], "13912345678"] for r in person_rows(3)]
    rows[1][3] = ""  # an empty phone is left out of the history, as on a create
    report = transfer.registry_import(
        kind="persons", stream=as_csv(header, rows), name="p.csv", actor=None
    )
    assert report.ok, report.lines(5)
    for person in Person.objects.all():
        change = RecordChange.objects.get(model="registry.Person", record_id=person.pk)
        assert change.action == "import"
        assert change.changes == services._diff(person, None)
        assert "13912345678" not in str(change.changes) and person.full_name not in str(
            change.changes
        )


def test_history_text_matches_json_dumps_of_the_diff():
    values = {
        "full_name": "居民一",
        "id_number": "11010519491231002X",
        "birth_date": dt.date(1949, 12, 31),
        "sex": "F",
        "phone": "",
        "house_id": 7,
        "disability": True,
        "widowed": False,
        "room": None,
    }
    encode = services.created_changes_json(Person)
    expected = json.dumps(services._diff(Person(**values), None))
    assert encode(values) == expected
    assert encode(values) == expected  # the second time from the encoded parts
    assert encode({**values, "house_id": 1}) == json.dumps(
        services._diff(Person(**{**values, "house_id": 1}), None)
    )
