"""The /evaluation/ page, the lists behind its figures and the XLSX export."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from civicgrid.cases import services as case_services
from civicgrid.cases.tests.conftest import HERE, staff
from civicgrid.evaluation import services
from civicgrid.evaluation.tests.test_materialise import build_two_days
from civicgrid.people.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def figures(loop, hand_clock):
    day1, day2, c2 = build_two_days(loop, hand_clock)
    hand_clock.at(day2, 18)
    services.figures_refresh()
    return {"from": day1.isoformat(), "to": day2.isoformat(), "resident_case": c2}


def login(user, language="en") -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


def test_the_page_shows_the_table_ranking_trend_and_map(loop, figures):
    client = login(staff("sup1", Role.SUPERVISOR, township=loop.township))
    response = client.get("/evaluation/", {"level": "grid", "from": figures["from"],
                                           "to": figures["to"]})  # fmt: skip
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="indicator-table"' in html
    assert loop.grid.code in html
    assert "50.00 %" in html  # closure rate: 1 closed of 2 due
    assert html.count("<svg") == 2  # the trend and the grid map
    assert "polyline" in html or "circle" in html
    assert "100 × (" in html  # the score's formula beside the ranking


def test_every_figure_links_to_the_cases_it_counts(loop, figures):
    client = login(staff("sup1", Role.SUPERVISOR, township=loop.township))
    html = client.get("/evaluation/", {"level": "grid", "from": figures["from"],
                                       "to": figures["to"]}).content.decode()  # fmt: skip
    links = re.findall(r'href="(/evaluation/cases/\?[^"]+)"', html)
    overdue = next(link for link in links if "count=overdue_steps" in link)
    listed = client.get(overdue.replace("&amp;", "&")).content.decode()
    assert figures["resident_case"].number in listed
    closed = next(link for link in links if link.endswith("count=closed"))
    listed = client.get(closed.replace("&amp;", "&")).content.decode()
    assert listed.count("<tr>") == 2  # the header and the one closed case


def test_the_page_speaks_chinese(loop, figures):
    client = login(staff("sup1", Role.SUPERVISOR, township=loop.township), "zh-hans")
    html = client.get("/evaluation/", {"from": figures["from"], "to": figures["to"]}).content
    assert "结案率".encode() in html


def test_scope_per_role_on_the_page(loop, figures):
    assert Client().get("/evaluation/").status_code == 302  # to the login
    village = login(loop.village_officer)
    assert village.get("/evaluation/", {"level": "township"}).status_code == 403
    assert village.get("/evaluation/", {"level": "village"}).status_code == 200
    assert login(loop.assessor).get("/evaluation/").status_code == 403
    department = login(loop.officer)
    html = department.get("/evaluation/", figures).content.decode()
    assert "URBAN" in html and "FIRE" not in html


def test_the_export_is_a_workbook_of_the_table(loop, figures):
    client = login(staff("sup1", Role.SUPERVISOR, township=loop.township))
    response = client.get("/evaluation/export.xlsx", {"level": "department",
                                                      "from": figures["from"],
                                                      "to": figures["to"]})  # fmt: skip
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert {r[0] for r in body} == {"URBAN", "FIRE"}
    urban = next(r for r in body if r[0] == "URBAN")
    assert urban[header.index("closure rate")] == 0.5


# The township lives in Asia/Shanghai (UTC+8): from 16:00 UTC it is the next day there, and
# on the last day of a month the next month, while UTC still has the day before.
OPENING = [
    ("2026-11-30T15:59:00+00:00", "2026-11-01", "2026-11-30"),  # 23:59 on 30 November
    ("2026-11-30T16:00:00+00:00", "2026-12-01", "2026-12-01"),  # midnight: a new month
    ("2026-12-15T01:00:00+00:00", "2026-12-01", "2026-12-15"),
    ("2026-12-31T16:30:00+00:00", "2027-01-01", "2027-01-01"),  # a new year
    ("2028-02-29T15:00:00+00:00", "2028-02-01", "2028-02-29"),
]


@pytest.mark.parametrize(("instant", "first", "last"), OPENING)
def test_the_page_and_the_api_open_on_the_month_to_date_in_shanghai(
    loop, monkeypatch, instant, first, last
):
    supervisor = staff("sup1", Role.SUPERVISOR, township=loop.township)
    moment = dt.datetime.fromisoformat(instant)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    client = login(supervisor)
    html = client.get("/evaluation/").content.decode()
    assert f'id="from" value="{first}"' in html and f'id="to" value="{last}"' in html
    body = client.get("/api/v1/evaluation/indicators", {"level": "township"}).json()
    assert (body["date_from"], body["date_to"]) == (first, last)
    assert client.get("/", follow=True).redirect_chain[-1][0] == "/evaluation/"


def test_the_default_period_counts_the_cases_of_the_township_month(loop, monkeypatch):
    """Cases half an hour either side of a month's first midnight in Shanghai (16:00 UTC
    the day before): the month-to-date just after it counts only the later one."""
    month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    midnight = dt.datetime.combine(month, dt.time(0), tzinfo=timezone.get_default_timezone())
    clock = {"now": midnight}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])
    for minutes in (-30, 30):
        clock["now"] = midnight + dt.timedelta(minutes=minutes)
        case_services.case_report(actor=None, acting_as="resident", category="0702",
                                  description="路边垃圾", lon=HERE[0], lat=HERE[1],
                                  reporter_phone="13900001111")  # fmt: skip
    clock["now"] = midnight + dt.timedelta(hours=1)
    assert clock["now"].astimezone(dt.UTC).date() < month  # UTC is still in the month before
    client = login(staff("sup1", Role.SUPERVISOR, township=loop.township))
    body = client.get("/api/v1/evaluation/indicators", {"level": "township"}).json()
    assert (body["date_from"], body["date_to"]) == (month.isoformat(), month.isoformat())
    [row] = body["rows"]
    assert row["counts"]["reports"] == 1
    html = client.get("/evaluation/", {"level": "township"}).content.decode()
    assert f'id="from" value="{month}"' in html


def test_an_administrator_opens_their_own_figures_from_the_field_menu(loop, figures):
    client = login(loop.admin)
    assert 'href="/evaluation/"' in client.get("/field/").content.decode()
    html = client.get("/evaluation/", {"from": figures["from"], "to": figures["to"]})
    units = re.findall(r'<tr data-unit="([^"]+)"', html.content.decode())
    assert units == [loop.admin.username]
    assert client.get("/evaluation/", {"level": "grid"}).status_code == 403


# 25 November 2026 is a Wednesday; 2028 is a leap year.
NAMED = [
    ("day", "2026-11-25", "2026-11-25", "2026-11-25"),
    ("week", "2026-11-25", "2026-11-23", "2026-11-29"),
    ("week", "2026-11-23", "2026-11-23", "2026-11-29"),  # a Monday starts its own week
    ("week", "2026-11-29", "2026-11-23", "2026-11-29"),  # a Sunday ends it
    ("week", "2026-12-31", "2026-12-28", "2027-01-03"),  # across the new year
    ("month", "2026-11-25", "2026-11-01", "2026-11-30"),
    ("month", "2026-12-01", "2026-12-01", "2026-12-31"),
    ("month", "2028-02-10", "2028-02-01", "2028-02-29"),
]


@pytest.mark.parametrize(("kind", "on", "first", "last"), NAMED)
def test_named_periods_are_calendar_days_weeks_and_months(kind, on, first, last):
    from civicgrid.evaluation.selectors import period_named

    period = period_named(kind, on)
    assert (period.first.isoformat(), period.last.isoformat()) == (first, last)


def test_a_named_period_defaults_to_the_day_in_shanghai(monkeypatch):
    from civicgrid.evaluation.selectors import period_named

    # 16:30 UTC on Sunday 29 November is 00:30 on Monday 30 November in Shanghai.
    moment = dt.datetime(2026, 11, 29, 16, 30, tzinfo=dt.UTC)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    week = period_named("week", None)
    assert (week.first, week.last) == (dt.date(2026, 11, 30), dt.date(2026, 12, 6))
    assert period_named("day", "").first == dt.date(2026, 11, 30)


def test_the_page_opens_a_week_and_links_day_week_month_and_the_weeks_around(loop, figures):
    client = login(staff("sup1", Role.SUPERVISOR, township=loop.township))
    html = client.get("/evaluation/", {"level": "grid", "period": "week",
                                       "on": "2026-11-25"}).content.decode()  # fmt: skip
    assert 'id="from" value="2026-11-23"' in html and 'id="to" value="2026-11-29"' in html
    found = re.findall(r'<a href="\?([^"]+)" id="period-(\w+)"', html)
    links = {kind: href.replace("&amp;", "&") for href, kind in found}
    assert links == {
        "earlier": "level=grid&indicator=on_time_closure_rate&period=week&on=2026-11-16",
        "day": "level=grid&indicator=on_time_closure_rate&period=day&on=2026-11-29",
        "week": "level=grid&indicator=on_time_closure_rate&period=week&on=2026-11-29",
        "month": "level=grid&indicator=on_time_closure_rate&period=month&on=2026-11-29",
        "later": "level=grid&indicator=on_time_closure_rate&period=week&on=2026-11-30",
    }
    assert re.search(r'id="period-week" class="button small" aria-current="page"', html)
    # The export and the report follow the period shown.
    assert "export.xlsx?level=grid&amp;from=2026-11-23&amp;to=2026-11-29" in html
    month = client.get("/evaluation/", {"period": "month", "on": "2026-11-25"}).content.decode()
    assert 'id="from" value="2026-11-01"' in month and 'id="to" value="2026-11-30"' in month
    assert "period=month&amp;on=2026-10-01" in month and "period=month&amp;on=2026-12-01" in month


def test_the_named_period_counts_the_same_cases_as_its_dates(loop, figures):
    client = login(staff("sup1", Role.SUPERVISOR, township=loop.township))
    day = figures["from"]
    by_name = client.get("/evaluation/", {"level": "grid", "period": "day", "on": day})
    by_dates = client.get("/evaluation/", {"level": "grid", "from": day, "to": day})
    table = re.compile(r'<table class="table matrix".*?</table>', re.S)
    assert (
        table.search(by_name.content.decode()).group()
        == table.search(by_dates.content.decode()).group()
    )
    # Without a period the custom dates are read, as before.
    assert 'id="period-day" class="button small secondary"' in by_dates.content.decode()


def test_a_bad_period_is_refused_naming_the_field_in_both_languages(loop, figures):
    supervisor = staff("sup1", Role.SUPERVISOR, township=loop.township)
    english = login(supervisor)
    refused = english.get("/evaluation/", {"period": "year"})
    assert refused.status_code == 422
    assert "Unknown period year; choose one of: day, week, month." in refused.content.decode()
    refused = english.get("/evaluation/", {"period": "week", "on": "25/11/2026"})
    assert refused.status_code == 422 and "Give on as a date" in refused.content.decode()
    chinese = login(supervisor, "zh-hans").get("/evaluation/", {"period": "year"})
    assert "未知的时段 year" in chinese.content.decode()
    html = login(supervisor, "zh-hans").get("/evaluation/", {"period": "week",
                                                               "on": "2026-11-25"})  # fmt: skip
    assert ">周</a>" in html.content.decode() and ">月</a>" in html.content.decode()
