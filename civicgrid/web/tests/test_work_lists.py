"""Every role's home shows its work list; the inbox on every page; the fresh demo leaves no
open case on nobody's list."""

from __future__ import annotations

import datetime as dt
import re
import secrets

from django.test import Client
from django.utils import timezone

from civicgrid.cases import selectors
from civicgrid.cases.models import Case, Notification
from civicgrid.cases.tests.conftest import FAR, Loop, loop, place, staff  # noqa: F401
from civicgrid.cases.workflow import OPEN_STATES
from civicgrid.geo.models import Township
from civicgrid.people.demo import demo_staff_create
from civicgrid.people.models import Position, Role, User
from civicgrid.testing import logged_in as client_for
from civicgrid.web.demo import demo_cases_complete


def resident_case_disposed(loop: Loop) -> Case:  # noqa: F811
    case = loop.report(actor=None, acting_as="resident")
    for action, params in (("file", {}), ("dispatch", {}), ("dispose", {"result": "已清理"})):
        loop.act(case, action, **params)
    return case


def header_count(html: str) -> int:
    found = re.search(r'id="inbox-count">(\d+)<', html)
    return int(found.group(1)) if found else 0


def test_the_inbox_counts_lists_and_marks_read(loop: Loop) -> None:  # noqa: F811
    leader = staff("leader1", Role.GRID_LEADER)
    place(leader, loop.grid, Position.LEADER)
    case = resident_case_disposed(loop)
    client = client_for(leader)
    assert header_count(client.get("/field/").content.decode()) == 1
    page = client.get("/inbox/").content.decode()
    assert f'href="/field/cases/{case.number}/"' in page
    assert "a case awaits your verification" in page
    notice = Notification.objects.get(user=leader)
    # Nobody marks another person's notice read.
    client_for(loop.admin).post("/inbox/read/", {"id": notice.pk})
    notice.refresh_from_db()
    assert notice.read_at is None
    response = client.post("/inbox/read/", {"id": notice.pk})
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    assert header_count(client.get("/inbox/").content.decode()) == 0
    # The administrator was told too; "mark all" clears their inbox, in Chinese as well.
    chinese = client_for(loop.admin, "zh-hans")
    page = chinese.get("/inbox/").content.decode()
    assert "收件箱" in page and "全部标为已读" in page
    chinese.post("/inbox/read/")
    assert not Notification.objects.filter(user=loop.admin, read_at__isnull=True).exists()


def test_the_department_and_dispatcher_see_the_inbox_count_too(loop: Loop) -> None:  # noqa: F811
    loop.case_in("dispatched")
    assert header_count(client_for(loop.officer).get("/dept/").content.decode()) == 1
    assert header_count(client_for(loop.dispatcher).get("/center/").content.decode()) == 0


def test_the_village_officer_lands_on_the_village_list(loop: Loop) -> None:  # noqa: F811
    officer = staff("village1", Role.VILLAGE_OFFICER, village=loop.grid.village)
    mine = loop.case_in("dispatched")
    elsewhere = loop.report(actor=loop.far_admin, at=FAR)
    done = loop.case_in("closed")
    officer.set_password("a-long-test-password")
    officer.save()
    client = Client(headers={"Accept-Language": "en"})
    response = client.post(
        "/accounts/login/", {"username": officer.username, "password": "a-long-test-password"}
    )
    assert response.status_code == 302 and response["Location"] == "/village/"
    page = client.get("/village/").content.decode()
    assert mine.number in page and elsewhere.number not in page and done.number not in page
    assert client.get(f"/village/cases/{mine.number}/").status_code == 200
    assert client.get(f"/village/cases/{elsewhere.number}/").status_code == 404


def test_the_assessor_home_lists_cases_to_assess(loop: Loop) -> None:  # noqa: F811
    def dispute(steps: list[str]) -> Case:
        case = loop.report("1301")
        params = {"dispatch": {"department": "URBAN"}, "dispose": {"result": "已调解"}}
        for action in steps:
            loop.act(case, action, **params.get(action, {}))
        return case

    to_assess = dispute(["file", "dispatch", "dispose"])
    coming = dispute(["file", "dispatch"])
    other = loop.case_in("disposed")
    page = client_for(loop.assessor).get("/assess/").content.decode()
    listed = page.split('id="to-assess"')[1].split("</ul>")[0]
    assert to_assess.number in listed and other.number not in listed
    assert coming.number in page.split('id="coming"')[1]
    case_page = client_for(loop.assessor).get(f"/assess/cases/{to_assess.number}/")
    assert 'id="action-verify_pass"' in case_page.content.decode()
    response = client_for(loop.assessor).post(
        f"/assess/cases/{to_assess.number}/verify_pass/", {"version": to_assess.version}
    )
    assert response.status_code == 302
    to_assess.refresh_from_db()
    assert to_assess.state == "verified"


def test_overdue_verification_is_charged_to_the_verifier(loop: Loop) -> None:  # noqa: F811
    late = resident_case_disposed(loop)
    Case.objects.filter(pk=late.pk).update(deadline=timezone.now() - dt.timedelta(days=2))
    center = client_for(loop.dispatcher)
    queue = center.get("/center/").content.decode()
    section = queue.split('id="queue-verification"')[1].split("</details>")[0]
    assert late.number in section and "the team of 东村 grid 01 (441900 123 001 01)" in section
    board = center.get("/center/overdue/").content.decode()
    charges = board.split('id="overdue-departments"')[1].split("</table>")[0]
    assert "the team of 东村 grid 01 (441900 123 001 01)" in charges
    assert loop.department.name not in charges


def test_a_fresh_demo_leaves_no_open_case_on_nobodys_list(township: Township) -> None:
    from civicgrid.cases.demo import demo_cases_create

    demo_staff_create(township=township, password=lambda: secrets.token_urlsafe(9))
    demo_cases_create(township=township)
    demo_cases_complete(township=township)
    listed: dict[str, set[str]] = {}
    for user in User.objects.filter(is_active=True):
        for task in selectors.tasks_for(user):
            listed.setdefault(task.case.number, set()).add(user.username)
    still_open = Case.objects.filter(state__in=list(OPEN_STATES))
    open_cases = set(still_open.values_list("number", flat=True))
    assert open_cases and open_cases <= set(listed), open_cases - set(listed)
    # The resident's disposed case that sat overdue now waits on the grid team's lists.
    late = Case.objects.get(description="演示：超期未核查")
    assert "gridadmin" in listed[late.number]
    page = client_for(User.objects.get(username="gridadmin")).get("/field/").content.decode()
    assert late.number in page.split('id="tasks"')[1].split("</section>")[0]


def test_the_sweep_tells_the_verifier_not_the_department(loop: Loop) -> None:  # noqa: F811
    from civicgrid.cases.services import sweep_overdue

    late = resident_case_disposed(loop)
    Case.objects.filter(pk=late.pk).update(deadline=timezone.now() - dt.timedelta(hours=1))
    sweep_overdue()
    told = set(
        Notification.objects.filter(case=late, kind="overdue").values_list(
            "user__username", flat=True
        )
    )
    assert told == {loop.admin.username, loop.dispatcher.username, loop.dispatcher2.username}
