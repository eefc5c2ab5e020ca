"""A damaged or missing urban component in the registry becomes one linked case."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.db import transaction
from django.test import Client

from civicgrid.cases.models import Case, CaseEvent, Category
from civicgrid.cases.taxonomy import GENERAL_FACILITY, SUBS
from civicgrid.cases.tests.conftest import HERE, Loop
from civicgrid.cases.tests.test_api import client_for
from civicgrid.people.models import Role
from civicgrid.people.services import staff_create
from civicgrid.registry import services as registry
from civicgrid.registry.catalogue import SMALL_CATEGORIES
from civicgrid.registry.models import UrbanComponent

STREET_LAMP = "4419000112000001"  # region 441900, catalogue 0112 street lamp, sequence 1
PARKING_METER = "4419000205000001"  # 0205: no case sub-category of its own


@pytest.fixture
def capture(django_capture_on_commit_callbacks: Any) -> Any:
    return lambda: django_capture_on_commit_callbacks(execute=True)


def lamp(loop: Loop, state: str = "intact", identifier: str = STREET_LAMP) -> UrbanComponent:
    lon, lat = HERE
    return registry.component_create(
        values={"identifier": identifier, "lon": lon, "lat": lat, "state": state, "name": "路灯"},
        actor=loop.admin,
    )


def test_every_component_code_of_the_taxonomy_is_in_the_registry_catalogue() -> None:
    component_codes = [s.urban[1:] for s in SUBS if s.urban.startswith("C")]
    assert component_codes
    assert [c for c in component_codes if c not in SMALL_CATEGORIES] == []
    by_name = {s.name: s.urban for s in SUBS}
    # The kinds that had been numbered apart: the same thing has the same code.
    assert SMALL_CATEGORIES[by_name["Street lamp"][1:]] == "street lamp"
    assert SMALL_CATEGORIES[by_name["Fire hydrant"][1:]] == "fire hydrant"
    assert SMALL_CATEGORIES[by_name["Litter bin"][1:]] == "litter bin"
    assert SMALL_CATEGORIES[by_name["Bus shelter"][1:]] == "bus shelter"
    assert SMALL_CATEGORIES[by_name["Traffic sign"][1:]] == "traffic sign"


def test_damaged_component_becomes_one_linked_case(loop: Loop, capture: Any) -> None:
    component = lamp(loop)
    with capture():
        registry.component_update(component=component, values={"state": "damaged"},
                                  actor=loop.admin)  # fmt: skip
    case = Case.objects.get()
    assert case.category.code == "0904"  # street lamp, catalogue 0112
    assert case.grid == loop.grid == component.grid
    assert case.component == component
    assert (case.lon, case.lat) == (component.lon, component.lat)
    assert STREET_LAMP in case.description and "damaged" in case.description
    assert case.reporter == loop.admin and case.reporter_kind == Role.GRID_ADMINISTRATOR
    assert CaseEvent.objects.get(case=case).payload["component"] == STREET_LAMP


def test_intact_to_intact_reports_nothing(loop: Loop, capture: Any) -> None:
    component = lamp(loop)
    with capture() as callbacks:
        registry.component_update(component=component, values={"name": "新路灯"}, actor=loop.admin)
        registry.component_update(component=component, values={"state": "intact"},
                                  actor=loop.admin)  # fmt: skip
    assert callbacks == []
    assert Case.objects.count() == 0


def test_a_retried_update_does_not_report_twice(loop: Loop, capture: Any) -> None:
    component = lamp(loop)
    for _ in range(3):
        with capture():
            registry.component_update(component=component, values={"state": "damaged"},
                                      actor=loop.admin)  # fmt: skip
    with capture():  # damaged → missing while the first case is still open
        registry.component_update(component=component, values={"state": "missing"},
                                  actor=loop.admin)  # fmt: skip
    assert Case.objects.filter(component=component).count() == 1


def test_a_rolled_back_change_reports_nothing(loop: Loop, capture: Any) -> None:
    component = lamp(loop)
    with capture(), pytest.raises(RuntimeError), transaction.atomic():
        registry.component_update(component=component, values={"state": "damaged"},
                                  actor=loop.admin)  # fmt: skip
        raise RuntimeError("rolled back")
    assert Case.objects.count() == 0


def test_created_missing_without_own_category_is_reported_by_the_system(
    loop: Loop, capture: Any
) -> None:
    lon, lat = HERE
    with capture():
        component = registry.component_create(
            values={"identifier": PARKING_METER, "lon": lon, "lat": lat, "state": "missing"},
            actor=None,
        )
    case = Case.objects.get(component=component)
    assert case.category.code == GENERAL_FACILITY
    assert case.category.parent.code == "09"
    assert case.reporter is None and case.reporter_kind == "system"
    assert case.grid == loop.grid


def test_a_writer_who_may_not_report_there_leaves_it_to_the_system(
    loop: Loop, capture: Any
) -> None:
    officer = staff_create(username="village1", full_name="王五", phone="13700001111",
                           roles=[Role.VILLAGE_OFFICER], village=loop.grid.village,
                           actor=None)  # fmt: skip
    component = lamp(loop)
    with capture():
        registry.component_update(component=component, values={"state": "damaged"},
                                  actor=officer)  # fmt: skip
    case = Case.objects.get(component=component)
    assert case.reporter is None and case.reporter_kind == "system"


def test_the_case_detail_names_the_component(loop: Loop, capture: Any) -> None:
    with capture():
        component = lamp(loop, state="damaged")
    case = Case.objects.get(component=component)
    body = client_for(loop.dispatcher).get(f"/api/v1/cases/{case.number}").json()
    assert body["component"] == STREET_LAMP
    other = loop.report()
    assert client_for(loop.admin).get(f"/api/v1/cases/{other.number}").json()["component"] is None
    page = Client(headers={"accept-language": "en"})
    page.force_login(loop.dispatcher)
    html = page.get(f"/center/cases/{case.number}/").content.decode()
    assert f'<dd id="case-component">{STREET_LAMP}</dd>' in html


def test_the_data_migration_moves_old_codes_to_the_catalogue(loop: Loop) -> None:
    migration = importlib.import_module(
        "civicgrid.cases.migrations.0004_urban_codes_from_registry_catalogue"
    )
    Category.objects.filter(code="0904").update(urban_code="0111")
    Category.objects.filter(code="0905").update(urban_code="0116")
    Category.objects.filter(code="0909").update(urban_code="0999")  # edited locally: kept
    Category.objects.filter(code=GENERAL_FACILITY).delete()
    migration.forward(django_apps, None)
    codes = dict(Category.objects.filter(code__startswith="09").values_list("code", "urban_code"))
    assert codes["0904"] == "0112" and codes["0905"] == "0111" and codes["0909"] == "0999"
    assert codes[GENERAL_FACILITY] == "0699"
    migration.forward(django_apps, None)  # idempotent
    assert Category.objects.filter(code=GENERAL_FACILITY).count() == 1
