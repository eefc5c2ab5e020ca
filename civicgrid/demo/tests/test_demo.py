import json
import socket

import pytest
from django.core.management import call_command
from django.test import Client

from civicgrid.geo.coverage import GridShape, check_coverage
from civicgrid.geo.models import Grid, Village
from civicgrid.testing import built_once

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def built_demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """One demo for the module's tests (about 15 s to build): each test's changes are
    rolled back before the next, and the demo itself when the module ends."""
    folder = tmp_path_factory.mktemp("demo")
    with built_once(django_db_blocker, DATA_DIR=folder):
        call_command("demo", no_serve=True)
        yield folder


@pytest.fixture
def demo(built_demo, settings):
    settings.DATA_DIR = built_demo
    return built_demo


def test_demo_creates_a_covered_township_of_about_20000_households(demo):
    grids = list(Grid.objects.filter(division__status="active").select_related("village"))
    villages = {v.code: v.geometry for v in Village.objects.all()}
    assert 5 <= len(villages) <= 8
    total = sum(g.households for g in grids)
    assert 17_000 <= total <= 23_000
    shapes = [GridShape(g.code, g.village.code, g.geometry) for g in grids]
    assert check_coverage(shapes, villages) == []
    assert all(len(g.code) == 14 for g in grids)


def test_demo_writes_accounts_that_can_log_in(demo):
    accounts = json.loads((demo / "demo-accounts.json").read_text())
    admin = next(a for a in accounts if a["role"] == "system_admin")
    client = Client()
    assert client.login(username=admin["username"], password=admin["password"])
    assert client.get("/api/v1/geo/locate", {"lon": 113.752, "lat": 23.021}).status_code in {
        200,
        404,
    }


def test_demo_runs_once_and_is_reused(demo):
    before = Grid.objects.count()
    call_command("demo", no_serve=True)
    assert Grid.objects.count() == before


def test_token_command_prints_a_working_token(demo, capsys):
    capsys.readouterr()
    call_command("token", "create", "admin")
    raw = capsys.readouterr().out.strip()
    client = Client(headers={"authorization": f"Bearer {raw}"})
    response = client.get("/api/v1/geo/grids")
    assert response.status_code == 200
    assert len(response.json()["features"]) == Grid.objects.count()


def test_home_and_map_pages_in_both_languages(demo):
    accounts = json.loads((demo / "demo-accounts.json").read_text())
    client = Client()
    # Residents (anyone not signed in) land on the portal.
    zh = client.get("/", headers={"accept-language": "zh-hans"}, follow=True)
    assert zh.redirect_chain[-1][0] == "/public/"
    assert "上报、跟踪、评价" in zh.content.decode()
    en = client.get("/", headers={"accept-language": "en"}, follow=True)
    assert "Report, track and rate" in en.content.decode()
    assert client.get("/map/").status_code == 302  # login first
    client.login(username=accounts[0]["username"], password=accounts[0]["password"])
    page = client.get("/map/", headers={"accept-language": "en"})
    assert page.status_code == 200
    assert "leaflet" in page.content.decode()


def test_fresh_demo_roster_has_no_warning(demo, capsys):
    grids = Grid.objects.filter(division__status="active").count()
    call_command("roster_check")  # exits 1 on any warning
    assert f"{grids} grids checked, 0 warnings" in capsys.readouterr().err
    accounts = json.loads((demo / "demo-accounts.json").read_text())
    supervisor = next(a for a in accounts if a["role"] == "supervisor")
    client = Client(headers={"accept-language": "en"})
    assert client.login(username=supervisor["username"], password=supervisor["password"])
    page = client.get("/people/roster/").content.decode()
    assert f"{grids} grids, 0 warnings." in page
    assert page.count("healthy") == grids and 'class="warn"' not in page


def test_demo_has_patrol_days_met_not_met_and_exempt(demo):
    from civicgrid.patrol.models import DutyDay, Position

    rules = set(DutyDay.objects.values_list("rule", flat=True))
    assert rules == {"met", "not_met", "exempt"}
    assert Position.objects.filter(flag="").count() > 1000


def test_demo_plans_exemptions_and_schedules_consistent_with_its_tracks(demo):
    import datetime as dt

    from django.utils import timezone

    from civicgrid.patrol.models import DutyDay, DutyExemption, DutySchedule, Position, Shift

    today = timezone.localdate()
    exemptions = list(DutyExemption.objects.select_related("recorded_by"))
    assert {e.reason for e in exemptions} == {"training", "illness", "meeting", "leave"}
    assert {e.day for e in exemptions} >= {today, today - dt.timedelta(days=2)}
    assert all(e.note and e.recorded_by.has_role("supervisor") for e in exemptions)
    zone = timezone.get_current_timezone()
    for exemption in exemptions:  # an exempt day has no walk and, once computed, says so
        start = dt.datetime.combine(exemption.day, dt.time(0), tzinfo=zone)
        end = start + dt.timedelta(days=1)
        walked = Position.objects.filter(staff=exemption.user, time__gte=start, time__lt=end)
        assert not walked.exists(), exemption
        assert not Shift.objects.filter(user=exemption.user, started_at__gte=start,
                                        started_at__lt=end).exists()  # fmt: skip
        if exemption.day <= today:
            rule = DutyDay.objects.get(user=exemption.user, day=exemption.day).rule
            assert rule == "exempt", exemption
    # The tracked exempt day lies among days others walked.
    trained = next(e for e in exemptions if e.reason == "training")
    assert DutyDay.objects.filter(day=trained.day, rule__in=["met", "not_met"]).exists()
    schedules = list(DutySchedule.objects.all())
    assert len(schedules) >= 4
    assert any(s.ends <= s.starts for s in schedules)  # one crosses midnight
    assert {s.active for s in schedules} == {True, False}

    accounts = json.loads((demo / "demo-accounts.json").read_text())
    supervisor = next(a for a in accounts if a["role"] == "supervisor")
    client = Client(headers={"accept-language": "zh-hans"})
    assert client.login(username=supervisor["username"], password=supervisor["password"])
    listed = client.get("/patrol/exemptions/").content.decode()
    assert "参加镇综治工作例会" in listed  # today's, in this month's list
    hours = client.get("/patrol/schedules/").content.decode()
    assert "08:30" in hours and "20:00" in hours


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_demo_serves_with_a_worker_beside_the_server(demo, monkeypatch):
    import contextlib

    from civicgrid.demo.management.commands import demo as command

    events: list[str] = []

    @contextlib.contextmanager
    def beside():
        events.append("worker started")
        yield
        events.append("worker stopped")

    monkeypatch.setattr(command, "worker_beside", beside)
    monkeypatch.setattr(command, "serve", lambda host, port: events.append(f"serve {port}"))
    port = free_port()  # the demo refuses a port in use: any fixed one may be taken
    call_command("demo", addr=f"127.0.0.1:{port}")
    assert events == ["worker started", f"serve {port}", "worker stopped"]
    events.clear()
    call_command("demo", addr=f"127.0.0.1:{port}", no_worker=True)
    assert events == [f"serve {port}"]


def test_demo_has_a_health_account_visits_notices_and_a_campaign(demo):
    from civicgrid.care.models import Campaign, Grievance, HealthNotice, Visit

    accounts = json.loads((demo / "demo-accounts.json").read_text())
    health = next(a for a in accounts if "health" in a["role"])
    assert Visit.objects.count() >= 3 and Grievance.objects.count() == 1
    assert HealthNotice.objects.exists() and Campaign.objects.count() == 1
    client = Client()
    assert client.login(username=health["username"], password=health["password"])
    body = client.get("/api/v1/care/lists/children").json()
    assert body["total"] > 0
    assert client.get("/api/v1/care/lists/special-needs").status_code == 404
