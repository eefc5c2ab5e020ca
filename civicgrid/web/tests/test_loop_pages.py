"""Recall, reopen, phone intake and the village hand-off as the pages offer them."""

from __future__ import annotations

from django.test import Client

from civicgrid.cases.models import Case
from civicgrid.cases.tests.conftest import HERE, Loop, loop  # noqa: F401  (fixture)
from civicgrid.people import services as people
from civicgrid.public import services as public_services
from civicgrid.public.models import PublicReport, ReopenRequest
from civicgrid.web.tests.test_work_pages import PASSWORD, client_for, jpeg


def _section(page: str, element_id: str) -> str:
    return page.split(f'id="{element_id}"')[1].split("</section>")[0]


def _unsatisfied_resident_case(loop: Loop, phone: str = "13900001111") -> Case:  # noqa: F811
    reported = public_services.public_report_create(
        data=public_services.PublicReportIn(
            service_code="0702", description="门口垃圾没人管", lon=HERE[0], lat=HERE[1],
            source=PublicReport.Source.PORTAL, address_ip="192.0.2.9", phone=phone,
        )
    )  # fmt: skip
    case = reported.case
    for action in loop.PATH["closed"]:
        loop.act(case, action, None, **loop.PARAMS.get(action, {}))
    public_services.case_rate(case=case, token=reported.follow_token, rating=1,
                              comment="还是很脏", reopen=True)  # fmt: skip
    case.refresh_from_db()
    return case


def test_center_recalls_and_redispatches_from_the_case_page(loop: Loop) -> None:  # noqa: F811
    case = loop.case_in("dispatched")
    client = client_for(loop.dispatcher)
    page = client.get(f"/center/cases/{case.number}/").content.decode()
    form = page.split('id="action-recall"')[1].split("</form>")[0]
    assert 'value="FIRE"' in form and 'value="URBAN"' not in form
    response = client.post(
        f"/center/cases/{case.number}/recall/",
        {"version": case.version, "note": "应由消防处理", "department": "FIRE"},
        follow=True,
    )
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.state == "dispatched" and case.department == loop.other_department
    assert list(case.events.values_list("action", flat=True))[-2:] == ["recall", "dispatch"]
    timeline = response.content.decode().split('id="timeline"')[1]
    assert 'data-action="recall"' in timeline and "应由消防处理" in timeline
    # The department the case was recalled from no longer sees an action on it.
    old = client_for(loop.officer).get(f"/dept/cases/{case.number}/").content.decode()
    assert 'id="no-actions"' in old


def test_dispatch_page_names_the_department_without_officer(loop: Loop) -> None:  # noqa: F811
    people.department_create(township=loop.township, code="WATER", name="水务站",
                             areas=["environment"], actor=None)  # fmt: skip
    case = loop.case_in("filed")
    response = client_for(loop.dispatcher).post(
        f"/center/cases/{case.number}/dispatch/",
        {"version": case.version, "department": "WATER"},
        follow=True,
    )
    assert "水务站" in response.content.decode().split('class="messages')[1].split("</ul>")[0]
    case.refresh_from_db()
    assert case.state == "filed" and case.events.count() == 2


def test_center_grants_a_reopen_request_from_the_case_page(loop: Loop) -> None:  # noqa: F811
    case = _unsatisfied_resident_case(loop)
    client = client_for(loop.dispatcher)
    center = client.get("/center/").content.decode()
    assert case.number in center.split('id="queue-reopen"')[1].split("</details>")[0]
    page = client.get(f"/center/cases/{case.number}/").content.decode()
    panel = _section(page, "reopen-request")
    assert "还是很脏" in panel and 'id="reopen-grant"' in panel and 'id="reopen-refuse"' in panel
    response = client.post(f"/center/cases/{case.number}/reopen/decide/",
                           {"version": case.version, "decision": "grant"}, follow=True)  # fmt: skip
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.state == "dispatched" and case.rework_count == 1 and case.deadline is not None
    assert case.events.last().action == "reopen"
    assert ReopenRequest.objects.get(case=case).status == "granted"
    assert case.number not in client.get("/center/").content.decode().split('id="queue-reopen"')[1]
    # The department finds it in its inbox again, marked as rework.
    inbox = client_for(loop.officer).get("/dept/").content.decode()
    assert case.number in inbox.split('id="inbox"')[1]


def test_center_refuses_a_reopen_request_with_a_reason_the_resident_reads(
    loop: Loop,  # noqa: F811
) -> None:
    case = _unsatisfied_resident_case(loop, phone="13900002222")
    client = client_for(loop.dispatcher)
    url = f"/center/cases/{case.number}/reopen/decide/"
    empty = client.post(url, {"version": case.version, "decision": "refuse"}, follow=True)
    assert "reason" in empty.content.decode().split('class="messages')[1]
    assert ReopenRequest.objects.get(case=case).status == "pending"
    stale = client.post(url, {"version": case.version - 1, "decision": "refuse", "note": "x"},
                        follow=True)  # fmt: skip
    assert "Reload" in stale.content.decode().split('class="messages')[1]
    client.post(url, {"version": case.version, "decision": "refuse", "note": "复查已清理干净"})
    request = ReopenRequest.objects.get(case=case)
    assert (request.status, request.decision_note) == ("refused", "复查已清理干净")
    case.refresh_from_db()
    assert case.state == "closed" and case.events.last().action == "rate"
    resident = Client(headers={"Accept-Language": "en"})
    page = resident.post("/public/track/", {"number": case.number, "phone": "13900002222"},
                         follow=True).content.decode()  # fmt: skip
    assert "复查已清理干净" in page.split('id="reopen-status"')[1]
    # Others may not decide.
    officer = client_for(loop.officer).post(url, {"version": case.version, "decision": "grant"})
    assert officer.status_code == 403


def test_stale_reopen_grant_changes_nothing(loop: Loop) -> None:  # noqa: F811
    case = _unsatisfied_resident_case(loop, phone="13900003333")
    response = client_for(loop.dispatcher).post(
        f"/center/cases/{case.number}/reopen/decide/",
        {"version": case.version - 1, "decision": "grant"},
        follow=True,
    )
    assert "Reload" in response.content.decode().split('class="messages')[1]
    case.refresh_from_db()
    assert case.state == "closed" and ReopenRequest.objects.get(case=case).status == "pending"


def test_phone_intake_from_the_center(loop: Loop) -> None:  # noqa: F811
    client = client_for(loop.dispatcher)
    assert 'href="/center/intake/"' in client.get("/center/").content.decode()
    form = client.get("/center/intake/")
    assert form.status_code == 200 and 'id="intake-form"' in form.content.decode()
    body = {"caller_name": "李四", "caller_phone": "13900005555", "category": "0702",
            "description": "来电：门口垃圾堆积", "urgency": "normal",
            "address": "东村口"}  # fmt: skip
    missing = client.post("/center/intake/", body)
    assert missing.status_code == 400 and not Case.objects.exists()
    response = client.post("/center/intake/", {**body, "grid": loop.grid.code})
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/center/cases/{case.number}/"
    assert case.grid == loop.grid and case.reporter_kind == "resident"
    assert (case.reporter_name, case.reporter_phone) == ("李四", "13900005555")
    assert case.events.get().payload["channel"] == "phone"
    center = client.get("/center/").content.decode()
    assert case.number in center.split('id="queue-new"')[1].split("</details>")[0]
    page = client.get(f"/center/cases/{case.number}/").content.decode()
    assert 'id="action-file"' in page and "by phone" in page.split('id="timeline"')[1]
    at_point = client.post("/center/intake/", {**body, "lon": HERE[0], "lat": HERE[1]})
    assert at_point.status_code == 302 and Case.objects.count() == 2
    assert client_for(loop.officer).get("/center/intake/").status_code == 403


def test_village_hand_off_resolved_locally_from_the_village_home(loop: Loop) -> None:  # noqa: F811
    loop.village_officer.set_password(PASSWORD)
    loop.village_officer.save()
    landing = Client().post("/accounts/login/", {"username": loop.village_officer.username,
                                                 "password": PASSWORD})  # fmt: skip
    assert landing["Location"] == "/village/"
    case = loop.report()
    admin = client_for(loop.admin)
    page = admin.get(f"/field/cases/{case.number}/").content.decode()
    assert 'id="action-hand_to_village"' in page
    admin.post(f"/field/cases/{case.number}/hand_to_village/",
               {"version": case.version, "note": "邻里纠纷"})  # fmt: skip
    case.refresh_from_db()
    assert case.state == "local"
    village = client_for(loop.village_officer)
    home = village.get("/village/").content.decode()
    assert case.number in _section(home, "to-resolve-locally")
    assert case.number not in client_for(loop.far_village_officer).get("/village/").content.decode()
    page = village.get(f"/village/cases/{case.number}/").content.decode()
    assert 'id="action-resolve_locally"' in page and 'id="action-send_to_center"' in page
    body = {"version": case.version, "result": "村委会调解，双方和解", "photos": jpeg()}
    village.post(f"/village/cases/{case.number}/resolve_locally/", body)
    case.refresh_from_db()
    assert case.state == "closed" and case.result == "村委会调解，双方和解"
    event = case.events.last()
    assert event.action == "resolve_locally" and len(event.payload["photos"]) == 1
    assert case.number not in _section(village.get("/village/").content.decode(),
                                       "to-resolve-locally")  # fmt: skip


def test_village_sends_a_hand_off_on_to_the_center(loop: Loop) -> None:  # noqa: F811
    case = loop.report()
    center = client_for(loop.dispatcher)
    page = center.get(f"/center/cases/{case.number}/").content.decode()
    assert 'id="action-hand_to_village"' in page
    center.post(f"/center/cases/{case.number}/hand_to_village/", {"version": case.version})
    case.refresh_from_db()
    village = client_for(loop.village_officer)
    village.post(f"/village/cases/{case.number}/send_to_center/",
                 {"version": case.version, "note": "需要执法部门处理"})  # fmt: skip
    case.refresh_from_db()
    assert case.state == "reported"
    assert list(case.events.values_list("action", flat=True)) == [
        "report", "hand_to_village", "send_to_center"]  # fmt: skip
    queue = center.get("/center/").content.decode()
    assert case.number in queue.split('id="queue-new"')[1].split("</details>")[0]
    # A resident's report is not handed to the village.
    resident = _unsatisfied_resident_case(loop, phone="13900004444")
    assert 'id="action-hand_to_village"' not in center.get(
        f"/center/cases/{resident.number}/").content.decode()  # fmt: skip
