"""Every role, signed in through the login page, reaches each page of its menu by clicking
the menu in Debian's Chromium on a phone (390×844) in Chinese, and every page is also
opened in English on the phone and on a desktop (1440×900) by the first role whose menu
has it: no page is wider than the screen and nothing it loads answers 4xx or 5xx.

One test for all roles, so the township, the cases and the lists are made once; each role
uses one browser context and switches language by its Accept-Language header.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, Response

from civicgrid.care import services as care
from civicgrid.care.targets import years_before
from civicgrid.care.tests.conftest import person
from civicgrid.cases.tests.conftest import Loop, loop, staff  # noqa: F401  (fixture)
from civicgrid.evaluation import services as evaluation
from civicgrid.people.models import Role, User
from civicgrid.registry import services as registry
from civicgrid.registry.tests.conftest import house_values
from civicgrid.web.tests.test_navigation import personas

PASSWORD = "a-long-test-password"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
# (viewport, language, every role): every role's whole menu in Chinese on the phone; in the
# longer English, on the phone and on the desktop, each page once (the first role whose menu
# has it). Every role again in English took a third of the test's time (about 30 s of each
# CI suite) for pages that differ between roles only in their rows.
SIZES = [(PHONE, "zh-Hans", True), (PHONE, "en", False), (DESKTOP, "en", False)]
WIDTH = "() => [document.documentElement.scrollWidth, window.innerWidth]"


@dataclass
class Findings:
    pages: int = 0
    wide: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def township_with_work(loop: Loop) -> dict[str, User]:  # noqa: F811
    """The loop's people plus a grid leader, deputy, supervisor, system administrator and a
    health officer; cases in several states, people on the care lists, today's figures."""
    users = personas(loop)
    department = care.health_center_department(township=loop.township)
    users["health_officer"] = staff(
        "doctor", Role.HEALTH_OFFICER, township=loop.township, department=department
    )
    for state in ("reported", "filed", "dispatched", "disposed", "closed"):
        loop.case_in(state)
    loop.resident_case_closed()
    registry.house_create(values=house_values("H001"), actor=None)
    day = timezone.localdate() - dt.timedelta(days=5)
    person("H001", years_before(day, 2))
    person("H001", years_before(day, 28), female=True,
           pregnant_until=str(day + dt.timedelta(days=60)))  # fmt: skip
    person("H001", years_before(day, 81))
    evaluation.figures_refresh()
    for user in users.values():
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    return users


def sign_in(browser: Browser, origin: str, user: User, found: Findings) -> Page:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()

    def on_response(response: Response) -> None:
        if response.status >= 400:
            found.failed.append(f"{user.username} {page.url}: {response.status} {response.url}")

    page.on("response", on_response)
    page.goto(f"{origin}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    return page


def visit_menu(page: Page, user: User, found: Findings, skip: set[str] | None = None) -> None:
    """Click each entry of the menu in turn (but those whose link is in ``skip``), opening
    the menu first where it is folded; the links clicked join ``skip``."""
    links = page.eval_on_selector_all(
        "#menu nav a", "links => links.map(a => [a.id, a.getAttribute('href')])"
    )
    assert links, f"{user.username} has no menu"
    for key, href in links:
        if skip is not None:
            if href in skip:
                continue
            skip.add(href)
        if not page.locator(f"#{key}").is_visible():
            page.click("#menu summary")
        page.click(f"#{key}")
        page.wait_for_load_state()
        found.pages += 1
        scroll, inner = page.evaluate(WIDTH)
        if scroll > inner:
            path = page.url.split("/", 3)[-1]
            found.wide.append(f"{user.username} /{path} at {inner}: {scroll} px wide")


@pytest.mark.django_db(transaction=True)
def test_every_role_reaches_each_menu_page_by_clicking_and_none_is_wider_than_the_screen(
    browser,
    live_server,
    loop: Loop,  # noqa: F811
) -> None:
    users = township_with_work(loop)
    found = Findings()
    seen: dict[int, set[str]] = {index: set() for index in range(len(SIZES))}
    for user in users.values():
        page = sign_in(browser, live_server.url, user, found)
        for index, (viewport, language, every_role) in enumerate(SIZES):
            page.context.set_extra_http_headers({"Accept-Language": language})
            page.set_viewport_size(viewport)
            page.goto(f"{live_server.url}/")
            lang = page.get_attribute("html", "lang") or ""
            assert lang.lower() == language.lower(), (user.username, lang)
            visit_menu(page, user, found, None if every_role else seen[index])
        page.wait_for_load_state("networkidle")
        page.context.close()
    # Every page once in English on each size, and every role's menu in Chinese.
    assert seen[1] == seen[2] and len(seen[1]) >= 20, seen
    assert found.pages >= 70 + 2 * len(seen[1]), found.pages
    assert found.wide == [], "\n".join(found.wide)
    assert found.failed == [], "\n".join(found.failed)
