"""The division review shows what a draft changes against the active version, and fits
a 1440 px screen."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from civicgrid.geo import services
from civicgrid.geo.models import DivisionVersion, Township
from civicgrid.geo.tests.test_divisions import lattice_township  # noqa: F401  (fixture)
from civicgrid.people.models import User

PASSWORD = "a-long-test-password"


def _draft(township: Township) -> DivisionVersion:
    # The lattice village is one active grid of 1,440 households; the draft splits it.
    return services.division_draft_create(township=township, village_codes=["001"], actor=None)


def _admin() -> User:
    return User.objects.create_superuser("root", password=PASSWORD)


@pytest.mark.django_db
def test_a_draft_lists_and_marks_the_grids_it_changes(lattice_township):  # noqa: F811
    draft = _draft(lattice_township)
    codes = sorted(draft.grids.values_list("code", flat=True))
    assert len(codes) >= 3
    client = Client(headers={"accept-language": "en"})
    client.force_login(_admin())
    page = client.get(f"/divisions/{draft.pk}/").content.decode()
    assert "Changes against the active v1" in page
    assert f"{len(codes)} of {len(codes)} grids changed." in page
    table = page.split('id="changed-grids"')[1].split("</table>")[0]
    assert table.count("<tr data-grid=") == len(codes)
    assert 'class="change-redrawn"' in table  # grid 01 keeps its code on new land
    assert table.count('class="change-new"') == len(codes) - 1
    assert "1440 → " in table  # households: the active grid's, then the draft grid's
    assert 'id="division-legend"' in page and "code changed against v1" in page

    features = client.get(f"/api/v1/geo/divisions/{draft.pk}/grids").json()["features"]
    by_code = {f["properties"]["code"]: f["properties"] for f in features}
    assert by_code[codes[0]]["change"] == "redrawn"
    assert by_code[codes[0]]["previous"] == codes[0]
    assert {p["change"] for c, p in by_code.items() if c != codes[0]} == {"new"}

    zh = client.get(f"/divisions/{draft.pk}/", headers={"accept-language": "zh-hans"})
    assert "与当前启用的 v1 相比的变化" in zh.content.decode()


@pytest.mark.django_db
def test_the_active_version_compares_with_nothing(lattice_township):  # noqa: F811
    active = DivisionVersion.objects.get(status="active")
    client = Client(headers={"accept-language": "en"})
    client.force_login(_admin())
    page = client.get(f"/divisions/{active.pk}/").content.decode()
    assert "Changes against" not in page and 'id="changed-grids"' not in page
    features = client.get(f"/api/v1/geo/divisions/{active.pk}/grids").json()["features"]
    assert {f["properties"]["change"] for f in features} == {None}


@pytest.mark.django_db(transaction=True)
def test_the_review_fits_1440_and_draws_changed_grids_apart(browser, live_server, lattice_township):  # noqa: F811
    draft = _draft(lattice_township)
    changed = draft.grids.count()
    _admin()
    context = browser.new_context(
        viewport={"width": 1440, "height": 900},
        locale="en",
        extra_http_headers={"Accept-Language": "en"},
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/divisions/{draft.pk}/")
    grids = page.locator("#division-map path.grid")
    expect(grids).to_have_count(changed)
    expect(page.locator("#division-map path.change-redrawn")).to_have_count(1)
    expect(page.locator("#division-map path.change-new")).to_have_count(changed - 1)
    hatch = page.locator("#division-map path.change-new").first.get_attribute("fill")
    assert hatch == "url(#hatch-changed)"
    expect(page.locator("#division-map path.active-boundary")).to_have_count(1)
    expect(page.locator("#division-legend")).to_be_visible()
    expect(page.locator("#changed-grids tbody tr")).to_have_count(changed)
    expect(page.locator("#preview")).to_be_visible()
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide at {widths[1]} px"
    assert errors == []
    context.close()
