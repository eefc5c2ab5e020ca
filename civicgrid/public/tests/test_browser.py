"""The portal in Debian's Chromium, driven by Playwright: report with a photo and a map
pick, follow the private link, rate after closure."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from civicgrid.cases.models import Case
from civicgrid.public.tests.conftest import Public, jpeg


def phone_page(browser: Browser, language: str = "en") -> Page:
    context = browser.new_context(
        locale=language,
        extra_http_headers={"Accept-Language": language},
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    return context.new_page()


def pick_on_map(page: Page) -> None:
    """A tap near the west edge of the fitted grids: inside grid 441900123 001 01."""
    expect(page.locator("#pick-map path.leaflet-interactive").first).to_be_attached()
    box = page.locator("#pick-map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.12, box["y"] + box["height"] * 0.5)


@pytest.mark.django_db(transaction=True)
def test_report_with_a_photo_and_a_map_pick_then_track_and_rate(
    browser: Browser, live_server, public: Public
) -> None:
    page = phone_page(browser)
    page.goto(f"{live_server.url}/public/report/")
    page.select_option("#id_service", "0702")
    page.fill("#id_description", "Garbage piled at the gate <b>now</b>")
    page.set_input_files(
        "#photos", files=[{"name": "gate.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}]
    )
    pick_on_map(page)
    expect(page.locator("#place-status")).to_have_text("Place set.")
    assert page.input_value("#id_lat") and page.input_value("#id_lon")
    page.click("#send")
    expect(page.locator("h1")).to_have_text("Report received")
    number = page.locator("#case-number").inner_text()
    link = page.locator("#tracking-link").get_attribute("href")
    assert link is not None
    case = Case.objects.get(number=number)
    assert case.attachments.count() == 1 and case.grid.code == "44190012300101"

    page.goto(link)
    expect(page.locator("#case-status")).to_have_text("reported")
    expect(page.locator("#case-description")).to_have_text("Garbage piled at the gate <b>now</b>")
    expect(page.locator("#steps li")).to_have_count(1)
    expect(page.locator("#rate-form")).to_have_count(0)

    public.close(case)
    page.reload()
    expect(page.locator("#case-status")).to_have_text("closed")
    expect(page.locator("#case-result")).to_have_text("已清理完毕")
    expect(page.locator("#case-department")).to_have_text("城管")
    page.check("#rate-form input[name=rating][value='4']")
    page.fill("#rate-form textarea[name=comment]", "Quick, thank you")
    page.click("#rate-form button[type=submit]")
    expect(page.locator(".messages .success")).to_have_text("Thank you for your rating.")
    expect(page.locator("#case-rating")).to_have_text("4 / 5")
    expect(page.locator("#rate-form")).to_have_count(0)
    case.refresh_from_db()
    assert (case.rating, case.rating_comment) == (4, "Quick, thank you")


@pytest.mark.django_db(transaction=True)
def test_the_portal_speaks_chinese_and_shows_the_public_map(
    browser: Browser, live_server, public: Public
) -> None:
    public.resident_report()
    page = phone_page(browser, "zh-CN")
    page.goto(f"{live_server.url}/public/report/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.goto(f"{live_server.url}/public/map/")
    expect(page.locator("#case-map path.leaflet-interactive")).not_to_have_count(0)
    page.goto(f"{live_server.url}/public/cases/")
    expect(page.locator("#case-list li")).to_have_count(1)
