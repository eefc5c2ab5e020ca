"""The division run's page in Debian's Chromium: the bar follows the progress the worker
writes, and a real ``civicgrid worker`` run takes the page to its result by itself."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from playwright.sync_api import Browser, expect

from civicgrid.geo.models import DivisionJob, DivisionVersion
from civicgrid.geo.tests.test_divisions import lattice_township  # noqa: F401  (fixture)
from civicgrid.people.models import User
from civicgrid.testing import finish
from civicgrid.worker.tests.test_worker_processes import _worker

PASSWORD = "a-long-test-password"


@pytest.mark.django_db(transaction=True)
def test_the_bar_follows_the_worker_to_the_result(
    browser: Browser,
    live_server,
    lattice_township,  # noqa: F811
    database_tasks,
) -> None:
    User.objects.create_superuser("root", password=PASSWORD)
    context = browser.new_context(locale="en", extra_http_headers={"Accept-Language": "en"})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()

    page.goto(f"{live_server.url}/divisions/")
    page.check("input[name=villages][value='001']")
    page.fill("input[name=seed]", "3")
    page.click("#draft-form button[type=submit]")
    job = DivisionJob.objects.get()
    expect(page).to_have_url(f"{live_server.url}/divisions/runs/{job.pk}/")
    status = page.locator("#division-status")
    expect(status).to_have_text("Waiting for a worker.")
    assert page.locator("#division-bar").get_attribute("value") == "0"

    # What a worker writes while it divides (the first of two villages done): the page's
    # script reads it without a reload and moves the bar (dividing fills the first 80 %).
    DivisionJob.objects.filter(pk=job.pk).update(state=DivisionJob.State.RUNNING)
    progress = {"phase": "dividing", "done": 1, "total": 2}
    caches["progress"].set(f"division-job:{job.pk}", progress, timeout=600)
    expect(status).to_have_text("Dividing villages: 1 of 2.", timeout=15_000)
    expect(page.locator("#division-bar")).to_have_attribute("value", "40")

    # A real worker process takes the run over, divides, writes and checks; the page
    # reloads itself into the result when the run is finished.
    code, out = finish(_worker("--batch"))
    assert code == 0, out
    draft = DivisionVersion.objects.get(status="draft")
    result = page.locator("#division-result")
    expect(result).to_contain_text(f"Draft v{draft.number} is ready for review", timeout=30_000)
    expect(result.locator(f"a[href='/divisions/{draft.pk}/']")).to_be_visible()
    assert page.locator("#division-bar").count() == 0
    job.refresh_from_db()
    assert (job.state, job.division_id, job.attempt) == ("done", draft.pk, 1)
    assert errors == []
    context.close()
