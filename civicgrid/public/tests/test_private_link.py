"""The private tracking link: it fits a phone, says it is the way to rate, and copies with
one press (clipboard, else selected for the phone's own Copy); without JavaScript the link
is still there."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from civicgrid.public.tests.conftest import Public
from civicgrid.public.tests.test_browser import phone_page, pick_on_map

pytestmark = pytest.mark.django_db(transaction=True)


def no_sideways_scroll(page: Page) -> bool:
    return bool(page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    ))  # fmt: skip


def report_on_a_phone(page: Page, url: str) -> str:
    page.goto(f"{url}/public/report/")
    expect(page.locator("#id_service")).to_have_value("")
    page.select_option("#id_service", "0702")
    page.fill("#id_description", "Garbage piled at the gate")
    pick_on_map(page)
    page.click("#send")
    expect(page.locator("h1")).to_have_text("Report received")
    link = page.locator("#tracking-link").get_attribute("href")
    assert link and link.startswith(url)
    return link


def test_the_link_fits_a_phone_says_it_rates_and_copies(
    browser: Browser, live_server, public: Public
) -> None:
    page = phone_page(browser)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    link = report_on_a_phone(page, live_server.url)
    assert no_sideways_scroll(page)
    expect(page.locator("#private-link")).to_contain_text("rate the result")
    expect(page.locator("#tracking-link")).to_be_in_viewport()
    page.click("#copy-link")
    expect(page.locator("#tracking-link-copied")).to_have_text("Link copied.")
    assert page.evaluate("navigator.clipboard.readText()") == link
    # The ways on from here: follow without the link, and what was done nearby.
    expect(page.locator("#next-steps li")).to_have_count(3)
    page.click("text=See what was reported and done nearby")
    expect(page.locator("h1")).to_have_text("Recent cases")


def test_without_the_clipboard_api_the_link_is_selected(
    browser: Browser, live_server, public: Public
) -> None:
    page = phone_page(browser)
    page.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: undefined})")
    link = report_on_a_phone(page, live_server.url)
    page.click("#copy-link")
    expect(page.locator("#tracking-link-copied")).not_to_have_text("")
    assert page.evaluate("window.getSelection().toString()") == link


def test_without_javascript_the_link_is_shown_wrapped_and_no_dead_button(
    browser: Browser, live_server, public: Public
) -> None:
    reported = public.resident_report()
    context = browser.new_context(
        java_script_enabled=False,
        viewport={"width": 390, "height": 844},
        extra_http_headers={"Accept-Language": "zh-hans"},
    )
    page = context.new_page()
    path = f"/public/c/{reported.case.number}/{reported.follow_token}/"
    page.goto(f"{live_server.url}{path}")
    page.click("#private-link-box summary")
    expect(page.locator("#tracking-link")).to_be_visible()
    assert (page.locator("#tracking-link").get_attribute("href") or "").endswith(path)
    expect(page.locator("#copy-link")).to_be_hidden()
    expect(page.locator("#private-link")).to_contain_text("评价处理结果")
    assert no_sideways_scroll(page)
    context.close()


def test_the_home_page_leads_to_report_follow_and_nearby(
    browser: Browser, live_server, public: Public
) -> None:
    page = phone_page(browser, "zh-hans")
    page.goto(f"{live_server.url}/")
    expect(page.locator("#paths > li")).to_have_count(3)
    assert no_sideways_scroll(page)
    page.click("#path-track a.button")
    expect(page.locator("h1")).to_have_text("查询我的案件")
    page.go_back()
    page.click("#path-nearby a.button")
    expect(page).to_have_url(f"{live_server.url}/public/map/")
    page.go_back()
    page.click("#path-report a.button")
    expect(page.locator("#id_service")).to_have_value("")
    expect(page.locator("#id_service option").first).to_have_text("请选择问题类型")
