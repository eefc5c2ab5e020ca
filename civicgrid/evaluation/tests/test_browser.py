"""The evaluation page in Debian's Chromium: the table, the trend chart, a figure's cases."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from civicgrid.cases.tests.conftest import staff
from civicgrid.evaluation import services
from civicgrid.evaluation.tests.test_materialise import build_two_days
from civicgrid.people.models import Role
from civicgrid.web.tests.test_browser import PASSWORD, browser  # noqa: F401  (fixture)


@pytest.mark.django_db(transaction=True)
def test_the_page_draws_the_chart_and_leads_to_the_counted_cases(
    browser,  # noqa: F811
    live_server,
    loop,
    hand_clock,
    monkeypatch,
):
    day1, day2, resident_case = build_two_days(loop, hand_clock)
    hand_clock.at(day2, 18)
    services.figures_refresh()
    monkeypatch.undo()  # the browser's session lives in real time
    supervisor = staff("sup1", Role.SUPERVISOR, township=loop.township)
    supervisor.set_password(PASSWORD)
    supervisor.save()

    context = browser.new_context(locale="en", extra_http_headers={"Accept-Language": "en"})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "sup1")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto(f"{live_server.url}/evaluation/?level=grid&from={day1}&to={day2}"
              "&indicator=closure_rate")  # fmt: skip
    row = page.locator(f'#indicator-table tr[data-unit="{loop.grid.code}"]')
    expect(row.locator('td[data-indicator="closure_rate"]')).to_contain_text("50.00 %")
    chart = page.locator("#trend svg")
    expect(chart).to_be_visible()
    assert chart.bounding_box()["width"] > 200
    expect(chart.locator("circle.point")).to_have_count(1)  # one month with figures
    expect(page.locator("#map svg path")).to_have_count(4)  # every grid of the township
    row.locator('td[data-indicator="overdue_steps"] a').click()
    expect(page.locator("#counted-cases")).to_contain_text(resident_case.number)


@pytest.mark.django_db(transaction=True)
def test_on_a_phone_the_period_buttons_work_and_the_table_scrolls_inside_the_page(
    browser,  # noqa: F811
    live_server,
    loop,
    hand_clock,
    monkeypatch,
):
    day1, day2, _case = build_two_days(loop, hand_clock)
    hand_clock.at(day2, 18)
    services.figures_refresh()
    monkeypatch.undo()  # the browser's session lives in real time
    supervisor = staff("sup1", Role.SUPERVISOR, township=loop.township)
    supervisor.set_password(PASSWORD)
    supervisor.save()

    context = browser.new_context(
        locale="zh-CN",
        extra_http_headers={"Accept-Language": "zh-hans"},
        viewport={"width": 390, "height": 844},
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "sup1")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto(f"{live_server.url}/evaluation/?level=grid&from={day1}&to={day2}")
    page.click("#period-day")  # the day the period shown ends on
    page.wait_for_url(lambda url: "period=day" in url)
    expect(page.locator("#from")).to_have_value(str(day2))
    expect(page.locator("#to")).to_have_value(str(day2))
    page.click("#period-week")
    page.wait_for_url(lambda url: "period=week" in url)
    monday = day2 - dt.timedelta(days=day2.weekday())
    expect(page.locator("#from")).to_have_value(str(monday))
    expect(page.locator("#to")).to_have_value(str(monday + dt.timedelta(days=6)))
    expect(page.locator("#period-week")).to_have_attribute("aria-current", "page")
    page.click("#period-earlier")
    expect(page.locator("#from")).to_have_value(str(monday - dt.timedelta(days=7)))
    page.click("#period-month")
    page.wait_for_url(lambda url: "period=month" in url)
    expect(page.locator("#from")).to_have_value(str(monday - dt.timedelta(days=1))[:8] + "01")
    # The unit is named by its village and number; the page does not scroll sideways,
    # the table does, inside its own container.
    page.goto(f"{live_server.url}/evaluation/?level=grid&from={day1}&to={day2}")
    unit = page.locator(f'#indicator-table tr[data-unit="{loop.grid.code}"] th')
    expect(unit).to_contain_text(loop.grid.village.name)
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth,"
        " document.querySelector('.scroll').clientWidth,"
        " document.querySelector('#indicator-table').scrollWidth]"
    )
    assert widths[0] <= 390 and widths[1] <= 390 < widths[2]
    for name in ("day", "week", "month"):
        box = page.locator(f"#period-{name}").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
