"""The default taxonomy: 14 areas, sub-categories with departments, limits and codes."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError

from civicgrid.cases import services
from civicgrid.cases.models import Category
from civicgrid.cases.taxonomy import AREAS, STEPS, SUBS, URGENCIES, translations
from civicgrid.cases.workcalendar import TimeLimit


def test_fourteen_areas_each_with_sub_categories() -> None:
    assert len(AREAS) == 14
    for area in AREAS:
        assert [s for s in SUBS if s.code.startswith(area.code)], area.name


def test_every_sub_category_has_limits_for_every_step_and_urgency(db: None) -> None:
    services.taxonomy_seed()
    for category in Category.objects.filter(parent__isnull=False):
        for urgency in URGENCIES:
            for step in STEPS:
                assert services.step_limit(category, urgency, step).amount > 0
        category.full_clean()


def test_urban_codes_are_two_plus_two_digits() -> None:
    urban = [s for s in SUBS if s.urban]
    assert len(urban) >= 15
    assert all(re.fullmatch(r"[CE]\d{4}", s.urban) for s in urban)


def test_named_limits_from_the_issue() -> None:
    by_code = {s.code: s for s in SUBS}
    assert by_code["0702"].dispose[0] == "4h"  # exposed garbage
    assert [by_code[c].dispose[0] for c in ("1201", "1202", "1203")] == ["4h", "7d", "20d"]
    assert TimeLimit.parse(by_code["1203"].dispose[0]) == TimeLimit(20, "d")


def test_disputes_and_petitions_go_to_the_assessor() -> None:
    assert {s.verifier for s in SUBS if s.code in ("1301", "1305")} == {"assessor"}


def test_seeding_is_idempotent_and_keeps_edits(db: None) -> None:
    services.taxonomy_seed()
    Category.objects.filter(code="0702").update(department_code="ENV")
    created, total = services.taxonomy_seed()
    assert created == 0 and total == len(AREAS) + len(SUBS)
    assert Category.objects.get(code="0702").department_code == "ENV"


def test_bad_limits_are_refused_in_the_admin_form(db: None) -> None:
    services.taxonomy_seed()
    category = Category.objects.get(code="0702")
    category.limits = {"normal": {"dispose": "soon"}}
    with pytest.raises(ValidationError):
        category.full_clean()


def test_every_name_has_a_chinese_translation() -> None:
    assert len(translations()) == len(AREAS) + len(SUBS)


def test_the_taxonomy_areas_are_the_one_list_of_people() -> None:
    from civicgrid.people import areas

    assert [(a.code, a.name, a.zh) for a in AREAS] == [
        (a.number, a.name, a.zh) for a in areas.AREAS
    ]
    assert {s.code[:2] for s in SUBS} == set(areas.BY_NUMBER)


def test_every_sub_category_goes_to_a_department_responsible_for_its_area() -> None:
    from civicgrid.cases.taxonomy import DEPARTMENTS
    from civicgrid.people import areas
    from civicgrid.people.demo import DEMO_DEPARTMENTS

    by_number = {a.code: a.department for a in AREAS}
    received: dict[str, set[str]] = {code: set() for code in DEPARTMENTS}
    for sub in SUBS:
        department = sub.department or by_number[sub.code[:2]]
        area = areas.area_of_category(sub.code).code
        assert area in DEPARTMENTS[department][1], (sub.code, department, area)
        received[department].add(area)
    # And no department claims an area the taxonomy never sends it.
    assert {code: set(found) for code, (_n, found) in DEPARTMENTS.items()} == received
    for code, _name, demo_areas in DEMO_DEPARTMENTS:
        assert demo_areas == DEPARTMENTS[code][1], code


def test_seeded_departments_agree_with_the_seeded_categories(township) -> None:
    from civicgrid.cases.demo import demo_cases_create
    from civicgrid.people import areas
    from civicgrid.people.demo import DEMO_DEPARTMENTS
    from civicgrid.people.models import Department
    from civicgrid.people.services import department_create

    for code, name, demo_areas in DEMO_DEPARTMENTS:
        department_create(township=township, code=code, name=name, areas=demo_areas, actor=None)
    demo_cases_create(township=township)  # the taxonomy and the other departments
    departments = {d.code: d.areas for d in Department.objects.filter(township=township)}
    subs = Category.objects.filter(parent__isnull=False)
    assert subs.count() == len(SUBS)
    for category in subs:
        area = areas.area_of_category(category.code).code
        assert area in departments[category.department_code], category.code


def test_every_area_and_sub_category_name_is_shown_in_chinese(db: None) -> None:
    from django.utils import translation

    services.taxonomy_seed()
    with translation.override("zh-hans"):
        shown = {c.name: c.label for c in Category.objects.all()}
    assert shown == translations()
