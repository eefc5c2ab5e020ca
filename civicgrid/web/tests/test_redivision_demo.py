"""Activation on a copy of the demo township re-homes every kind of record as previewed,
and its staff keep working on the new grids.

The copy (grids, registries, staff, cases: about 10 s to build) is made once for the
module; each test's changes are rolled back before the next.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.test import Client
from django.utils import timezone
from shapely.geometry import box

from civicgrid.cases.demo import demo_cases_create
from civicgrid.cases.models import Case, CaseEvent
from civicgrid.cases.services import ledger_verify
from civicgrid.cases.workflow import CLOSED_STATES, OPEN_STATES
from civicgrid.geo.activation import (
    activation_plan,
    division_activate,
    division_reasons_set,
    in_range,
)
from civicgrid.geo.demo import divide_demo
from civicgrid.geo.geojson import Feature
from civicgrid.geo.models import DivisionActivation, DivisionVersion, Grid, Township
from civicgrid.geo.services import boundaries_import, division_draft_create, units_replace
from civicgrid.geo.synthetic import generate_township
from civicgrid.people.demo import demo_staff_create
from civicgrid.people.models import GridAssignment, User
from civicgrid.people.scopes import current_assignments, grids_visible_to
from civicgrid.registry.demo import demo_registries_fill
from civicgrid.registry.models import House, LegalPerson, Person, UrbanComponent
from civicgrid.testing import built_once
from civicgrid.web.demo import demo_cases_complete

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"


@pytest.fixture(scope="module")
def built_copy(django_db_setup, django_db_blocker):
    with built_once(django_db_blocker):
        yield demo_township()


@pytest.fixture
def demo_copy(built_copy: Township) -> Township:
    return built_copy


def demo_township() -> Township:
    """The demo township as ``civicgrid demo`` builds it: grids, registries, staff, cases."""
    town = generate_township(0)
    township = boundaries_import(
        township_code=town.division_code + town.township_code,
        township_name=town.name,
        villages=[
            Feature(i + 1, {"code": v.code, "name": v.name}, v.boundary)
            for i, v in enumerate(town.villages)
        ],
        grids=divide_demo(town, 0),
    ).township
    for village in township.villages.all():
        units_replace(
            village=village,
            units=[(b.id, b.polygon, b.households) for b in town.blocks
                   if b.village == village.code],
        )  # fmt: skip
    demo_registries_fill(town=town, seed=0)
    demo_staff_create(township=township, password=lambda: PASSWORD)
    demo_cases_create(township=township)
    demo_cases_complete(township=township)
    return township


def redraw(township: Township) -> DivisionVersion:
    """Two villages re-drawn with other bounds, so grids split, merge and shift."""
    draft = division_draft_create(
        township=township, village_codes=["001", "002"], min_households=250, max_households=450
    )
    division_reasons_set(
        division=draft,
        reasons={g.code: "re-drawn for growth" for g in draft.grids.all()
                 if not in_range(g.households)},
    )  # fmt: skip
    return draft


def on_active_grids() -> dict[str, int]:
    active = {"grid__division__status": "active"}
    return {
        "houses": House.objects.filter(**active).count(),
        "persons": Person.objects.resident().filter(house__grid__division__status="active").count(),
        "legal_persons": LegalPerson.objects.filter(
            house__grid__division__status="active", closed_on__isnull=True
        ).count(),
        "components": UrbanComponent.objects.filter(**active).count(),
        "open_cases": Case.objects.filter(
            state__in=[s.value for s in OPEN_STATES], **active
        ).count(),
        "team": current_assignments().filter(**active).count(),
    }


def test_activation_on_a_demo_copy_rehomes_every_kind_of_record_as_previewed(demo_copy):
    before = on_active_grids()
    assert all(before.values()), before
    totals = (House.objects.count(), Person.objects.count(), LegalPerson.objects.count(),
              UrbanComponent.objects.count(), Case.objects.count())  # fmt: skip
    closed = dict(
        Case.objects.filter(state__in=[s.value for s in CLOSED_STATES]).values_list("pk", "grid")
    )
    assert closed
    draft = redraw(demo_copy)
    preview = activation_plan(division=draft)
    assert preview.problems == []
    previewed = preview.as_dict()
    # Something really moves between grids, or this test proves little.
    assert any(r.counts["houses"][0] != r.counts["houses"][1] for r in preview.rows)

    done = division_activate(division=draft)

    assert done.as_dict() == previewed
    assert DivisionActivation.objects.get(division=draft).plan == previewed
    # Every record is still there, and every record that could be placed is on a live grid.
    assert (House.objects.count(), Person.objects.count(), LegalPerson.objects.count(),
            UrbanComponent.objects.count(), Case.objects.count()) == totals  # fmt: skip
    after = on_active_grids()
    left = {k["kind"]: k["left"] for k in previewed["kinds"]}
    for kind, count in before.items():
        assert after[kind] == count - left[kind], kind
    assert left["houses"] == 0 and left["persons"] == 0 and left["open_cases"] == 0
    # Per grid, each count is what the preview said.
    live = Grid.objects.filter(division=draft)
    houses = Counter(House.objects.filter(grid__in=live).values_list("grid__code", flat=True))
    cases = Counter(
        Case.objects.filter(grid__in=live, state__in=[s.value for s in OPEN_STATES]).values_list(
            "grid__code", flat=True
        )
    )
    persons = Counter(
        Person.objects.resident().filter(house__grid__in=live)
        .values_list("house__grid__code", flat=True)
    )  # fmt: skip
    for row in previewed["grids"]:
        assert houses[row["code"]] == row["counts"]["houses"][1]
        assert persons[row["code"]] == row["counts"]["persons"][1]
        assert cases[row["code"]] == row["counts"]["open_cases"][1]
    # Houses went by position: each lies in its grid.
    for house in House.objects.filter(grid__in=live).select_related("grid")[:300]:
        assert house.grid.geometry.intersects(box(house.lon, house.lat, house.lon, house.lat))
    # Closed cases keep the grid they were handled in; open ones got a ledger entry.
    assert dict(Case.objects.filter(pk__in=list(closed)).values_list("pk", "grid")) == closed
    moved_cases = next(k["moved"] for k in previewed["kinds"] if k["kind"] == "open_cases")
    assert moved_cases > 0
    assert CaseEvent.objects.filter(action="regrid").count() == moved_cases
    assert ledger_verify()[1] is None


def test_staff_keep_working_after_activation(demo_copy):
    admin = User.objects.get(username="gridadmin")
    supervisor = User.objects.get(username="supervisor")
    # The demo places its staff today; a real team has been on its grid for a while.
    GridAssignment.objects.update(starts_on=timezone.localdate() - dt.timedelta(days=90))
    mine_before = set(grids_visible_to(admin).values_list("code", flat=True))
    assert mine_before
    draft = redraw(demo_copy)
    plan = division_activate(division=draft)
    mine_after = list(grids_visible_to(admin))
    assert mine_after and all(g.division_id == draft.pk for g in mine_after)
    # The supervisor sees every house of the township, on the new grids.
    visible = House.objects.filter(grid__in=grids_visible_to(supervisor)).count()
    assert visible == House.objects.count() - next(
        k["left"] for k in plan.as_dict()["kinds"] if k["kind"] == "houses"
    )
    # The dispatcher's case page tells the move in the ledger.
    regridded = CaseEvent.objects.filter(action="regrid").select_related("case").first()
    assert regridded is not None
    dispatcher = Client(headers={"accept-language": "en"})
    dispatcher.force_login(User.objects.get(username="dispatcher"))
    page = dispatcher.get(f"/center/cases/{regridded.case.number}/").content.decode()
    assert "moved to a new grid (re-division)" in page
    # The old assignment ended yesterday; the history stays on the old grid.
    ended = GridAssignment.objects.filter(user=admin, grid__division__status="retired")
    assert ended.get().ends_on == timezone.localdate() - dt.timedelta(days=1)
