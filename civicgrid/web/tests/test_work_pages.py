"""The center, department and field pages through Django's test client."""

from __future__ import annotations

import io
import secrets

import pytest
from django.test import Client
from PIL import Image

from civicgrid.cases.models import Case, CaseEvent, IdempotencyKey
from civicgrid.cases.selectors import actions_for
from civicgrid.cases.tests.conftest import HERE, Loop, loop  # noqa: F401  (fixture)
from civicgrid.geo.models import Township
from civicgrid.people.demo import demo_staff_create
from civicgrid.testing import logged_in as client_for
from civicgrid.web.demo import demo_cases_complete

PASSWORD = "a-long-test-password"


def jpeg() -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", (32, 24), "red").save(data, "JPEG")
    data.seek(0)
    data.name = "photo.jpg"
    return data


@pytest.mark.parametrize(
    ("who", "landing"),
    [
        ("dispatcher", "/center/"),
        ("officer", "/dept/"),
        ("admin", "/field/"),
        ("assessor", "/assess/"),
    ],
)
def test_login_lands_on_the_page_of_the_role(loop: Loop, who: str, landing: str) -> None:  # noqa: F811
    user = getattr(loop, who)
    user.set_password(PASSWORD)
    user.save()
    response = Client().post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == landing


def test_pages_refuse_other_roles(loop: Loop) -> None:  # noqa: F811
    assert client_for(loop.officer).get("/center/").status_code == 403
    assert client_for(loop.dispatcher).get("/dept/").status_code == 403
    assert client_for(loop.dispatcher).get("/field/").status_code == 403
    assert Client().get("/center/").status_code == 302


def test_center_queue_counts_a_new_report(loop: Loop) -> None:  # noqa: F811
    case = loop.report()
    client = client_for(loop.dispatcher)
    page = client.get("/center/")
    assert page.status_code == 200
    assert case.number in page.content.decode()
    counts = client.get("/center/counts.json").json()
    assert counts["new"] == 1 and counts["to_dispatch"] == 0
    points = client.get("/center/cases.geojson").json()["features"]
    assert [p["properties"]["number"] for p in points] == [case.number]


def test_case_page_offers_only_what_the_user_may_do(loop: Loop) -> None:  # noqa: F811
    case = loop.report()
    assert [a.value for a in actions_for(loop.dispatcher, case)] == [
        "file", "reject", "merge", "hand_to_village"]  # fmt: skip
    assert actions_for(loop.officer, case) == []
    # The reporting administrator may hand the report to the village committee, no more.
    assert [a.value for a in actions_for(loop.admin, case)] == ["hand_to_village"]
    assert actions_for(loop.far_admin, case) == []
    loop.act(case, "file")
    loop.act(case, "dispatch")
    assert [a.value for a in actions_for(loop.officer, case)] == [
        "return",
        "dispose",
        "request_extension",
    ]
    assert actions_for(loop.other_officer, case) == []
    page = client_for(loop.dispatcher).get(f"/center/cases/{case.number}/").content.decode()
    assert 'id="action-backlog"' in page and 'id="action-dispose"' not in page


def test_the_whole_loop_through_the_forms(loop: Loop) -> None:  # noqa: F811
    case = loop.report()
    center, dept, field = (
        client_for(loop.dispatcher),
        client_for(loop.officer),
        client_for(loop.admin),
    )

    def post(client: Client, section: str, action: str, **data: object) -> None:
        case.refresh_from_db()
        response = client.post(
            f"/{section}/cases/{case.number}/{action}/", {"version": case.version, **data}
        )
        assert response.status_code == 302, response

    post(center, "center", "file", category="0702", urgency="urgent")
    page = center.get(f"/center/cases/{case.number}/").content.decode()
    assert '<option value="URBAN" selected>' in page
    post(center, "center", "dispatch", department="URBAN")
    post(dept, "dept", "dispose", result="已清理", photos=jpeg())
    post(field, "field", "verify_pass", note="核查通过")
    post(center, "center", "close")
    case.refresh_from_db()
    assert case.state == "closed" and case.urgency == "urgent"
    assert case.attachments.filter(kind="after").count() == 1
    events = CaseEvent.objects.filter(case=case).order_by("seq")
    actions = list(events.values_list("action", flat=True))
    # The after photo is a ledger event of its own, just before the disposal it shows.
    assert actions == ["report", "file", "dispatch", "add_photo", "dispose", "verify_pass",
                       "close"]  # fmt: skip
    assert events[4].payload["photos"] == [events[3].payload["photo"]]
    timeline = center.get(f"/center/cases/{case.number}/").content.decode()
    assert timeline.count('data-action="') == 7


def test_a_refused_action_says_why_and_changes_nothing(loop: Loop) -> None:  # noqa: F811
    case = loop.report()
    client = client_for(loop.dispatcher)
    response = client.post(
        f"/center/cases/{case.number}/reject/", {"version": case.version}, follow=True
    )
    assert "note" in response.content.decode()
    case.refresh_from_db()
    assert case.state == "reported" and CaseEvent.objects.filter(case=case).count() == 1


def test_stale_version_is_a_conflict_message(loop: Loop) -> None:  # noqa: F811
    case = loop.report()
    client = client_for(loop.dispatcher)
    response = client.post(f"/center/cases/{case.number}/file/", {"version": 99}, follow=True)
    assert "changed since you loaded it" in response.content.decode()


def report_body(**extra: str) -> dict[str, object]:
    return {"category": "0702", "description": "垃圾堆放", "lon": str(HERE[0]), "lat": str(HERE[1]),
            **extra}  # fmt: skip


def test_field_report_is_created_once_per_idempotency_key(loop: Loop) -> None:  # noqa: F811
    client = client_for(loop.admin)
    headers = {"Idempotency-Key": secrets.token_hex(8), "Accept": "application/json"}
    first = client.post("/field/report/", {**report_body(), "photos": jpeg()}, headers=headers)
    again = client.post("/field/report/", {**report_body(), "photos": jpeg()}, headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["number"] == again.json()["number"]
    case = Case.objects.get()
    assert case.attachments.filter(kind="before").count() == 1
    assert IdempotencyKey.objects.count() == 1


def test_field_report_refusal_names_the_field(loop: Loop) -> None:  # noqa: F811
    client = client_for(loop.admin)
    headers = {"Idempotency-Key": "k1", "Accept": "application/json"}
    response = client.post("/field/report/", report_body(category="9999"), headers=headers)
    assert response.status_code == 422
    assert response.json()["field"] == "category"
    assert not Case.objects.exists()


def test_resolving_on_the_spot_records_a_closed_case(loop: Loop) -> None:  # noqa: F811
    client = client_for(loop.admin)
    body = report_body(on_the_spot="1", idempotency_key="spot-1", measures="劝导店主自行清理",
                       complied="yes")  # fmt: skip
    response = client.post("/field/report/", body, follow=True)
    assert response.status_code == 200
    case = Case.objects.get()
    assert case.state == "closed"
    [event] = case.events.all()
    assert event.action == "resolve_on_spot"
    assert (event.payload["measures"], event.payload["complied"]) == ("劝导店主自行清理", True)
    page = client.get(f"/field/cases/{case.number}/").content.decode()
    assert "劝导店主自行清理" in page.split('id="timeline"')[1]


def test_resolving_on_the_spot_without_what_was_done_is_refused(loop: Loop) -> None:  # noqa: F811
    client = client_for(loop.admin)
    headers = {"Idempotency-Key": "spot-2", "Accept": "application/json"}
    response = client.post("/field/report/", report_body(on_the_spot="1", complied="no"),
                           headers=headers)  # fmt: skip
    assert response.status_code == 422 and response.json()["field"] == "measures"
    body = report_body(on_the_spot="1", measures="劝导")
    response = client.post("/field/report/", body, headers={**headers, "Idempotency-Key": "s3"})
    assert response.status_code == 422 and response.json()["field"] == "complied"
    assert not Case.objects.exists()


def test_field_home_lists_cases_to_verify(loop: Loop) -> None:  # noqa: F811
    case = loop.case_in("disposed")
    page = client_for(loop.admin).get("/field/").content.decode()
    assert case.number in page.split('id="tasks"')[1].split("</section>")[0]


def test_department_inbox_puts_overdue_first(loop: Loop) -> None:  # noqa: F811
    later = loop.case_in("dispatched")
    sooner = loop.case_in("dispatched")
    loop.act(sooner, "backlog", note="x")  # no deadline: last
    page = client_for(loop.officer).get("/dept/").content.decode()
    assert page.index(later.number) < page.index(sooner.number)


def test_the_app_is_installable(loop: Loop) -> None:  # noqa: F811
    client = Client()
    manifest = client.get("/field/manifest.webmanifest")
    assert manifest["Content-Type"] == "application/manifest+json"
    assert manifest.json()["start_url"] == "/field/"
    worker = client.get("/field/sw.js")
    assert worker["Content-Type"].startswith("text/javascript")
    assert "/field/offline/" in worker.content.decode()
    assert client.get("/field/offline/").status_code == 200


def test_language_choice_is_kept_in_cookie_and_session(loop: Loop) -> None:  # noqa: F811
    client = client_for(loop.dispatcher)
    response = client.post("/language/", {"language": "en", "next": "/center/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"
    assert client.session["civicgrid_language"] == "en"


def test_language_choice_follows_the_user_to_another_device(loop: Loop) -> None:  # noqa: F811
    from django.test import Client

    client_for(loop.dispatcher).post("/language/", {"language": "en", "next": "/center/"})
    loop.dispatcher.refresh_from_db()
    assert loop.dispatcher.language == "en"
    loop.dispatcher.set_password("another-long-password")
    loop.dispatcher.save()
    # A new browser with no cookies, asking for Chinese: the user's choice wins at login.
    fresh = Client(headers={"accept-language": "zh-hans"})
    response = fresh.post(
        "/accounts/login/",
        {"username": loop.dispatcher.username, "password": "another-long-password"},
    )
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"
    page = fresh.get("/center/")
    assert page.status_code == 200
    assert 'lang="en"' in page.content.decode()


def test_demo_adds_the_missing_states_and_overdue_cases(township: Township) -> None:
    from civicgrid.cases.demo import demo_cases_create
    from civicgrid.cases.services import ledger_verify

    demo_staff_create(township=township, password=lambda: secrets.token_urlsafe(9))
    demo_cases_create(township=township)
    assert demo_cases_complete(township=township) > 0
    states = set(Case.objects.values_list("state", flat=True))
    assert states >= {"reported", "filed", "dispatched", "disposed", "verified", "closed",
                      "rejected", "merged"}  # fmt: skip
    assert Case.objects.filter(overdue_step_seq__isnull=False).count() >= 3
    assert Case.objects.filter(return_count__gt=0, state="filed").exists()
    # The loop's other channels: the village committee, a phone call, a reopen request.
    assert Case.objects.filter(state="local").exists()
    assert CaseEvent.objects.filter(action="report", payload__channel="phone").exists()
    assert Case.objects.filter(reopen_request__status="pending", state="closed").exists()
    assert ledger_verify()[1] is None


def test_clicking_a_grid_shows_its_team_registry_counts_and_open_cases(loop: Loop) -> None:  # noqa: F811
    from civicgrid.registry import services as registry

    registry.house_create(
        values={"code": "H001", "address": "东村路 1 号", "lon": HERE[0], "lat": HERE[1],
                "owner_name": "王五", "owner_phone": "13812345678"},
        actor=loop.admin,
    )  # fmt: skip
    response = client_for(loop.dispatcher).get(f"/center/grids/{loop.grid.code}.json")
    assert response.status_code == 200
    body = response.json()
    assert body["team"] == [loop.admin.username]
    assert body["registry"]["houses"] == 1
    assert body["registry"]["persons"] == 0
    assert "王五" not in response.content.decode()  # counts only, no personal data
