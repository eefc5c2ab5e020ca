"""Service lists through the API: boundaries, scopes, the Health Center, the access log."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from civicgrid.care import selectors
from civicgrid.care.tests.conftest import Care
from civicgrid.people.models import AccessLog

pytestmark = pytest.mark.django_db
API = "/api/v1/care"


def ids(response) -> set[int]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["rows"]}


def test_a_child_is_listed_the_day_before_the_seventh_birthday_and_not_on_it(care: Care) -> None:
    before = care.day - dt.timedelta(days=1)
    client = care.client(care.admin)
    assert care.child.pk in ids(client.get(f"{API}/lists/children?on={before}"))
    on_day = ids(client.get(f"{API}/lists/children?on={care.day}"))
    assert care.child.pk not in on_day and care.toddler.pk in on_day


def test_a_pregnancy_is_listed_until_the_due_date_plus_the_window(care: Care) -> None:
    client = care.client(care.admin)
    due = care.pregnant.pregnant_until
    last = due + dt.timedelta(days=42)
    assert care.pregnant.pk in ids(client.get(f"{API}/lists/pregnant?on={care.day}"))
    page = selectors.list_read(care.admin, ["pregnant"], day=last)
    assert [r["id"] for r in page.rows] == [care.pregnant.pk]
    page = selectors.list_read(care.admin, ["pregnant"], day=last + dt.timedelta(days=1))
    assert page.rows == []


def test_rows_carry_the_birth_date_masked_names_and_one_log_row_per_person(care: Care) -> None:
    client = care.client(care.admin)
    before = AccessLog.objects.count()
    body = client.get(f"{API}/lists/seniors?on={care.day}").json()
    [row] = body["rows"]
    assert row["birth_date"] == str(care.senior.birth_date)
    assert row["age"] == 80 and row["name"].endswith("*") and "****" in row["phone"]
    logs = list(AccessLog.objects.order_by("-id")[: AccessLog.objects.count() - before])
    assert [log.record_ids for log in logs] == [[care.senior.pk]]
    assert logs[0].fields == ["birth_date"] and logs[0].channel == "list"


def test_reveal_needs_a_purpose_and_logs_the_fields_unmasked(care: Care) -> None:
    client = care.client(care.admin)
    refused = client.get(f"{API}/lists/seniors?reveal=true&on={care.day}")
    assert refused.status_code == 422 and refused.json()["field"] == "purpose"
    body = client.get(f"{API}/lists/seniors?reveal=true&purpose=上门体检&on={care.day}").json()
    assert body["rows"][0]["name"] == care.senior.full_name
    log = AccessLog.objects.first()
    assert log.purpose == "上门体检" and {"full_name", "phone"} <= set(log.fields)


def test_special_needs_rows_carry_the_welfare_tags_for_staff(care: Care) -> None:
    body = care.client(care.admin).get(f"{API}/lists/special-needs").json()
    [row] = body["rows"]
    assert row["id"] == care.poor.pk and set(row["tags"]) == {"low_income", "living_alone"}


def test_grid_and_village_filters_and_scope(care: Care) -> None:
    client = care.client(care.village)
    assert ids(client.get(f"{API}/lists/children?village=441900123001")) == {care.toddler.pk}
    far = care.client(care.far_admin)
    assert ids(far.get(f"{API}/lists/children")) == {care.far_child.pk}
    assert ids(far.get(f"{API}/lists/children?grid={care.grid.code}")) == set()


def test_health_officer_sees_the_three_lists_of_the_township(care: Care) -> None:
    client = care.client(care.health)
    children = ids(client.get(f"{API}/lists/children"))
    assert children == {care.toddler.pk, care.far_child.pk}
    assert ids(client.get(f"{API}/lists/pregnant")) == {care.pregnant.pk}
    assert ids(client.get(f"{API}/lists/seniors")) == {care.senior.pk}
    row = client.get(f"{API}/lists/pregnant").json()["rows"][0]
    assert row["due_date"] == str(care.pregnant.pregnant_until) and row["tags"] == []


@pytest.mark.parametrize(
    "url",
    [f"{API}/lists/special-needs", f"{API}/visits", f"{API}/grievances",
     "/api/v1/registry/persons/{pk}", "/care/field/"],
)  # fmt: skip
def test_health_officer_gets_404_or_nothing_elsewhere(care: Care, url: str) -> None:
    response = care.client(care.health).get(url.format(pk=care.senior.pk))
    assert response.status_code in (403, 404)


def test_other_roles_get_404_for_the_lists(care: Care) -> None:
    for user in (care.dispatcher, care.officer):
        assert care.client(user).get(f"{API}/lists/children").status_code == 404


def test_filtered_export_writes_exactly_the_filtered_persons_one_log_row_each(care: Care) -> None:
    client = care.client(care.health)
    before = AccessLog.objects.count()
    assert client.get(f"{API}/lists/children/export").status_code == 422
    response = client.get(f"{API}/lists/children/export?purpose=疫苗接种&grid={care.grid.code}")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][2] == care.toddler.full_name
    logs = AccessLog.objects.filter(pk__gt=0).order_by("id")[before:]
    assert [(log.record_ids, log.channel, log.purpose) for log in logs] == [
        ([care.toddler.pk], "export", "疫苗接种")
    ]


def test_changes_since_last_month_mark_new_rows(care: Care) -> None:
    body = care.client(care.admin).get(f"{API}/lists/children?on={care.day}").json()
    assert body["changes"].get("new") == 1  # the toddler was registered this month
    assert body["changes"].get("aged_out") is None  # the child was registered today too


def test_counts_per_grid_with_its_administrators(care: Care) -> None:
    [row] = selectors.list_counts(care.admin, day=care.day)
    assert row["grid"] == care.grid.code and row["administrators"] == ["walker"]
    assert row["counts"]["children"] == 1 and row["counts"]["seniors80"] == 1
