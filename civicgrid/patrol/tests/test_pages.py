"""The patrol pages: the field switch, and in Chromium the live map and the replay slider."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from civicgrid.patrol import services
from civicgrid.patrol.models import Shift
from civicgrid.patrol.tests.conftest import HERE, Patrol
from civicgrid.patrol.tests.test_tracks import A_DAY, local, walked
from civicgrid.people.models import AccessLog, User

PASSWORD = "a-long-test-password"


@pytest.mark.django_db
def test_field_page_starts_and_ends_a_patrol(patrol: Patrol) -> None:
    client = patrol.client(patrol.admin)
    page = client.get("/patrol/field/", headers={"accept-language": "en"})
    assert page.status_code == 200 and b'id="patrol-start"' in page.content
    client.post("/patrol/field/", {"action": "start"})
    assert services.open_shift(patrol.admin) is not None
    page = client.get("/patrol/field/", headers={"accept-language": "en"})
    assert b'id="patrol-end"' in page.content and b"minutes on patrol" in page.content
    client.post("/patrol/field/", {"action": "end"})
    assert services.open_shift(patrol.admin) is None


@pytest.mark.django_db
def test_field_page_says_why_a_patrol_cannot_start(patrol: Patrol) -> None:
    client = patrol.client(patrol.uncertified)
    answer = client.post(
        "/patrol/field/", {"action": "start"}, follow=True, headers={"accept-language": "en"}
    )
    assert b"no field rights" in answer.content
    assert not Shift.objects.exists()


@pytest.mark.django_db
def test_live_map_is_for_the_center_only(patrol: Patrol) -> None:
    assert patrol.client(patrol.admin).get("/patrol/live/").status_code == 403
    assert patrol.client(patrol.dispatcher).get("/patrol/live/").status_code == 200


def log_in(browser: Browser, live_server, user: User) -> Page:
    user.set_password(PASSWORD)
    user.save()
    context = browser.new_context(locale="en", extra_http_headers={"Accept-Language": "en"})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/**")
    return page


@pytest.mark.django_db(transaction=True)
def test_live_map_shows_staff_on_duty_and_updates_without_reload(
    browser, live_server, patrol: Patrol
) -> None:
    now = timezone.now()
    services.shift_start(user=patrol.admin, actor=patrol.admin, now=now - dt.timedelta(minutes=30))
    services.positions_record(
        user=patrol.admin,
        source="osmand",
        fixes=[services.Incoming(time=now, lon=HERE[0], lat=HERE[1], battery=77.0)],
    )
    services.shift_start(user=patrol.mate, actor=patrol.mate, now=now - dt.timedelta(minutes=30))
    services.positions_record(
        user=patrol.mate,
        source="osmand",
        fixes=[
            services.Incoming(time=now - dt.timedelta(minutes=20), lon=HERE[0] + 0.002, lat=HERE[1])
        ],
    )
    page = log_in(browser, live_server, patrol.dispatcher)
    page.goto(f"{live_server.url}/patrol/live/")
    expect(page.locator("#on-duty-count")).to_have_text("2", timeout=15_000)
    expect(page.locator("#on-duty li.stale")).to_have_text("mate · 44190012300101 ⏸")
    expect(page.locator("#on-duty li.fresh")).to_have_count(1)
    expect(page.locator("path.staff-marker")).to_have_count(2)
    page.locator("path.staff-marker:not(.stale)").click(force=True)
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("walker")
    expect(popup).to_contain_text("battery: 77 %")
    expect(popup).to_contain_text("grid: 44190012300101")
    # Another administrator starts a patrol: the next poll shows them, no reload.
    services.shift_start(user=patrol.leader, actor=patrol.leader)
    services.positions_record(
        user=patrol.leader,
        source="osmand",
        fixes=[services.Incoming(time=timezone.now(), lon=HERE[0], lat=HERE[1] + 0.003)],
    )
    expect(page.locator("#on-duty-count")).to_have_text("3", timeout=12_000)


@pytest.mark.django_db(transaction=True)
def test_replay_slider_moves_through_the_day(browser, live_server, patrol: Patrol) -> None:
    walked(patrol.admin, local(A_DAY, 8), 30)
    page = log_in(browser, live_server, patrol.leader)
    page.goto(f"{live_server.url}/patrol/tracks/walker/?date={A_DAY}")
    slider = page.locator("#slider")
    expect(slider).to_be_enabled()
    output = page.locator("#slider-time")
    expect(output).to_have_attribute("data-time", re.compile(".+"))

    def shown() -> dt.datetime:
        return dt.datetime.fromisoformat(output.get_attribute("data-time") or "")

    assert shown() == local(A_DAY, 8)
    last_index = int(slider.get_attribute("max") or 0)
    assert last_index > 0
    slider.fill(str(last_index))
    expect(output).not_to_have_attribute("data-time", re.compile(r"T00:00:00"))
    assert shown() == local(A_DAY, 8, 30)
    assert AccessLog.objects.filter(actor=patrol.leader, model="patrol.Position").count() == 1


@pytest.mark.django_db(transaction=True)
def test_replay_marks_a_gap_instead_of_drawing_across_it(
    browser, live_server, patrol: Patrol
) -> None:
    walked(patrol.admin, local(A_DAY, 8), 20)
    walked(patrol.admin, local(A_DAY, 9), 10)
    page = log_in(browser, live_server, patrol.leader)
    page.goto(f"{live_server.url}/patrol/tracks/walker/?date={A_DAY}")
    expect(page.locator("#gaps-section")).to_be_visible()
    gaps = page.locator("#gaps li.gap")
    expect(gaps).to_have_count(1)
    assert dt.datetime.fromisoformat(gaps.first.get_attribute("data-from") or "") == local(
        A_DAY, 8, 20
    )
    assert "40" in gaps.first.inner_text()
    expect(page.locator("path.gap-end")).to_have_count(2)
    # Two route lines (one per stretch with fixes), none across the silence.
    expect(page.locator("path.route")).to_have_count(2)
