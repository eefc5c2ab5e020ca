"""The evaluation page in Debian's Chromium: the table, the trend chart, a figure's cases."""

from __future__ import annotations

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
    expect(page.locator("#map svg path")).to_have_count(1)
    row.locator('td[data-indicator="overdue_steps"] a').click()
    expect(page.locator("#counted-cases")).to_contain_text(resident_case.number)
