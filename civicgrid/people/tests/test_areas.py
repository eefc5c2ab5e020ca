"""The manual's 14 management areas are the one list; departments name theirs with it."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils import translation

from civicgrid.core.errors import ValidationFailed
from civicgrid.people import areas
from civicgrid.people.models import Department, ManagementArea
from civicgrid.people.services import department_create


def test_the_list_is_the_manuals_fourteen_in_its_order() -> None:
    assert [a.number for a in areas.AREAS] == [f"{n:02d}" for n in range(1, 15)]
    assert len(areas.BY_CODE) == 14 and all(a.zh for a in areas.AREAS)
    codes = set(areas.BY_CODE)
    # The manual's 9 and 14 are there, land and construction apart (11 and 12), and the
    # earlier list's own additions are gone.
    assert {"public_facilities", "commercial_registration"} <= codes
    assert areas.BY_NUMBER["11"].code == "land_resources"
    assert areas.BY_NUMBER["12"].code == "urban_construction"
    assert not codes & {"public_security", "disputes", "petitions", "labor", "land_construction"}
    assert areas.area_of_category("0905").code == "public_facilities"


def test_choices_come_from_the_list_with_bilingual_labels() -> None:
    assert ManagementArea.values == [a.code for a in areas.AREAS]
    with translation.override("zh-hans"):
        assert [str(label) for _code, label in ManagementArea.choices] == [
            a.zh for a in areas.AREAS
        ]
    with translation.override("en"):
        assert ManagementArea("public_facilities").label == "Public facilities and urban components"


def test_departments_take_only_codes_of_the_list(township) -> None:
    with pytest.raises(ValidationFailed) as refused:
        department_create(
            township=township, code="POLICE", name="派出所", areas=["public_security"], actor=None
        )
    assert refused.value.field == "areas" and "public_security" in refused.value.message
    department = department_create(
        township=township, code="URBAN", name="城管", areas=["public_facilities"], actor=None
    )
    department.full_clean()
    department.areas = ["petitions"]
    with pytest.raises(ValidationError) as invalid:
        department.full_clean()
    assert "petitions" in str(invalid.value.message_dict["areas"])


def test_the_migration_maps_the_earlier_codes_to_the_manuals(township) -> None:
    migration = importlib.import_module(
        "civicgrid.people.migrations.0004_department_areas_of_the_manual"
    )
    earlier = {
        "POLICE": ["population", "public_security"],
        "PETITION": ["disputes", "petitions"],
        "LABOR": ["labor"],
        "MARKET": ["food_drug_market"],
        "LAND": ["land_construction"],
        "URBAN": ["urban_management", "environment"],
        "FIRE": ["fire_safety", "work_safety"],
    }
    for code, codes in earlier.items():
        Department.objects.create(township=township, code=code, name=code, areas=codes)
    migration.forwards(apps, None)
    now = dict(Department.objects.values_list("code", "areas"))
    assert now == {
        "POLICE": ["population"],
        "PETITION": ["stability"],
        "LABOR": ["stability"],
        "MARKET": ["food_drug_safety", "commercial_registration"],
        "LAND": ["land_resources", "urban_construction"],
        "URBAN": ["urban_management", "public_facilities", "environment"],
        "FIRE": ["fire_safety", "work_safety"],
    }
    for department in Department.objects.all():
        department.full_clean()
    migration.backwards(apps, None)
    assert Department.objects.get(code="MARKET").areas == ["food_drug_market"]
    assert Department.objects.get(code="URBAN").areas == ["urban_management", "environment"]
