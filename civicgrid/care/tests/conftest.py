"""Personas and residents around grid 441900123 001 01 for the care tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import count

import pytest
from django.test import Client
from django.utils import timezone

from civicgrid.care import services
from civicgrid.care.models import Campaign
from civicgrid.care.targets import years_before
from civicgrid.cases.tests.conftest import place, staff
from civicgrid.geo.models import Grid, Township
from civicgrid.people.models import Department, Role, User
from civicgrid.registry import services as registry
from civicgrid.registry.models import House, Person
from civicgrid.registry.tests.conftest import IN_FAR, house_values, resident_id

_seq = count(10)


def person(house: str, birth: dt.date, *, female: bool = False, **extra: object) -> Person:
    return registry.person_create(
        values={"full_name": "王小" + "一二三四五六七八九十"[next(_seq) % 10],
                "id_number": resident_id(birth, female=female, seq=next(_seq) % 90 + 10),
                "phone": "13912345678", "house": house, **extra},
        actor=None,
    )  # fmt: skip


# A campaign's period, fixed: nothing depends on the day the tests run.
START, END = dt.date(2026, 3, 2), dt.date(2026, 3, 31)


@dataclass
class Care:
    township: Township
    grid: Grid
    far: Grid
    day: dt.date  # a fixed day a few days back
    admin: User  # grid administrator on ``grid``
    far_admin: User
    village: User  # village officer of ``grid``'s village
    health: User  # Social Health Center officer of the township
    dispatcher: User
    officer: User  # department officer (URBAN)
    house: House
    far_house: House
    child: Person  # 7th birthday on ``day``
    toddler: Person
    pregnant: Person  # due ``day`` - 10
    senior: Person  # 80 on ``day``
    poor: Person  # low income, living alone
    adult: Person  # on no list
    far_child: Person

    def client(self, user: User) -> Client:
        c = Client(headers={"accept-language": "en"})
        c.force_login(user)
        return c


@pytest.fixture
def care(township: Township) -> Care:
    grids = Grid.objects.filter(division__status="active")
    grid, far = grids.get(code="44190012300101"), grids.get(code="44190012300202")
    day = timezone.localdate() - dt.timedelta(days=5)
    admin = staff("walker", Role.GRID_ADMINISTRATOR)
    place(admin, grid)
    far_admin = staff("faraway", Role.GRID_ADMINISTRATOR)
    place(far_admin, far)
    department = services.health_center_department(township=township)
    health = staff("doctor", Role.HEALTH_OFFICER, township=township, department=department)
    urban = Department.objects.create(township=township, code="URBAN", name="城管",
                                      areas=["urban_management"])  # fmt: skip
    house = registry.house_create(values=house_values("H001"), actor=None)
    far_house = registry.house_create(values=house_values("H900", IN_FAR), actor=None)
    return Care(
        township=township,
        grid=grid,
        far=far,
        day=day,
        admin=admin,
        far_admin=far_admin,
        village=staff("village1", Role.VILLAGE_OFFICER, village=grid.village),
        health=health,
        dispatcher=staff("disp", Role.DISPATCHER, township=township),
        officer=staff("urban", Role.DEPARTMENT_OFFICER, department=urban),
        house=house,
        far_house=far_house,
        child=person("H001", years_before(day, 7)),
        toddler=person("H001", years_before(day, 2)),
        pregnant=person("H001", years_before(day, 28), female=True,
                        pregnant_until=str(day - dt.timedelta(days=10))),
        senior=person("H001", years_before(day, 80)),
        poor=person("H001", years_before(day, 45), low_income="1", living_alone="1"),
        adult=person("H001", years_before(day, 40)),
        far_child=person("H900", years_before(day, 3)),
    )  # fmt: skip


@pytest.fixture
def campaign(care: Care) -> Campaign:
    return services.campaign_create(
        actor=care.health, title="预防接种宣传", material="宣传单", starts_on=START,
        ends_on=END, grids=[care.grid.code],
    )  # fmt: skip
