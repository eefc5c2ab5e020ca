"""The registry's web export applies the list's filters and honours reveal rights (issue 16)."""

from __future__ import annotations

import csv
import io

import pytest

from civicgrid.care.tests.conftest import Care
from civicgrid.people.models import AccessLog

pytestmark = pytest.mark.django_db


def rows(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content[:300]
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_export_applies_the_tag_filter_and_logs_the_filter(care: Care) -> None:
    client = care.client(care.admin)
    table = rows(client.get("/registry/persons/export.csv?tag=low_income"))
    assert len(table) == 2 and table[1][0].endswith("*")  # masked name
    search, export = AccessLog.objects.order_by("id")
    assert search.channel == "search" and search.record_ids == [care.poor.pk]
    assert search.fields == ["low_income"]
    assert export.channel == "export" and export.record_ids == [care.poor.pk]


def test_an_unmasked_export_needs_reveal_rights_and_a_purpose(care: Care) -> None:
    client = care.client(care.admin)
    assert client.get("/registry/persons/export.csv?tag=low_income&reveal=1").status_code == 422
    table = rows(
        client.get("/registry/persons/export.csv?tag=low_income&reveal=1&purpose=低保复核")
    )
    assert table[1][0] == care.poor.full_name
    log = AccessLog.objects.order_by("-id").first()
    assert log.purpose == "低保复核" and "full_name" in log.fields
    dispatcher = care.client(care.dispatcher)
    assert dispatcher.get("/registry/persons/export.csv?tag=low_income").status_code == 403
    refused = dispatcher.get("/registry/persons/export.csv?reveal=1&purpose=x")
    assert refused.status_code == 403


def test_the_export_logs_one_row_per_person_written(care: Care) -> None:
    client = care.client(care.admin)
    table = rows(client.get("/registry/persons/export.csv?house=H001"))
    exported = AccessLog.objects.filter(channel="export").order_by("id")
    residents = [care.child, care.toddler, care.pregnant, care.senior, care.poor, care.adult]
    assert len(table) - 1 == exported.count() == len(residents)
    assert sorted(log.record_ids for log in exported) == sorted([p.pk] for p in residents)
    assert {tuple(log.fields) for log in exported} == {()}
    before = AccessLog.objects.count()
    rows(client.get("/registry/persons/export.csv?house=H001&reveal=1&purpose=入户核对"))
    revealed = AccessLog.objects.order_by("id")[before:]
    assert [len(log.record_ids) for log in revealed] == [1] * len(residents)
    assert {log.purpose for log in revealed} == {"入户核对"}
    assert "full_name" in revealed[0].fields
