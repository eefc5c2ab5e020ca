"""The duty month page: calendars per administrator, grid team and village, in the viewer's
scope, with links to the day's track for those who may see it; zh-Hans and a 390 px phone.
The month is read as the worker leaves it (stored); a read finding days missing computes a
bounded number and hands the rest to the worker.

March 2026 throughout: a month in the past whatever day the tests run.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Browser, Page

from civicgrid.geo.models import Grid
from civicgrid.patrol import services
from civicgrid.patrol.tests.conftest import Patrol, certify, place, staff
from civicgrid.patrol.tests.test_tracks import local, walked
from civicgrid.people.models import GridAssignment, Role, User
from civicgrid.web.tests.zh_catalogue import english_on

MARCH = dt.date(2026, 3, 1)
URL = "/patrol/month/?month=2026-03"
PASSWORD = "a-long-test-password"


@pytest.fixture
def march(patrol: Patrol) -> Patrol:
    """The teams of the fixture as they were in March; a few days walked, one exempt."""
    GridAssignment.objects.update(starts_on=dt.date(2026, 1, 1))
    walked(patrol.admin, local(dt.date(2026, 3, 2), 8), 241)
    walked(patrol.admin, local(dt.date(2026, 3, 3), 8), 100)
    walked(patrol.mate, local(dt.date(2026, 3, 3), 8), 250)
    walked(patrol.far_admin, local(dt.date(2026, 3, 3), 8), 245)
    services.exemption_record(user=patrol.mate, day=dt.date(2026, 3, 4), reason="training",
                              note="培训", actor=patrol.leader)  # fmt: skip
    # As the worker's periodic run leaves it: every staff-day of March stored.
    services.duty_days_materialise(days=[MARCH + dt.timedelta(days=n) for n in range(31)])
    return patrol


def english(user: User) -> Client:
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def cell(html: str, calendar: str, day: str) -> str:
    """The table cell of ``day`` in the calendar section ``calendar`` (kind-key)."""
    section = html.split(f'id="{calendar}"', 1)[1].split("</section>", 1)[0]
    match = re.search(rf'<td class="[^"]*" data-day="{day}".*?</td>', section, re.S)
    assert match, (calendar, day)
    return match.group(0)


def state(html: str, calendar: str, day: str) -> str:
    found = re.search(r'data-state="(\w+)"', cell(html, calendar, day))
    assert found
    return found.group(1)


@pytest.mark.django_db
def test_a_leader_sees_the_team_and_each_administrator_with_their_tracks(march: Patrol) -> None:
    html = english(march.leader).get(URL).content.decode()
    team = f"team-{march.grid.code}"
    assert re.findall(r'<section class="card duty-month (\w+)" id="([\w-]+)"', html) == [
        ("team", team),
        ("person", "person-mate"),
        ("person", "person-walker"),
    ]
    assert state(html, "person-walker", "2026-03-02") == "met"
    assert 'href="/patrol/tracks/walker/?date=2026-03-02"' in cell(
        html, "person-walker", "2026-03-02"
    )
    assert ">4.0<" in cell(html, "person-walker", "2026-03-02")
    assert state(html, "person-walker", "2026-03-03") == "not_met"
    assert ">1.7<" in cell(html, "person-walker", "2026-03-03")
    assert state(html, "person-walker", "2026-03-05") == "not_met"  # no patrol at all
    assert "href" not in cell(html, "person-walker", "2026-03-05")  # no track to show
    exempt = cell(html, "person-mate", "2026-03-04")
    assert 'data-state="exempt"' in exempt and "training" in exempt
    assert state(html, team, "2026-03-03") == "partial" and ">1/2<" in cell(
        html, team, "2026-03-03"
    )
    four = cell(html, team, "2026-03-04")
    assert 'data-state="not_met"' in four and ">0/1<" in four and "+1 exempt" in four
    walker = html.split('id="person-walker"', 1)[1].split("</section>", 1)[0]
    assert 'data-tally="met">1<' in walker and 'data-tally="not_met">30<' in walker
    assert 'data-tally="average">11<' in walker  # (241 + 100) / 31 minutes
    mate = html.split('id="person-mate"', 1)[1].split("</section>", 1)[0]
    assert 'data-tally="exempt">1<' in mate
    assert 'href="?month=2026-02"' in html and 'href="?month=2026-04"' in html


@pytest.mark.django_db
def test_an_administrator_sees_only_their_own_month(march: Patrol) -> None:
    html = english(march.admin).get(URL).content.decode()
    assert re.findall(r'id="(person-\w+|team-\d+|village-\d+)"', html) == ["person-walker"]
    assert 'href="/patrol/tracks/walker/?date=2026-03-02"' in html
    narrowed = english(march.admin).get(URL + "&user=mate").content.decode()
    assert "person-mate" not in narrowed and 'id="month-empty"' in narrowed


@pytest.mark.django_db
def test_a_village_officer_sees_the_figures_but_no_track(march: Patrol) -> None:
    officer = staff("cunwei", Role.VILLAGE_OFFICER, village=march.grid.village)
    html = english(officer).get(URL).content.decode()
    assert "person-walker" in html and state(html, "person-walker", "2026-03-02") == "met"
    assert "/patrol/tracks/" not in html


@pytest.mark.django_db
def test_a_dispatcher_narrows_from_villages_to_teams_to_one_person(march: Patrol) -> None:
    neighbour_grid = Grid.objects.get(division__status="active", code="44190012300102")
    neighbour = staff("neighbour", Role.GRID_ADMINISTRATOR)
    certify(neighbour)
    place(neighbour, neighbour_grid)
    GridAssignment.objects.update(starts_on=dt.date(2026, 1, 1))
    client = english(march.dispatcher)
    township = client.get(URL).content.decode()
    villages = re.findall(r'id="village-(\d+)"', township)
    assert villages == [march.grid.code[:12], march.far.code[:12]]
    assert f'href="?month=2026-03&amp;village={villages[0]}"' in township
    assert state(township, f"village-{villages[0]}", "2026-03-03") == "partial"
    assert state(township, f"village-{villages[1]}", "2026-03-03") == "met"
    one_village = client.get(f"{URL}&village={villages[0]}").content.decode()
    assert re.findall(r'id="((?:village|team|person)-[\w]+)"', one_village) == [
        f"village-{villages[0]}",
        f"team-{march.grid.code}",
        f"team-{neighbour_grid.code}",
    ]
    assert state(one_village, f"team-{neighbour_grid.code}", "2026-03-03") == "not_met"
    one_team = client.get(f"{URL}&grid={march.grid.code}").content.decode()
    assert "person-walker" in one_team and "person-mate" in one_team
    person = client.get(f"{URL}&user=walker").content.decode()
    assert 'href="/patrol/tracks/walker/?date=2026-03-03"' in person
    assert "person-mate" not in person and 'id="month-whole"' in person


@pytest.mark.django_db
def test_the_month_page_reads_in_chinese(march: Patrol) -> None:
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(march.leader)
    html = client.get(URL).content.decode()
    assert "巡查月历" in html and "2026年3月" in html and "免计" in html
    assert english_on(html) == []


@pytest.mark.django_db
def test_a_month_not_begun_or_unreadable_shows_this_month(march: Patrol, monkeypatch) -> None:
    # "This month" is Shanghai's: on 31 March 2026 it is March whatever the hour in UTC (the
    # old check against the machine's date failed from 16:00 UTC on a month's last day).
    real = timezone.localdate

    def on_31_march(value: dt.datetime | None = None, timezone: object = None) -> dt.date:
        return dt.date(2026, 3, 31) if value is None else real(value, timezone)  # type: ignore[arg-type]

    monkeypatch.setattr(timezone, "localdate", on_31_march)
    for value in ("2999-01", "2026-04", "2026-13", "March"):
        page = english(march.admin).get(f"/patrol/month/?month={value}")
        assert page.status_code == 200
        assert page.context["first"] == MARCH, value
    shown = english(march.admin).get("/patrol/month/?month=2026-02")
    assert shown.context["first"] == dt.date(2026, 2, 1)


def log_in(browser: Browser, live_server, user: User, locale: str) -> Page:  # type: ignore[no-untyped-def]
    user.set_password(PASSWORD)
    user.save()
    context = browser.new_context(
        locale=locale,
        extra_http_headers={"Accept-Language": locale},
        viewport={"width": 390, "height": 844},
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/**")
    return page


@pytest.mark.django_db(transaction=True)
def test_the_month_fits_a_phone_and_a_day_opens_its_track(
    browser: Browser, live_server, march: Patrol
) -> None:
    for locale in ("en", "zh-Hans"):
        page = log_in(browser, live_server, march.leader, locale)
        page.goto(f"{live_server.url}{URL}")
        assert page.locator("section.duty-month").count() == 3
        widths = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1] == 390, (locale, widths)
        link = page.locator('#person-walker td[data-day="2026-03-02"] a')
        link.click()
        page.wait_for_url("**/patrol/tracks/walker/?date=2026-03-02")
        assert page.locator("#slider").count() == 1
        page.context.close()
