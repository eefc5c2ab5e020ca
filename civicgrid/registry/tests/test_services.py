from __future__ import annotations

import datetime as dt

import pytest

from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.registry import selectors, services
from civicgrid.registry.models import Person, RecordChange
from civicgrid.registry.tests.conftest import IN_FAR, IN_NEIGHBOUR, house_values, resident_id


def person_values(house_code: str = "H001", **extra: object) -> dict:
    return {
        "full_name": "赵六",
        "id_number": resident_id(dt.date(1990, 3, 4), female=True),
        "phone": "13912345678",
        "house": house_code,
        **extra,
    }


def test_house_create_derives_grid_from_location_and_writes_history(cast, house):
    assert house.grid == cast.grid
    [change] = selectors.history_for(house)
    assert change.action == RecordChange.Action.CREATE and change.actor == cast.admin
    assert change.changes["address"] == [None, "H001 东村路"]
    assert change.changes["owner_name"] == [None, "王*"]  # masked in history


def test_house_create_converts_gcj02_positions(cast):
    from civicgrid.geo.crs import wgs84_to_gcj02

    lon, lat = wgs84_to_gcj02(113.005, 23.01)
    house = services.house_create(
        values=house_values(lon=float(lon), lat=float(lat), crs="gcj02"), actor=cast.admin
    )
    assert abs(house.lon - 113.005) < 1e-6 and abs(house.lat - 23.01) < 1e-6


def test_administrator_cannot_register_in_another_grid(cast):
    with pytest.raises(PermissionDenied):
        services.house_create(values=house_values(where=IN_NEIGHBOUR), actor=cast.admin)


def test_dispatcher_reads_but_cannot_write(cast, house):
    assert selectors.records_for("houses", cast.dispatcher).count() == 1
    with pytest.raises(PermissionDenied):
        services.house_create(values=house_values("H002"), actor=cast.dispatcher)


def test_location_outside_every_grid_is_refused(cast):
    with pytest.raises(ValidationFailed) as caught:
        services.house_create(values=house_values(where=(100.0, 30.0)), actor=None)
    assert caught.value.field == "lon"


def test_house_update_keeps_grid_and_records_only_changes(cast, house):
    services.house_update(house=house, values={"floors": "3", "use": "出租"}, actor=cast.admin)
    house.refresh_from_db()
    assert (house.floors, house.use, house.grid_id) == (3, "rental", cast.grid.pk)
    latest = selectors.history_for(house).first()
    assert latest.changes == {"floors": [1, 3], "use": ["own", "rental"]}


def test_house_update_without_change_writes_no_history(cast, house):
    services.house_update(house=house, values={"floors": 1}, actor=cast.admin)
    assert selectors.history_for(house).count() == 1


def test_duplicate_house_code_is_refused(cast, house):
    with pytest.raises(ValidationFailed, match="Already registered"):
        services.house_create(values=house_values(), actor=cast.admin)


def test_person_create_derives_birth_date_and_sex_from_the_id_number(cast, house):
    person = services.person_create(values=person_values(), actor=cast.admin)
    assert person.birth_date == dt.date(1990, 3, 4) and person.sex == "F"
    assert str(person) == f"P{person.pk}"


def test_person_with_conflicting_birth_date_is_refused(cast, house):
    with pytest.raises(ValidationFailed) as caught:
        services.person_create(values=person_values(birth_date="1991-03-04"), actor=cast.admin)
    assert caught.value.field == "birth_date"


def test_same_id_number_is_not_registered_twice(cast, house):
    services.person_create(values=person_values(), actor=cast.admin)
    with pytest.raises(ValidationFailed, match="Already registered") as caught:
        services.person_create(values=person_values(full_name="另一个"), actor=cast.admin)
    assert caught.value.field == "id_number"
    assert Person.objects.count() == 1


def test_foreigner_registers_with_a_passport(cast, house):
    person = services.person_create(
        values=person_values(
            document_type="passport",
            id_number="e1234567",
            registration_type="foreigner",
            birth_date="1980-01-02",
        ),
        actor=cast.admin,
    )
    assert person.id_number == "E1234567" and person.birth_date == dt.date(1980, 1, 2)


def test_move_out_is_recorded_and_cannot_repeat(cast, house):
    person = services.person_create(
        values=person_values(moved_in_on="2020-01-01"), actor=cast.admin
    )
    services.person_move_out(person=person, moved_out_on=dt.date(2024, 5, 1), actor=cast.admin)
    latest = selectors.history_for(person).first()
    assert latest.action == "move_out" and latest.changes == {"moved_out_on": [None, "2024-05-01"]}
    with pytest.raises(ValidationFailed):
        services.person_move_out(person=person, actor=cast.admin)
    assert selectors.persons_for(cast.admin).count() == 0
    assert selectors.persons_for(cast.admin, include_moved_out=True).count() == 1


def test_tags_are_derived_and_filterable(cast, house):
    today = dt.date.today()
    child = services.person_create(
        values=person_values(id_number=resident_id(today.replace(year=today.year - 3), seq=2)),
        actor=cast.admin,
    )
    services.person_create(
        values=person_values(id_number=resident_id(dt.date(1950, 1, 1), seq=3), disability="是"),
        actor=cast.admin,
    )
    assert selectors.person_tags(child) == ["child"]
    assert [p.pk for p in selectors.persons_for(cast.admin, tag="child")] == [child.pk]
    assert selectors.persons_for(cast.admin, tag="senior").count() == 1
    assert selectors.persons_for(cast.admin, tag="disability").count() == 1


def test_pregnancy_expires(cast, house):
    person = services.person_create(
        values=person_values(pregnant_until=dt.date.today() - dt.timedelta(days=1)),
        actor=cast.admin,
    )
    assert "pregnant" not in selectors.person_tags(person)


def test_legal_person_with_licences_and_problems(cast, house):
    lp = services.legal_person_create(
        values={
            "name": "好味餐馆",
            "credit_code": "91350100M000100Y43",
            "kind": "individual",
            "representative_name": "钱七",
            "house": "H001",
            "industry": "catering",
            "licences": "business|L1|市场监管局|;catering|C1|市场监管局|2020-01-01",
        },
        actor=cast.admin,
    )
    problems = {(p.kind, p.problem) for p in selectors.licence_problems(lp)}
    assert problems == {
        ("catering", "expired"),
        ("public_health", "missing"),
        ("fire_safety", "missing"),
    }
    [report] = selectors.licence_problems_by_grid(cast.admin)
    assert report.grid == cast.grid and report.rows[0][0] == lp
    assert selectors.legal_persons_for(cast.admin, licence_state="expired").count() == 1
    services.legal_person_update(
        legal_person=lp,
        values={"licences": "business|L1||;catering|C2||2099-01-01"},
        actor=cast.admin,
    )
    assert selectors.legal_persons_for(cast.admin, licence_state="expired").count() == 0
    assert "licences" in selectors.history_for(lp).first().changes


def test_invalid_credit_code_names_the_field(cast, house):
    with pytest.raises(ValidationFailed) as caught:
        services.legal_person_create(
            values={
                "name": "x",
                "credit_code": "91350100M000100Y44",
                "representative_name": "y",
                "house": "H001",
            },
            actor=cast.admin,
        )
    assert caught.value.field == "credit_code"


def test_component_category_comes_from_identifier(cast):
    component = services.component_create(
        values={
            "identifier": "4419000112000001",
            "lon": 113.004,
            "lat": 23.004,
            "state": "damaged",
        },
        actor=cast.admin,
    )
    assert component.category == "0112" and component.grid == cast.grid


def test_scope_hides_other_grids(cast, house, far_house):
    assert list(selectors.records_for("houses", cast.admin)) == [house]
    assert selectors.record_for("houses", cast.admin, far_house.pk) is None
    assert selectors.records_for("houses", cast.village_officer).count() == 1
    assert selectors.records_for("houses", cast.dispatcher).count() == 2
    assert selectors.records_for("houses", cast.department).count() == 0
    assert selectors.records_for("houses", cast.root).count() == 2
    assert IN_FAR
