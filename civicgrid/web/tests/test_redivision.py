"""Activation re-homes every record that points at a grid, all or nothing, as previewed."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.db.models import Count
from django.utils import timezone
from shapely.geometry import box

from civicgrid.geo.activation import (
    activation_plan,
    division_activate,
)
from civicgrid.geo.geojson import Feature
from civicgrid.geo.models import DivisionActivation, DivisionVersion, Grid, Township
from civicgrid.geo.rehoming import rehomers
from civicgrid.geo.services import boundaries_import
from civicgrid.people.models import GridAssignment, Role, User
from civicgrid.people.scopes import current_assignments
from civicgrid.registry.models import House, Person, UrbanComponent
from civicgrid.testing import logged_in
from civicgrid.web.tests.test_browser import browser, log_in  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"


def draft_of(grids: list[Feature]) -> DivisionVersion:
    """A draft division of township 441900123 with these grids (not activated)."""
    return boundaries_import(
        township_code="441900123", township_name=None, villages=[], grids=grids, activate=False
    ).division


@pytest.fixture
def small_world(township: Township) -> dict[str, object]:
    """The square township with a house, a resident, a component and a team on grid 001 01."""
    grid = Grid.objects.get(code="44190012300101", division__status="active")
    house = House.objects.create(code="H1", address="东村 1 号", lon=113.002, lat=23.01,
                                 grid=grid, households=2)  # fmt: skip
    stray = House.objects.create(code="H2", address="村外", lon=113.2, lat=23.01,
                                 grid=grid, households=1)  # fmt: skip
    Person.objects.create(full_name="张三", id_number="110101199003074477", house=house)
    UrbanComponent.objects.create(category="0101", identifier="4419001230000001",
                                  lon=113.008, lat=23.01, grid=grid)  # fmt: skip
    user = User.objects.create_user("walker", password=PASSWORD)
    user.role_grants.create(role=Role.GRID_ADMINISTRATOR)
    GridAssignment.objects.create(
        user=user, grid=grid, position="administrator",
        starts_on=timezone.localdate() - dt.timedelta(days=30),
    )  # fmt: skip
    return {"grid": grid, "house": house, "stray": stray, "user": user}


def three_grids_in_001(township: Township) -> DivisionVersion:
    rows = [
        ("001", 300, box(113.000, 23.00, 113.006, 23.02)),
        ("001", 300, box(113.006, 23.00, 113.012, 23.02)),
        ("001", 470, box(113.012, 23.00, 113.020, 23.02)),
        ("002", 310, box(113.02, 23.00, 113.03, 23.02)),
        ("002", 480, box(113.03, 23.00, 113.04, 23.02)),
    ]
    grids = [Feature(i + 1, {"village": v, "households": h}, g) for i, (v, h, g) in enumerate(rows)]
    return draft_of(grids)


def test_records_without_a_place_are_listed_and_kept(small_world, township):
    draft = three_grids_in_001(township)
    plan = division_activate(division=draft).as_dict()
    houses = next(k for k in plan["kinds"] if k["kind"] == "houses")
    assert houses["left_records"] == [{"label": "H2", "grid": "44190012300101"}]
    stray = small_world["stray"]
    stray.refresh_from_db()
    assert stray.grid == small_world["grid"]  # left where it was, for a person to place
    house = small_world["house"]
    house.refresh_from_db()
    assert house.grid.code == "44190012300101" and house.grid.division == draft
    component = UrbanComponent.objects.get()
    assert component.grid.code == "44190012300102" and component.grid.division == draft


def test_a_split_grid_lends_its_team_to_the_larger_share(small_world, township):
    draft = three_grids_in_001(township)
    plan = activation_plan(division=draft)
    rows = {r.code: r for r in plan.rows}
    # Old 001 01 (113.000–113.010) is the main predecessor of new 01 (113.000–113.006) and
    # of new 02 (113.006–113.012); new 01 holds more of it and gets its team, once.
    assert rows["44190012300101"].team_from == "44190012300101"
    assert rows["44190012300102"].team_from == ""
    assert "44190012300102" in plan.without_team
    division_activate(division=draft)
    user = small_world["user"]
    (live,) = current_assignments().filter(user=user)
    assert live.grid.code == "44190012300101" and live.grid.division == draft


def test_a_retired_grid_without_successor_lists_its_team_for_a_decision(township, small_world):
    rows = [
        Feature(1, {"village": "001", "households": 770, "reason": "one estate"},
                box(113.00, 23.00, 113.02, 23.02)),
        Feature(2, {"village": "002", "households": 310}, box(113.02, 23.00, 113.03, 23.02)),
        Feature(3, {"village": "002", "households": 480}, box(113.03, 23.00, 113.04, 23.02)),
    ]  # fmt: skip
    draft = draft_of(rows)
    # Village 001 becomes one grid: one of its two old grids lends its team, the other
    # has no successor. Put the team on that one.
    (orphan,) = [code for code, _h, _n in activation_plan(division=draft).retired]
    orphan_grid = Grid.objects.get(code=orphan, division__status="active")
    GridAssignment.objects.update(grid=orphan_grid)
    plan = division_activate(division=draft)
    assert (orphan, orphan_grid.households, 1) in plan.retired
    team = next(p for p in plan.parts if p.kind == "team")
    assert [m.label for m in team.left] == ["walker · grid administrator"]
    assert current_assignments().get(user=small_world["user"]).grid == orphan_grid
    assert "no successor, 1 staff to place" in plan.text()


def test_activation_is_all_or_nothing(small_world, township):
    draft = three_grids_in_001(township)
    old = DivisionVersion.objects.get(status="active")
    failing = next(r for r in rehomers() if r.kind == "open_cases")
    # Houses, components and teams have moved by the time open cases fail.
    with (
        mock.patch.object(type(failing), "apply", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError, match="disk full"),
    ):
        division_activate(division=draft)
    old.refresh_from_db()
    draft.refresh_from_db()
    assert old.status == "active" and draft.status == "draft"
    assert set(House.objects.values_list("grid__division", flat=True)) == {old.pk}
    assert UrbanComponent.objects.get().grid.division == old
    assert current_assignments().get(user=small_world["user"]).grid.division == old
    assert not DivisionActivation.objects.filter(division=draft).exists()


def test_the_api_previews_and_activates_with_the_previewed_plan(small_world, township):
    draft = three_grids_in_001(township)
    client = logged_in(User.objects.create_superuser("root", password=PASSWORD))
    preview = client.get(f"/api/v1/geo/divisions/{draft.pk}/preview").json()
    assert preview["problems"] == []
    assert [g["code"] for g in preview["grids"]][:3] == [
        "44190012300101", "44190012300102", "44190012300103",
    ]  # fmt: skip
    # A house registered after the preview changes the plan: activation refuses to guess.
    House.objects.create(code="H3", address="东村 3 号", lon=113.015, lat=23.01,
                         grid=small_world["grid"], households=1)  # fmt: skip
    stale = client.post(
        f"/api/v1/geo/divisions/{draft.pk}/activate",
        {"expected": preview["fingerprint"]},
        content_type="application/json",
    )
    assert stale.status_code == 409
    assert stale.json()["field"] == "expected"
    fresh = client.get(f"/api/v1/geo/divisions/{draft.pk}/preview").json()
    done = client.post(
        f"/api/v1/geo/divisions/{draft.pk}/activate",
        {"expected": fresh["fingerprint"]},
        content_type="application/json",
    )
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "active"
    assert House.objects.get(code="H3").grid.code == "44190012300103"


def test_the_api_takes_reasons_and_names_every_refusal(township):
    rows = [
        Feature(1, {"village": "001", "households": 770}, box(113.00, 23.00, 113.02, 23.02)),
        Feature(2, {"village": "002", "households": 310}, box(113.02, 23.00, 113.03, 23.02)),
        Feature(3, {"village": "002", "households": 480}, box(113.03, 23.00, 113.04, 23.02)),
    ]
    draft = draft_of(rows)
    client = logged_in(User.objects.create_superuser("root", password=PASSWORD))
    refused = client.post(f"/api/v1/geo/divisions/{draft.pk}/activate", {},
                          content_type="application/json")  # fmt: skip
    assert refused.status_code == 422
    assert refused.json()["error"] == "activation_refused"
    assert "770 households" in refused.json()["message"]
    done = client.post(
        f"/api/v1/geo/divisions/{draft.pk}/activate",
        {"reasons": {"44190012300101": "one estate"}},
        content_type="application/json",
    )
    assert done.status_code == 200, done.content
    assert Grid.objects.get(division=draft, village__code="001").range_reason == "one estate"
    assert DivisionVersion.objects.filter(status="active").annotate(n=Count("grids")).get().n == 3


def test_the_division_page_previews_and_activates_with_reasons(small_world, township):
    rows = [
        Feature(1, {"village": "001", "households": 250}, box(113.00, 23.00, 113.006, 23.02)),
        Feature(2, {"village": "001", "households": 520}, box(113.006, 23.00, 113.02, 23.02)),
        Feature(3, {"village": "002", "households": 310}, box(113.02, 23.00, 113.03, 23.02)),
        Feature(4, {"village": "002", "households": 480}, box(113.03, 23.00, 113.04, 23.02)),
    ]
    draft = draft_of(rows)
    client = logged_in(User.objects.create_superuser("root", password=PASSWORD))
    page = client.get(f"/divisions/{draft.pk}/").content.decode()
    assert "Preview of the activation" in page
    assert 'name="reason-44190012300101"' in page and 'name="reason-44190012300102"' in page
    assert "H2 (44190012300101): no new grid holds its position" in page
    # Only reasons are missing: a person can type them, so the button is enabled.
    assert "disabled" not in page.split('id="activate"')[1][:20]
    refused = client.post(
        f"/divisions/{draft.pk}/", {"reason-44190012300101": "a new estate opens"}, follow=True
    ).content.decode()
    assert "cannot go live" in refused and "520 households" in refused
    assert House.objects.get(code="H1").grid.division.status == "active"  # the old one
    done = client.post(
        f"/divisions/{draft.pk}/", {"reason-44190012300102": "one compound"}, follow=True
    ).content.decode()
    assert "is now active" in done
    assert House.objects.get(code="H1").grid.division == draft
    reasons = dict(Grid.objects.filter(division=draft).values_list("code", "range_reason"))
    assert reasons["44190012300101"] == "a new estate opens"
    assert reasons["44190012300102"] == "one compound"


@pytest.mark.django_db(transaction=True)
def test_preview_and_activate_in_chromium(browser, live_server, small_world, township):  # noqa: F811
    from playwright.sync_api import expect

    rows = [
        Feature(1, {"village": "001", "households": 250}, box(113.00, 23.00, 113.006, 23.02)),
        Feature(2, {"village": "001", "households": 450}, box(113.006, 23.00, 113.02, 23.02)),
        Feature(3, {"village": "002", "households": 310}, box(113.02, 23.00, 113.03, 23.02)),
        Feature(4, {"village": "002", "households": 480}, box(113.03, 23.00, 113.04, 23.02)),
    ]
    draft = draft_of(rows)
    User.objects.create_superuser("root", password=PASSWORD)
    page = log_in(browser, live_server, "root")
    page.goto(f"{live_server.url}/divisions/{draft.pk}/")
    row = page.locator('#preview tr[data-grid="44190012300101"]')
    expect(row).to_contain_text("350 → 250")
    expect(row).to_contain_text("44190012300101 (1)")  # the team comes along
    expect(page.locator("#left")).to_contain_text("H2 (44190012300101)")
    # The browser itself will not send the form without the reason the grid needs.
    page.click("#activate")
    assert DivisionVersion.objects.get(pk=draft.pk).status == "draft"
    page.fill('input[name="reason-44190012300101"]', "a new estate opens next year")
    page.click("#activate")
    expect(page.locator(".messages .success")).to_contain_text("is now active")
    page.wait_for_load_state("networkidle")
    page.context.close()
    draft.refresh_from_db()
    assert draft.status == "active"
    assert House.objects.get(code="H1").grid.division == draft
    assert current_assignments().get(user=small_world["user"]).grid.division == draft
