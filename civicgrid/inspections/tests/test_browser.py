"""A checklist filled at phone size in Chromium, with a photo, sent through the offline queue."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from civicgrid.inspections.models import Template, Visit
from civicgrid.inspections.tests.conftest import HERE, World
from civicgrid.web.tests.test_work_browser import (
    jpeg,
    one_session_writer,  # noqa: F401  (fixture)
    passwords_for,
    sign_in,
)

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_an_administrator_fills_a_checklist_offline_on_a_phone(
    browser,
    live_server,
    world: World,
) -> None:
    passwords_for(world.admin)
    admin = sign_in(browser, live_server, world.admin, "/field/", permissions=["geolocation"],
                    geolocation={"longitude": HERE[0], "latitude": HERE[1], "accuracy": 10},
                    **PHONE)  # fmt: skip
    page = admin.page
    page.click("#inspections-link")
    # The button is in the page before its script (at the end of the body) has run: a click
    # that early does nothing. Wait for the page's load event first.
    page.wait_for_url("**/inspections/field/", wait_until="load")
    page.click("#locate")
    page.wait_for_url("**/inspections/field/?lon=*")
    expect(page.locator("#due-week")).to_contain_text("H001")
    page.locator("#due-week li[data-area='01'] a", has_text="H001").first.click()
    expect(page.locator("#premises-name")).to_contain_text("H001")
    template = Template.objects.get(area="01", active=True)
    for item in template.items.all():
        if item.kind == "yes_no":
            answer = "no" if item.code == "01.03" else "yes"
            page.check(f"input[name='answer-{item.code}'][value='{answer}']")
    page.set_input_files("input[name='photo-01.05']", jpeg("gray"))
    page.set_input_files("input[name='photo-01.03']", jpeg("red"))
    page.check("#signed")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    admin.context.set_offline(True)
    page.click("#visit-submit")
    expect(page.locator("#visit-status")).to_contain_text("Saved on the phone")
    assert not Visit.objects.exists()
    admin.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("#sent-visit")).to_be_visible(timeout=20000)
    visit = Visit.objects.get()
    assert visit.answers.get(item__code="01.03").photo and visit.failed == 1
    assert visit.lon is not None and abs(visit.lon - HERE[0]) < 1e-4
    finding = visit.findings.get()
    page.click("#sent-visit")
    expect(page.locator("#findings")).to_contain_text(finding.notice_number)
    admin.assert_clean()
