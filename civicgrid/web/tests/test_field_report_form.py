"""The field report form starts with no category, offers the administrator's recent
categories first, and shows the answer to a send at the top of the page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from civicgrid.cases import selectors
from civicgrid.cases.models import Case
from civicgrid.cases.tests.conftest import FAR, HERE, Loop, loop  # noqa: F401  (fixture)
from civicgrid.web.tests.test_work_browser import sign_in

PHONE = {"width": 390, "height": 844}


def test_recent_categories_are_the_latest_reported_first_each_once(loop: Loop) -> None:  # noqa: F811
    for day, code in ((1, "0702"), (2, "0101"), (3, "0702"), (4, "0301")):
        case = loop.report(category=code)
        Case.objects.filter(pk=case.pk).update(
            reported_at=dt.datetime(2025, 3, day, 9, tzinfo=dt.UTC)
        )
    loop.report(category="0101", actor=loop.far_admin, at=FAR)  # someone else's report

    codes = [c.code for c in selectors.categories_recently_reported(loop.admin)]
    assert codes == ["0301", "0702", "0101"]
    assert [c.code for c in selectors.categories_recently_reported(loop.admin, limit=2)] == [
        "0301",
        "0702",
    ]
    assert selectors.categories_recently_reported(loop.dispatcher) == []


def test_the_form_has_a_placeholder_and_recent_categories_before_all(loop: Loop) -> None:  # noqa: F811
    loop.report(category="0702")
    client = Client()
    client.force_login(loop.admin)
    page = client.get("/field/report/", headers={"accept-language": "zh-hans"}).content.decode()
    start = page.index('<select name="category"')
    select = page[start : page.index("</select>", start)]
    assert '<option value="" selected disabled>请选择类别</option>' in select
    assert select.count(" selected") == 1
    recent = select[select.index('id="recent-categories"') : select.index("</optgroup>")]
    assert 'label="最近使用"' in select and 'value="0702"' in recent
    assert select.index('id="recent-categories"') < select.index('value="0101"')


def in_view(page: Page, selector: str) -> bool:
    return bool(page.evaluate(
        """(selector) => { const r = document.querySelector(selector).getBoundingClientRect();
           return r.top >= 0 && r.bottom <= window.innerHeight; }""",
        selector,
    ))  # fmt: skip


def send(page: Page, category: str, description: str) -> None:
    page.select_option("#category", category)
    page.fill("textarea[name=description]", description)
    page.fill("#lon", str(HERE[0]))
    page.fill("#lat", str(HERE[1]))
    page.click("#send")


@pytest.mark.django_db(transaction=True)
def test_sending_shows_the_case_at_the_top_and_starts_again_empty(
    browser,
    live_server,
    loop: Loop,  # noqa: F811
) -> None:
    admin = sign_in(browser, live_server, loop.admin, "/field/", viewport=PHONE)
    page = admin.page
    page.goto(f"{live_server.url}/field/report/")
    expect(page.locator("#category")).to_have_value("")
    expect(page.locator("#recent-categories")).to_have_count(0)
    expect(page.locator("#report-status")).to_be_hidden()

    # No category chosen: the browser holds the form back, nothing is queued.
    page.fill("textarea[name=description]", "没有选类别")
    page.click("#send")
    assert page.evaluate("document.querySelector('#category').validity.valueMissing")
    assert not Case.objects.exists()

    send(page, "0702", "路边垃圾堆放")
    expect(page.locator("#sent-case")).to_be_visible()
    case = Case.objects.get(description="路边垃圾堆放")
    expect(page.locator("#report-status")).to_contain_text(case.number)
    expect(page.locator("#report-status")).to_have_attribute("aria-live", "polite")
    expect(page.locator("#report-status")).to_be_focused()
    assert in_view(page, "#report-status")
    status_top = page.locator("#report-status").bounding_box()
    form_top = page.locator("#report-form").bounding_box()
    assert status_top and form_top and status_top["y"] < form_top["y"]
    # The next report starts with no category, the one just used first among the recent.
    expect(page.locator("#category")).to_have_value("")
    expect(page.locator("#recent-categories option").first).to_have_attribute("value", "0702")

    send(page, "0101", "出租屋未登记")
    page.wait_for_function(
        "(first) => { const link = document.querySelector('#sent-case');"
        " return link !== null && link.textContent !== first; }",
        arg=case.number,
    )
    second = Case.objects.get(description="出租屋未登记")
    expect(page.locator("#sent-case")).to_have_text(second.number)
    expect(page.locator("#report-status")).to_be_focused()
    expect(page.locator("#recent-categories option")).to_have_count(2)
    expect(page.locator("#recent-categories option").first).to_have_attribute("value", "0101")

    page.reload()
    expect(page.locator("#category")).to_have_value("")
    values = page.locator("#recent-categories option").evaluate_all("os => os.map(o => o.value)")
    assert values == ["0101", "0702"]
    admin.assert_clean()
