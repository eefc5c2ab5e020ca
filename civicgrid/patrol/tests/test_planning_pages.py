"""The pages where a grid leader or supervisor records duty exemptions and sets duty
schedules: lists, forms with refusals under their field, in zh-Hans and English, and only
for the administrators of the planner's team or township."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from civicgrid.patrol import services
from civicgrid.patrol.models import DutyDay, DutyExemption, DutySchedule
from civicgrid.patrol.tests.conftest import Patrol, staff
from civicgrid.people.models import Role, User
from civicgrid.web.tests.zh_catalogue import english_on

DAY = dt.date(2026, 3, 4)


def browser(user: User, language: str = "en") -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


def error(html: str, field: str) -> str:
    assert f'id="error-{field}"' in html, html
    return html.split(f'id="error-{field}"', 1)[1].split("</p>", 1)[0]


@pytest.fixture
def supervisor(patrol: Patrol) -> User:
    return staff("super", Role.SUPERVISOR, township=patrol.township)


# ---------------------------------------------------------------------------- exemptions


def test_a_leader_records_an_exemption_for_a_team_member(
    patrol: Patrol, django_capture_on_commit_callbacks
) -> None:
    client = browser(patrol.leader)
    form = client.get("/patrol/exemptions/new/").content.decode()
    assert 'value="mate"' in form and 'value="walker"' in form
    assert 'value="faraway"' not in form  # another grid's administrator
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            "/patrol/exemptions/new/",
            {"username": "mate", "day": DAY.isoformat(), "reason": "training", "note": "岗位培训"},
        )
    assert answer.status_code == 302 and answer["Location"] == "/patrol/exemptions/"
    exemption = DutyExemption.objects.get(user=patrol.mate, day=DAY)
    assert (exemption.reason, exemption.note, exemption.recorded_by) == (
        "training", "岗位培训", patrol.leader,
    )  # fmt: skip
    assert DutyDay.objects.get(user=patrol.mate, day=DAY).rule == "exempt"
    listing = client.get("/patrol/exemptions/?month=2026-03").content.decode()
    assert 'data-user="mate" data-day="2026-03-04"' in listing and "岗位培训" in listing


def test_an_exemption_form_names_each_refused_field(patrol: Patrol) -> None:
    client = browser(patrol.leader)
    url = "/patrol/exemptions/new/"
    base = {"username": "mate", "day": DAY.isoformat(), "reason": "leave", "note": "事假"}
    missing_note = client.post(url, base | {"note": "  "})
    assert missing_note.status_code == 422
    assert "Say why this day is exempt." in error(missing_note.content.decode(), "note")
    bad_day = client.post(url, base | {"day": "04/03/2026"})
    assert "YYYY-MM-DD" in error(bad_day.content.decode(), "day")
    bad_reason = client.post(url, base | {"reason": "holiday"})
    assert "Unknown reason" in error(bad_reason.content.decode(), "reason")
    stranger = client.post(url, base | {"username": "faraway"})
    assert stranger.status_code == 422
    assert "administrators you plan for" in error(stranger.content.decode(), "username")
    assert 'value="事假"' in stranger.content.decode()  # what was typed stays
    assert not DutyExemption.objects.exists()


def test_an_exemption_is_changed_and_withdrawn(
    patrol: Patrol, django_capture_on_commit_callbacks
) -> None:
    exemption = services.exemption_record(
        user=patrol.mate, day=DAY, reason="leave", note="事假", actor=patrol.leader
    )
    client = browser(patrol.leader)
    url = f"/patrol/exemptions/{exemption.pk}/"
    assert client.post(url, {"reason": "illness", "note": "病假"}).status_code == 302
    exemption.refresh_from_db()
    assert (exemption.reason, exemption.note, exemption.day) == ("illness", "病假", DAY)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"action": "delete"}).status_code == 302
    assert not DutyExemption.objects.exists()
    assert DutyDay.objects.get(user=patrol.mate, day=DAY).rule == "not_met"


def test_a_leader_cannot_open_another_teams_exemption(patrol: Patrol, supervisor: User) -> None:
    exemption = services.exemption_record(
        user=patrol.far_admin, day=DAY, reason="meeting", note="镇会议", actor=supervisor
    )
    url = f"/patrol/exemptions/{exemption.pk}/"
    assert browser(patrol.leader).post(url, {"action": "delete"}).status_code == 404
    assert browser(supervisor).get(url).status_code == 200
    assert DutyExemption.objects.filter(pk=exemption.pk).exists()


@pytest.mark.parametrize("url", ["/patrol/exemptions/", "/patrol/exemptions/new/",
                                 "/patrol/schedules/", "/patrol/schedules/new/"])  # fmt: skip
def test_administrators_and_dispatchers_have_no_planning_pages(patrol: Patrol, url: str) -> None:
    assert browser(patrol.admin).get(url).status_code == 403
    assert browser(patrol.dispatcher).get(url).status_code == 403


def test_the_menu_offers_the_planning_pages_to_leaders_and_supervisors(
    patrol: Patrol, supervisor: User
) -> None:
    for user, offered in ((patrol.leader, True), (supervisor, True), (patrol.admin, False)):
        links = {link.url for link in browser(user).get("/", follow=True).context["menu"]}
        assert ({"/patrol/exemptions/", "/patrol/schedules/"} <= links) is offered, user


# ---------------------------------------------------------------------------- schedules


def test_a_leader_sets_a_night_schedule_for_a_team_member(patrol: Patrol) -> None:
    client = browser(patrol.leader)
    answer = client.post(
        "/patrol/schedules/new/",
        {"username": "walker", "weekdays": ["5", "6"], "starts": "20:00", "ends": "02:00",
         "active": "on"},
    )  # fmt: skip
    assert answer.status_code == 302 and answer["Location"] == "/patrol/schedules/"
    schedule = DutySchedule.objects.get(user=patrol.admin)
    assert (schedule.weekdays, schedule.starts, schedule.ends, schedule.active) == (
        "56", dt.time(20), dt.time(2), True,
    )  # fmt: skip
    listing = client.get("/patrol/schedules/").content.decode()
    assert f'data-pk="{schedule.pk}"' in listing and "20:00–02:00" in listing


def test_a_schedule_form_names_each_refused_field(patrol: Patrol) -> None:
    client = browser(patrol.leader)
    url = "/patrol/schedules/new/"
    base = {"username": "walker", "weekdays": ["1"], "starts": "08:00", "ends": "12:00"}
    no_days = client.post(url, base | {"weekdays": []})
    assert no_days.status_code == 422
    assert "1 (Monday) to 7 (Sunday)" in error(no_days.content.decode(), "weekdays")
    same = client.post(url, base | {"ends": "08:00"})
    assert "another time" in error(same.content.decode(), "ends")
    bad_time = client.post(url, base | {"starts": "8 o'clock"})
    assert "HH:MM" in error(bad_time.content.decode(), "starts")
    too_long = client.post(url, base | {"starts": "06:00", "ends": "22:00"})
    assert "at most" in error(too_long.content.decode(), "ends")
    stranger = client.post(url, base | {"username": "faraway"})
    assert "administrators you plan for" in error(stranger.content.decode(), "username")
    assert not DutySchedule.objects.exists()


def test_a_schedule_is_paused_changed_and_removed(patrol: Patrol) -> None:
    schedule = services.schedule_create(user=patrol.admin, weekdays="12345", starts=dt.time(8),
                                        ends=dt.time(12), actor=patrol.leader)  # fmt: skip
    client = browser(patrol.leader)
    url = f"/patrol/schedules/{schedule.pk}/"
    form = client.get(url).content.decode()
    assert 'value="08:00"' in form and 'name="active" checked' in form
    changed = client.post(url, {"weekdays": ["6", "7"], "starts": "09:00", "ends": "13:30"})
    assert changed.status_code == 302
    schedule.refresh_from_db()
    assert (schedule.weekdays, schedule.starts, schedule.ends, schedule.active) == (
        "67", dt.time(9), dt.time(13, 30), False,
    )  # fmt: skip
    assert client.post(url, {"action": "delete"}).status_code == 302
    assert not DutySchedule.objects.exists()


def test_a_leader_cannot_open_another_teams_schedule(patrol: Patrol, supervisor: User) -> None:
    schedule = services.schedule_create(user=patrol.far_admin, weekdays="1", starts=dt.time(8),
                                        ends=dt.time(12), actor=supervisor)  # fmt: skip
    assert browser(patrol.leader).get(f"/patrol/schedules/{schedule.pk}/").status_code == 404
    listing = browser(patrol.leader).get("/patrol/schedules/").content.decode()
    assert "faraway" not in listing
    assert "faraway" in browser(supervisor).get("/patrol/schedules/").content.decode()


# ------------------------------------------------------------------------------ zh-Hans


def test_the_planning_pages_read_in_chinese(patrol: Patrol) -> None:
    services.exemption_record(user=patrol.mate, day=DAY, reason="illness", note="病假",
                              actor=patrol.leader)  # fmt: skip
    services.schedule_create(user=patrol.admin, weekdays="12345", starts=dt.time(20),
                             ends=dt.time(2), actor=patrol.leader)  # fmt: skip
    client = browser(patrol.leader, "zh-hans")
    pages = {
        "/patrol/exemptions/?month=2026-03": "免计",
        "/patrol/exemptions/new/": "登记免计",
        "/patrol/schedules/": "次日",
        "/patrol/schedules/new/": "值班排班",
        f"/patrol/schedules/{DutySchedule.objects.get().pk}/": "修改值班排班",
    }
    for url, expected in pages.items():
        html = client.get(url).content.decode()
        assert expected in html, url
        assert english_on(html) == [], url
    refused = client.post(
        "/patrol/schedules/new/",
        {"username": "walker", "weekdays": [], "starts": "8", "ends": "12:00"},
    ).content.decode()
    assert "时间" in error(refused, "starts")
    assert english_on(refused) == []
    refused = client.post(
        "/patrol/exemptions/new/", {"username": "mate", "day": "x", "reason": "leave", "note": ""}
    ).content.decode()
    assert english_on(refused) == []
