"""A resident's report goes around the whole loop in Debian's Chromium, every step reached
by clicking from the acting person's home page (only the portal and the login page are
typed): the portal, the center's queue, the department inbox, the field home's "to verify"
and the center's "awaiting verification" and closure lists."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from civicgrid.cases.models import Case, CaseEvent
from civicgrid.cases.tests.conftest import Loop, loop, place, staff  # noqa: F401  (fixture)
from civicgrid.people.models import Position, Role
from civicgrid.public.tests.conftest import Public, public  # noqa: F401  (fixture)
from civicgrid.public.tests.test_browser import phone_page, pick_on_map
from civicgrid.web.tests.test_work_browser import (  # noqa: F401  (fixture)
    jpeg,
    one_session_writer,
    passwords_for,
    sign_in,
)


@pytest.mark.django_db(transaction=True)
def test_a_residents_report_is_found_and_closed_by_clicking_from_each_home(
    browser,
    live_server,
    loop: Loop,  # noqa: F811
    public: Public,  # noqa: F811
) -> None:
    leader = staff("leader1", Role.GRID_LEADER)
    place(leader, loop.grid, Position.LEADER)
    passwords_for(loop.dispatcher, loop.officer, leader)

    # A resident reports on the portal.
    resident = phone_page(browser)
    resident.goto(f"{live_server.url}/public/")
    resident.click("main a.button")
    resident.select_option("#id_service", "0702")
    resident.fill("#id_description", "Garbage piled at the school gate")
    pick_on_map(resident)
    resident.click("#send")
    expect(resident.locator("h1")).to_have_text("Report received")
    number = resident.locator("#case-number").inner_text()
    case = Case.objects.get(number=number)
    assert case.reporter_kind == "resident" and case.grid_id == loop.grid.pk

    # The dispatcher files and dispatches it from the queue of new reports.
    center = sign_in(browser, live_server, loop.dispatcher, "/center/")
    center.page.click(f"#queue-new a:has-text('{number}')")
    center.page.click("#action-file button")
    expect(center.page.locator("#case-state")).to_have_text("filed")
    center.page.click("#action-dispatch button")
    expect(center.page.locator("#case-state")).to_have_text("dispatched")
    center.page.wait_for_load_state("networkidle")

    # The department finds it in its inbox and reports the disposal.
    dept = sign_in(browser, live_server, loop.officer, "/dept/")
    expect(dept.page.locator("#nav-inbox .count")).to_have_text("1")
    dept.page.click(f"#inbox a:has-text('{number}')")
    dept.page.fill("#action-dispose textarea[name=result]", "Cleared by the sanitation team")
    dept.page.set_input_files("#action-dispose input[name=photos]", jpeg("green"))
    dept.page.click("#action-dispose button")
    expect(dept.page.locator("#case-state")).to_have_text("disposed")
    dept.page.wait_for_load_state("networkidle")

    # The center sees it awaiting verification by the grid team, not by the department.
    center.page.click("header nav a[href='/center/']")
    waiting = center.page.locator("#queue-verification li", has_text=number)
    expect(waiting).to_contain_text("the team of 东村 grid 01 (441900 123 001 01)")
    center.shot("loop-center-awaiting-verification")

    # A member of the grid team (not the reporter: a resident reported it) is told, and
    # finds it on the field home's "to verify".
    field = sign_in(browser, live_server, leader, "/field/")
    expect(field.page.locator("#nav-inbox .count")).to_have_text("1")
    expect(field.page.locator("#verify-count")).to_have_text("1")
    field.shot("loop-field-to-verify")
    field.page.click(f"#tasks a:has-text('{number}')")
    expect(field.page.locator("img.photo-after")).to_have_count(1)
    field.page.fill("#action-verify_pass input[name=note]", "Checked on site: clean")
    field.page.click("#action-verify_pass button")
    expect(field.page.locator("#case-state")).to_have_text("verified")
    # The notice is marked read from the inbox page, reached from the header.
    field.page.click("#nav-inbox")
    field.page.click("#notices form button")
    expect(field.page.locator("#nav-inbox .count")).to_have_count(0)
    field.page.wait_for_load_state("networkidle")

    # The dispatcher closes it from the queue.
    center.page.click("header nav a[href='/center/']")
    expect(center.page.locator("#queue-verification li", has_text=number)).to_have_count(0)
    center.page.click(f"#queue-closure a:has-text('{number}')")
    center.page.click("#action-close button")
    expect(center.page.locator("#case-state")).to_have_text("closed")

    events = CaseEvent.objects.filter(case=case).order_by("seq")
    assert list(events.values_list("action", "role")) == [
        ("report", "resident"), ("file", "dispatcher"), ("dispatch", "dispatcher"),
        ("add_photo", "department_officer"),  # the after photo: a ledger event of its own
        ("dispose", "department_officer"), ("verify_pass", "grid_leader"),
        ("close", "dispatcher"),
    ]  # fmt: skip
    assert events.get(action="verify_pass").actor == leader
    for session in (center, dept, field):
        session.assert_clean()
