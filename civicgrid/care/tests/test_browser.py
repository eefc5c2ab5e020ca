"""Recording a visit at phone size in Chromium, offline first and then online."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from civicgrid.care.models import Visit
from civicgrid.care.tests.conftest import Care
from civicgrid.people.models import User
from civicgrid.web.tests.test_browser import PASSWORD, browser  # noqa: F401  (fixture)

PHONE = {"width": 390, "height": 844}


@pytest.mark.django_db(transaction=True)
def test_recording_a_visit_at_phone_size_offline_then_online(browser, live_server, care: Care):  # noqa: F811
    admin = User.objects.get(pk=care.admin.pk)
    admin.set_password(PASSWORD)
    admin.save()
    context = browser.new_context(viewport=PHONE, locale="en", is_mobile=True,
                                  extra_http_headers={"Accept-Language": "en"})  # fmt: skip
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", admin.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/care/field/")
    page.click("#record-visit")
    expect(page.locator("#no-opinions")).to_contain_text("Never record opinions")
    page.select_option("select[name=house]", "H001")
    page.fill("textarea[name=asked]", "Asked about the senior allowance")
    page.fill("textarea[name=done]", "Explained the documents needed")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1  # no sideways scrolling on a phone
    context.set_offline(True)
    page.click("#send")
    expect(page.locator("#visit-queue li")).to_have_count(1)
    assert Visit.objects.count() == 0
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("#visit-queue-card")).to_be_hidden()
    expect(page.locator("#visit-status")).to_have_text("Visit recorded.")
    [visit] = Visit.objects.all()
    assert visit.asked == "Asked about the senior allowance" and visit.visitor_id == admin.pk
    context.close()
