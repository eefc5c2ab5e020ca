"""In Chromium: a resident rates and asks to reopen on the tracking page reached by number
and phone; the dispatcher finds the request from the center's queue and grants it by
clicking; the resident's step list shows the case reopened."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from civicgrid.cases.models import Case
from civicgrid.cases.tests.conftest import HERE, Loop, loop  # noqa: F401  (fixture)
from civicgrid.public import services as public_services
from civicgrid.public.models import PublicReport, ReopenRequest
from civicgrid.web.tests.test_work_browser import (  # noqa: F401  (fixture)
    ledger,
    one_session_writer,
    passwords_for,
    sign_in,
)


@pytest.mark.django_db(transaction=True)
def test_reopen_asked_on_the_track_page_and_granted_from_the_center(
    browser,
    live_server,
    loop: Loop,  # noqa: F811
) -> None:
    reported = public_services.public_report_create(
        data=public_services.PublicReportIn(
            service_code="0702", description="门口垃圾堆了三天", lon=HERE[0], lat=HERE[1],
            source=PublicReport.Source.PORTAL, address_ip="192.0.2.7", phone="13900006666",
        )
    )  # fmt: skip
    case = reported.case
    for action in loop.PATH["closed"]:
        loop.act(case, action, None, **loop.PARAMS.get(action, {}))
    passwords_for(loop.dispatcher)

    context = browser.new_context(locale="en", extra_http_headers={"Accept-Language": "en"})
    resident = context.new_page()
    errors: list[str] = []
    resident.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    resident.goto(f"{live_server.url}/public/track/")
    resident.fill("input[name=number]", case.number)
    resident.fill("input[name=phone]", "139 0000 6666")
    resident.click("main button[type=submit]")
    expect(resident.locator("#rate-form")).to_be_visible()
    resident.check("#rate-form input[name=rating][value='1']")
    resident.fill("#rate-form textarea[name=comment]", "垃圾还在")
    resident.check("#rate-form input[name=reopen]")
    resident.click("#rate-form button[type=submit]")
    expect(resident.locator("#reopen-status")).to_contain_text("waiting for the dispatcher")
    assert ReopenRequest.objects.get(case=case).status == "pending"

    center = sign_in(browser, live_server, loop.dispatcher, "/center/")
    center.page.click(f"#queue-reopen a:has-text('{case.number}')")
    expect(center.page.locator("#reopen-request")).to_contain_text("垃圾还在")
    center.page.fill("#reopen-grant input[name=note]", "安排返工")
    center.page.click("#reopen-grant button[type=submit]")
    expect(center.page.locator("#case-state")).to_have_text("dispatched")
    assert ledger(Case.objects.get(pk=case.pk))[-2:] == ["rate", "reopen"]
    center.assert_clean()

    resident.reload()
    expect(resident.locator("#steps")).to_contain_text("reopen for rework")
    expect(resident.locator("#reopen-status")).to_contain_text("reopened for rework")
    assert errors == []
    context.close()
