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
    # The field service worker covers /care/field/ (the offline page, the queue's files).
    scope = page.evaluate("navigator.serviceWorker.ready.then(function (r) { return r.scope; })")
    assert scope == f"{live_server.url}/care/field/"
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


@pytest.mark.django_db(transaction=True)
def test_publicity_and_notice_forms_at_phone_size(browser, live_server, care: Care):  # noqa: F811
    import datetime as dt

    from civicgrid.care import services
    from civicgrid.care.models import Distribution

    campaign = services.campaign_create(
        actor=care.health, title="预防接种宣传", material="宣传单",
        starts_on=dt.date(2026, 3, 2), ends_on=dt.date(2026, 3, 31), grids=[care.grid.code],
    )  # fmt: skip
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
    for url in ("/care/campaigns/", f"/care/campaigns/{campaign.pk}/distribution/",
                f"/care/campaigns/{campaign.pk}/event/", "/care/notices/deliver/"):  # fmt: skip
        page.goto(f"{live_server.url}{url}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"] + 1, url  # no sideways scrolling on a phone
    page.goto(f"{live_server.url}/care/campaigns/{campaign.pk}/distribution/")
    page.fill("input[name=quantity]", "-1")
    page.fill("input[name=place]", "村口")
    page.fill("input[name=households_reached]", "30")
    page.click("#save")
    expect(page.locator("#error-quantity")).to_contain_text("0 or more")
    page.fill("input[name=quantity]", "80")
    page.click("#save")
    expect(page.locator(".messages")).to_contain_text("Distribution recorded.")
    page.go_back()  # the form again, with the key it was sent with: a resend stores nothing new
    page.click("#save")
    [saved] = Distribution.objects.all()
    assert (saved.quantity, saved.households_reached) == (80, 30)
    context.close()
