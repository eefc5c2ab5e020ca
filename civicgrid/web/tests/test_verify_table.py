"""Who verifies a disposed case, and who finds it in a list: reporter kind × verifier kind,
by the API (tasks, the case's allowed actions, the action itself) and by the pages (the
field home's "to verify", the assessor's "to assess", the center's "awaiting verification",
the case page's forms)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.test import Client
from django.utils import timezone

from civicgrid.cases.models import Case, Notification
from civicgrid.cases.services import calendar_for
from civicgrid.cases.tests.conftest import HERE, Loop, loop, place, staff  # noqa: F401
from civicgrid.cases.tests.test_api import client_for as api_client_for
from civicgrid.people import services as people
from civicgrid.people.models import GridAssignment, Position, Role, User, WorkPermit
from civicgrid.public import services as public
from civicgrid.public.catalogue import public_services_seed
from civicgrid.public.models import PublicReport


def page_client(user: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


@dataclass
class Table:
    loop: Loop
    leader: User  # the grid leader of the reporting administrator's grid

    def report(self, reporter: str, verifier: str) -> Case:
        """A case reported as ``reporter`` whose category is verified by ``verifier``,
        dispatched to the urban management department and disposed."""
        cases = self.loop
        category = "1301" if verifier == "assessor" else "0702"
        if reporter == "administrator":
            case = cases.report(category)
        elif reporter == "portal":
            case = public.public_report_create(
                data=public.PublicReportIn(
                    service_code="0702",
                    description="路边垃圾",
                    lon=HERE[0],
                    lat=HERE[1],
                    address_ip="192.0.2.1",
                    source=PublicReport.Source.PORTAL,
                )
            ).case
        else:
            _key, raw = public.open311_key_create(name="client")
            response = Client().post(
                "/open311/v2/requests.json",
                {"api_key": raw, "jurisdiction_id": "441900123", "service_code": "0702",
                 "lat": str(HERE[1]), "long": str(HERE[0]), "description": "Garbage"},
            )  # fmt: skip
            assert response.status_code == 201, response.content
            case = Case.objects.get(number=response.json()[0]["service_request_id"])
        # The dispatcher may file a resident's report under a petition/dispute category.
        cases.act(case, "file", category=category)
        cases.act(case, "dispatch", department="URBAN")
        cases.act(case, "dispose", result="已处理")
        assert case.state == "disposed"
        return Case.objects.get(pk=case.pk)


@pytest.fixture
def table(loop: Loop) -> Table:  # noqa: F811
    public_services_seed()
    leader = staff("leader1", Role.GRID_LEADER)
    place(leader, loop.grid, Position.LEADER)
    return Table(loop, leader)


PEOPLE = ("admin", "leader", "far_admin", "assessor", "dispatcher")
# Right after disposal, who may verify: the reporting administrator alone for their own
# report, the grid team for a resident's, the assessors for a petition/dispute category.
EXPECTED = {
    ("administrator", "grid_team"): {"admin"},
    ("portal", "grid_team"): {"admin", "leader"},
    ("open311", "grid_team"): {"admin", "leader"},
    ("administrator", "assessor"): {"assessor"},
    ("portal", "assessor"): {"assessor"},
    ("open311", "assessor"): {"assessor"},
}
HOMES = {"admin": "/field/", "leader": "/field/", "far_admin": "/field/",
         "assessor": "/assess/", "dispatcher": "/center/"}  # fmt: skip


LISTS = {"/field/": 'id="tasks"', "/assess/": 'id="to-assess"',
         "/center/": 'id="queue-verification"'}  # fmt: skip


def person(table: Table, name: str) -> User:
    return table.leader if name == "leader" else getattr(table.loop, name)


def work_list(user: User, home: str) -> str:
    """The work list section of the user's home page."""
    html = page_client(user).get(home).content.decode()
    return html.split(LISTS[home], 1)[1].split("</section>")[0].split("</details>")[0]


@pytest.mark.parametrize(("reporter", "verifier"), sorted(EXPECTED))
def test_who_sees_and_may_verify_a_disposed_case(
    table: Table, reporter: str, verifier: str
) -> None:
    case = table.report(reporter, verifier)
    expected = EXPECTED[(reporter, verifier)]
    for name in PEOPLE:
        user = person(table, name)
        may = name in expected
        api = api_client_for(user)
        tasks = api.get("/api/v1/cases/tasks").json()
        listed = {item["number"]: item["allowed"] for item in tasks["items"]}
        assert (case.number in listed) == may, (name, listed)
        if may:
            assert listed[case.number] == ["verify_pass", "verify_fail"]
        # The center lists it as awaiting verification, though the dispatcher may not verify.
        on_list = case.number in work_list(user, HOMES[name])
        assert on_list == (may or name == "dispatcher"), name
        if name in ("admin", "leader", "assessor", "dispatcher"):
            detail = api.get(f"/api/v1/cases/{case.number}").json()
            assert ("verify_pass" in detail["allowed"]) == may, name
            section = HOMES[name].strip("/")
            form = page_client(user).get(f"/{section}/cases/{case.number}/").content.decode()
            assert ('id="action-verify_pass"' in form) == may, name
    # The service answers as the lists do: the ones not expected are refused, one expected
    # verifier passes the case.
    body = {"version": case.version, "note": "现场核查"}
    for name in PEOPLE:
        if name not in expected:
            refused = api_client_for(person(table, name)).post(
                f"/api/v1/cases/{case.number}/actions/verify_pass", body,
                content_type="application/json",
            )  # fmt: skip
            assert refused.status_code in (403, 404), (name, refused.content)
    verifier_user = person(table, sorted(expected)[0])
    done = api_client_for(verifier_user).post(
        f"/api/v1/cases/{case.number}/actions/verify_pass", body, content_type="application/json"
    )
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "verified"
    # Whoever may verify was told.
    told = set(Notification.objects.filter(case=case, kind="disposed").values_list(
        "user__username", flat=True))  # fmt: skip
    assert told == {person(table, name).username for name in expected}


def test_a_colleague_verifies_once_the_fallback_time_has_passed(table: Table, settings) -> None:  # type: ignore[no-untyped-def]
    case = table.report("administrator", "grid_team")
    leader = api_client_for(table.leader)
    numbers = lambda: [i["number"] for i in leader.get("/api/v1/cases/tasks").json()["items"]]  # noqa: E731
    assert numbers() == []
    refused = leader.post(f"/api/v1/cases/{case.number}/actions/verify_pass",
                          {"version": case.version}, content_type="application/json")  # fmt: skip
    assert refused.status_code == 403
    assert "grid team may from" in refused.json()["message"]
    # Arranged: the disposal happened 30 days ago; the setting decides whether that is enough.
    disposed_at = timezone.now() - dt.timedelta(days=30)
    Case.objects.filter(pk=case.pk).update(step_started_at=disposed_at)
    passed = calendar_for(case.township_id).working_hours_between(disposed_at, timezone.now())
    settings.CIVICGRID_VERIFY_FALLBACK_HOURS = int(passed) + 2
    assert numbers() == []
    settings.CIVICGRID_VERIFY_FALLBACK_HOURS = int(passed) - 1
    assert numbers() == [case.number]
    assert case.number in page_client(table.leader).get("/field/").content.decode()
    done = leader.post(f"/api/v1/cases/{case.number}/actions/verify_pass",
                       {"version": case.version}, content_type="application/json")  # fmt: skip
    assert done.status_code == 200, done.content


@pytest.mark.parametrize("absence", ["inactive", "permit_revoked", "left_the_grid"])
def test_a_colleague_verifies_at_once_when_the_reporter_is_away(table: Table, absence: str) -> None:
    case = table.report("administrator", "grid_team")
    reporter = table.loop.admin
    assert table.leader.username not in _may_verify(case)
    if absence == "inactive":
        User.objects.filter(pk=reporter.pk).update(is_active=False)
    elif absence == "permit_revoked":
        manager = staff("sysadmin", Role.SYSTEM_ADMINISTRATOR)
        people.work_permit_revoke(permit=WorkPermit.objects.get(user=reporter), actor=manager)
    else:
        GridAssignment.objects.filter(user=reporter).update(
            ends_on=timezone.localdate() - dt.timedelta(days=1)
        )
    assert _may_verify(case) == {table.leader.username}
    response = api_client_for(table.leader).post(
        f"/api/v1/cases/{case.number}/actions/verify_fail",
        {"version": case.version, "note": "仍有垃圾"}, content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "dispatched"


def _may_verify(case: Case) -> set[str]:
    from civicgrid.cases.selectors import actions_for

    fresh = Case.objects.select_related("category").get(pk=case.pk)
    return {
        u.username
        for u in User.objects.filter(is_active=True)
        if "verify_pass" in actions_for(User.objects.get(pk=u.pk), fresh)
    }


def test_a_member_without_field_rights_is_not_offered_a_residents_case(table: Table) -> None:
    case = table.report("portal", "grid_team")
    manager = staff("sysadmin", Role.SYSTEM_ADMINISTRATOR)
    people.work_permit_revoke(permit=WorkPermit.objects.get(user=table.leader), actor=manager)
    assert _may_verify(case) == {table.loop.admin.username}
    response = api_client_for(table.leader).post(
        f"/api/v1/cases/{case.number}/actions/verify_pass",
        {"version": case.version}, content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 403
    assert "field rights" in response.json()["message"]
