"""Real pages in Debian's Chromium, driven by Playwright."""

import pytest
from playwright.sync_api import Browser, Page, expect

from civicgrid import testing
from civicgrid.geo.models import DivisionVersion
from civicgrid.geo.services import division_draft_create
from civicgrid.geo.tests.test_activation import a_legal_move
from civicgrid.geo.tests.test_divisions import lattice_township  # noqa: F401  (fixture)
from civicgrid.people.models import User

PASSWORD = "a-long-test-password"
# The fixture lives in civicgrid.testing (registered for every test by civicgrid/conftest.py);
# this name keeps ``from civicgrid.web.tests.test_browser import browser`` working.
browser = testing.browser


def log_in(browser: Browser, live_server, username: str, language: str = "en") -> Page:
    context = browser.new_context(locale=language, extra_http_headers={"Accept-Language": language})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return page


def centre(page: Page, selector: str) -> tuple[float, float]:
    # The header grows with the menu: bring the shape into the window before reading where it is.
    page.locator(selector).scroll_into_view_if_needed()
    box = page.locator(selector).bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


@pytest.mark.django_db(transaction=True)
def test_moving_a_unit_on_the_map_updates_the_draft(browser, live_server, lattice_township):  # noqa: F811
    User.objects.create_superuser("root", password=PASSWORD)
    draft = division_draft_create(township=lattice_township)
    key, source, target = a_legal_move(draft)
    before_source, before_target = source.households, target.households
    page = log_in(browser, live_server, "root")
    page.goto(f"{live_server.url}/divisions/{draft.pk}/")
    expect(page.locator("#move-status")).to_have_text("Click a unit to move it.")
    expect(page.locator(f"path.unit-{key}")).to_be_attached()

    page.mouse.click(*centre(page, f"path.unit-{key}"))
    expect(page.locator("#move-status")).to_contain_text(key)
    # Units now lie under the grids: a click on any unit of the target lands on the target.
    page.mouse.click(*centre(page, f"path.unit-{target.units[0]}"))
    expect(page.locator("#move-status")).to_have_text("Click a unit to move it.")
    expect(page.locator("#stale-after-move")).to_be_visible()  # the server-made lists are older

    # The map reloads its layers after a move; let that finish before the database is reset.
    page.wait_for_load_state("networkidle")
    page.context.close()
    source.refresh_from_db()
    target.refresh_from_db()
    assert key in target.units and key not in source.units
    assert target.households == before_target + 60
    assert source.households == before_source - 60


@pytest.mark.django_db(transaction=True)
def test_the_division_page_speaks_chinese_and_activates(browser, live_server, lattice_township):  # noqa: F811
    User.objects.create_superuser("root", password=PASSWORD)
    draft = division_draft_create(township=lattice_township)
    page = log_in(browser, live_server, "root", language="zh-CN")
    page.goto(f"{live_server.url}/divisions/{draft.pk}/")
    expect(page.locator("h1")).to_contain_text("网格划分")
    expect(page.locator("#activate")).to_be_enabled()
    page.click("#activate")
    expect(page.locator(".messages .success")).to_contain_text("已启用")
    page.wait_for_load_state("networkidle")
    page.context.close()
    draft.refresh_from_db()
    assert draft.status == DivisionVersion.Status.ACTIVE
