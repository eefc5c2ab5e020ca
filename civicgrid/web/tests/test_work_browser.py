"""The working pages in Debian's Chromium: the whole loop across four roles, offline
reporting, the language switch; every page is checked for foreign requests and console
errors and kept as a screenshot under $CIVICGRID_ARTIFACTS (default test-artifacts/)."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect

from civicgrid.cases.models import Case, CaseEvent, IdempotencyKey
from civicgrid.cases.tests.conftest import HERE, Loop, loop  # noqa: F401  (fixture)
from civicgrid.people.models import User

PASSWORD = "a-long-test-password"
SCREENS = Path(os.environ.get("CIVICGRID_ARTIFACTS") or "test-artifacts") / "screens"


def jpeg(colour: str) -> dict[str, object]:
    data = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(data, "JPEG")
    return {"name": f"{colour}.jpg", "mimeType": "image/jpeg", "buffer": data.getvalue()}


@dataclass
class Session:
    """One person's browser: the page, and what it asked for and complained about."""

    context: BrowserContext
    page: Page
    origin: str
    foreign: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def shot(self, name: str) -> None:
        SCREENS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)

    def assert_clean(self) -> None:
        assert self.foreign == [], f"requests to other origins: {self.foreign}"
        assert self.errors == [], f"console errors on {self.page.url}: {self.errors}"


def sign_in(
    browser: Browser,
    live_server,
    user: User,
    landing: str,
    language: str = "en",
    **options: object,
) -> Session:
    if not user.check_password(PASSWORD):
        user.set_password(PASSWORD)
        user.save()
    context = browser.new_context(
        locale=language, extra_http_headers={"Accept-Language": language}, **options
    )
    page = context.new_page()
    session = Session(context, page, live_server.url)

    def on_request(request) -> None:  # type: ignore[no-untyped-def]
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob"):
            return
        if f"{parts.scheme}://{parts.netloc}" != live_server.url:
            session.foreign.append(request.url)

    context.on("request", on_request)
    page.on("console", lambda m: session.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: session.errors.append(str(e)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}{landing}")
    page.wait_for_load_state("networkidle")
    return session


def passwords_for(*users: User) -> None:
    """Set before any page is open: the in-memory SQLite test database answers a read that
    meets a concurrent write with an error rather than waiting."""
    for user in users:
        user.set_password(PASSWORD)
        user.save()


def ledger(case: Case) -> list[str]:
    events = CaseEvent.objects.filter(case=case).order_by("seq")
    return list(events.values_list("action", flat=True))


@pytest.fixture(autouse=True)
def one_session_writer(settings) -> None:  # type: ignore[no-untyped-def]
    """The test database on SQLite is in memory with a shared cache, where two threads
    writing at once get "table is locked" at once instead of waiting (a file in WAL mode,
    as served, waits). A page loads its photos and map data in parallel, and each request
    would save the session; only the test server stops saving on every request."""
    from django.db import connection

    if connection.vendor == "sqlite":
        settings.SESSION_SAVE_EVERY_REQUEST = False


@pytest.mark.django_db(transaction=True)
def test_a_case_goes_around_the_whole_loop(browser, live_server, loop: Loop) -> None:  # noqa: F811
    url = live_server.url
    lon, lat = HERE
    passwords_for(loop.admin, loop.dispatcher, loop.officer)
    admin = sign_in(browser, live_server, loop.admin, "/field/",
                    geolocation={"longitude": lon, "latitude": lat, "accuracy": 12},
                    permissions=["geolocation"])  # fmt: skip
    expect(admin.page.locator("#grid-map .leaflet-interactive").first).to_be_attached()
    admin.shot("field-home")
    admin.page.click("#report-link")
    admin.page.wait_for_url("**/field/report/", wait_until="load")
    admin.page.select_option("select[name=category]", "0702")
    admin.page.fill("textarea[name=description]", "路边垃圾堆放")
    admin.page.set_input_files("input[name=photos]", jpeg("red"))
    admin.page.click("#locate")
    expect(admin.page.locator("#accuracy")).to_contain_text("12")
    admin.shot("field-report")
    admin.page.click("#send")
    expect(admin.page.locator("#sent-case")).to_be_visible()
    case = Case.objects.get(description="路边垃圾堆放")
    assert case.attachments.filter(kind="before").count() == 1
    assert abs(case.lon - lon) < 1e-6

    center = sign_in(browser, live_server, loop.dispatcher, "/center/")
    expect(center.page.locator('#queue-new [data-count="new"]')).to_have_text("1")
    expect(center.page.locator("path.case-marker")).to_have_count(1)
    center.shot("center")
    center.page.click(f"#queue-new a:has-text('{case.number}')")
    expect(center.page.locator("#action-file")).to_be_visible()
    expect(center.page.locator("#action-dispose")).to_have_count(0)
    center.page.select_option("#action-file select[name=urgency]", "urgent")
    center.page.click("#action-file button")
    expect(center.page.locator("#case-state")).to_have_text("filed")
    expect(center.page.locator("#action-dispatch select[name=department]")).to_have_value("URBAN")
    center.shot("center-case-dispatch")
    center.page.click("#action-dispatch button")
    expect(center.page.locator("#case-state")).to_have_text("dispatched")

    center.page.wait_for_load_state("networkidle")
    dept = sign_in(browser, live_server, loop.officer, "/dept/")
    dept.shot("dept-inbox")
    dept.page.click(f"#inbox a:has-text('{case.number}')")
    dept.page.fill("#action-dispose textarea[name=result]", "已清运")
    dept.page.set_input_files("#action-dispose input[name=photos]", jpeg("green"))
    dept.shot("dept-case")
    dept.page.click("#action-dispose button")
    expect(dept.page.locator("#case-state")).to_have_text("disposed")
    expect(dept.page.locator("img.photo-after")).to_have_count(1)

    dept.page.wait_for_load_state("networkidle")
    admin.page.goto(f"{url}/field/")
    admin.page.click(f"#tasks a:has-text('{case.number}')")
    expect(admin.page.locator("img.photo-before")).to_have_count(1)
    expect(admin.page.locator("#case-result")).to_contain_text("已清运")
    admin.page.fill("#action-verify_pass input[name=note]", "现场已清理")
    admin.shot("field-verify")
    admin.page.click("#action-verify_pass button")
    expect(admin.page.locator("#case-state")).to_have_text("verified")

    admin.page.wait_for_load_state("networkidle")
    center.page.goto(f"{url}/center/")
    expect(center.page.locator('[data-count="closure"]')).to_have_text("1")
    center.page.goto(f"{url}/center/cases/{case.number}/")
    center.page.click("#action-close button")
    expect(center.page.locator("#case-state")).to_have_text("closed")
    expect(center.page.locator("#no-actions")).to_be_visible()
    # Six steps and the department's after photo, a ledger event of its own.
    expect(center.page.locator("#timeline li")).to_have_count(7)
    center.shot("center-case-closed")
    center.page.goto(f"{url}/center/overdue/")
    center.shot("center-overdue")

    assert ledger(case) == ["report", "file", "dispatch", "add_photo", "dispose", "verify_pass",
                            "close"]  # fmt: skip
    roles = list(CaseEvent.objects.filter(case=case).order_by("seq").values_list("role", flat=True))
    assert roles == ["grid_admin", "dispatcher", "dispatcher", "department_officer",
                     "department_officer", "grid_admin", "dispatcher"]  # fmt: skip
    for session in (admin, center, dept):
        session.assert_clean()


@pytest.mark.django_db(transaction=True)
def test_a_report_made_offline_is_sent_once_when_back_online(
    browser,
    live_server,
    loop: Loop,  # noqa: F811
) -> None:
    admin = sign_in(browser, live_server, loop.admin, "/field/")
    page = admin.page
    page.goto(f"{live_server.url}/field/report/")
    page.select_option("#category", "0702")
    page.fill("textarea[name=description]", "离线上报的占道经营")
    page.fill("#lon", str(HERE[0]))
    page.fill("#lat", str(HERE[1]))
    admin.context.set_offline(True)
    page.click("#send")
    expect(page.locator("#offline-queue li")).to_have_count(1)
    admin.shot("field-offline-queue")
    assert not Case.objects.filter(description="离线上报的占道经营").exists()

    admin.context.set_offline(False)
    expect(page.locator("#sent-case")).to_be_visible()
    expect(page.locator("#offline-queue li")).to_have_count(0)
    page.goto(f"{live_server.url}/field/")
    expect(page.locator("#offline-queue-card")).to_be_hidden()
    assert Case.objects.filter(description="离线上报的占道经营").count() == 1
    assert IdempotencyKey.objects.filter(actor=loop.admin).count() == 1
    admin.assert_clean()


@pytest.mark.django_db(transaction=True)
def test_a_refused_queued_report_says_why(browser, live_server, loop: Loop) -> None:  # noqa: F811
    admin = sign_in(browser, live_server, loop.admin, "/field/")
    page = admin.page
    page.goto(f"{live_server.url}/field/report/")
    page.select_option("#category", "0702")
    page.fill("textarea[name=description]", "网格外的事件")
    page.fill("#lon", "100.0")
    page.fill("#lat", "30.0")
    page.click("#send")
    expect(page.locator("#offline-queue li.queue-error")).to_contain_text("outside every grid")
    admin.shot("field-queue-error")
    page.click("#offline-queue li button")
    expect(page.locator("#offline-queue li")).to_have_count(0)
    assert not Case.objects.exists()
    # Chromium logs the refusal the test provoked; nothing else may appear.
    admin.errors = [e for e in admin.errors if "status of 422" not in e]
    admin.assert_clean()


@pytest.mark.django_db(transaction=True)
def test_the_language_switch_is_remembered(browser, live_server, loop: Loop) -> None:  # noqa: F811
    center = sign_in(browser, live_server, loop.dispatcher, "/center/")
    page = center.page
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.select_option("#language", "zh-hans")
    page.click("#language-form button")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("header nav")).to_contain_text("地图")
    center.shot("center-zh")
    # Log out once the map's own requests are answered: a logout racing them deletes the
    # session under a request still running (400 on PostgreSQL).
    page.wait_for_load_state("networkidle")
    page.click("header form.inline:not(#language-form) button")
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.fill("input[name=username]", loop.dispatcher.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/center/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    center.assert_clean()
