"""Personas around the grid 441900123 001 01 and a few registry records in it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone
from stdnum.cn import ric

from civicgrid.geo.models import Grid, Township
from civicgrid.people import services as people
from civicgrid.people.models import Position, Role, User
from civicgrid.registry import services
from civicgrid.registry.models import House, Person
from civicgrid.testing import certify

# Points inside the fixture grids (see civicgrid/conftest.py).
IN_GRID = (113.005, 23.01)  # 441900123 001 01
IN_NEIGHBOUR = (113.015, 23.01)  # 441900123 001 02
IN_FAR = (113.035, 23.01)  # 441900123 002 02


def resident_id(
    birth: dt.date, *, female: bool = False, region: str = "110105", seq: int = 1
) -> str:
    """A well-formed number for tests: region, birth date, sequence (odd male), check."""
    body = f"{region}{birth:%Y%m%d}{seq:02d}{(2 if female else 1)}"
    return body + ric.calc_check_digit(body + "0")


def _place(user: User, grid: Grid, position: str) -> None:
    start = timezone.localdate() - dt.timedelta(days=30)
    certify(user, on=start)
    people.grid_assignment_create(
        user=user, grid=grid, position=position, starts_on=start, actor=None
    )


def _staff(username: str, *roles: str, **profile: object) -> User:
    return people.staff_create(
        username=username,
        full_name="李四",
        phone="13900001111",
        roles=roles,
        password=None,
        actor=None,
        **profile,
    )


@dataclass
class Cast:
    township: Township
    grid: Grid
    neighbour: Grid
    far: Grid
    admin: User  # grid administrator on ``grid``
    other_admin: User  # grid administrator on ``neighbour``
    village_officer: User  # village 001 (grid and neighbour)
    dispatcher: User  # the whole township, read-only
    department: User  # department officer: no registry access
    root: User  # system administrator


@pytest.fixture
def cast(township: Township) -> Cast:
    grids = Grid.objects.filter(division__status="active")
    grid = grids.get(code="44190012300101")
    neighbour = grids.get(code="44190012300102")
    far = grids.get(code="44190012300202")
    admin = _staff("admin1", Role.GRID_ADMINISTRATOR)
    _place(admin, grid, Position.ADMINISTRATOR)
    other = _staff("admin2", Role.GRID_ADMINISTRATOR)
    _place(other, neighbour, Position.ADMINISTRATOR)
    officer = _staff("officer", Role.VILLAGE_OFFICER, village=grid.village)
    dispatcher = _staff("dispatcher", Role.DISPATCHER, township=township)
    department = _staff("dept", Role.DEPARTMENT_OFFICER)
    root = _staff("root", Role.SYSTEM_ADMINISTRATOR)
    return Cast(township, grid, neighbour, far, admin, other, officer, dispatcher, department, root)


def house_values(code: str = "H001", where: tuple[float, float] = IN_GRID, **extra: object) -> dict:
    return {
        "code": code,
        "address": f"{code} 东村路",
        "lon": where[0],
        "lat": where[1],
        "owner_name": "王五",
        "owner_phone": "13812345678",
        **extra,
    }


def resident(**extra: object) -> Person:
    """赵六, born 4 March 1950, living in house H001 (the ``house`` fixture); ``extra``
    adds or changes values (health and welfare tags)."""
    values = {"full_name": "赵六", "id_number": resident_id(dt.date(1950, 3, 4)),
              "phone": "13912345678", "house": "H001", **extra}  # fmt: skip
    return services.person_create(values=values, actor=None)


@pytest.fixture
def house(cast: Cast) -> House:
    return services.house_create(values=house_values(), actor=cast.admin)


@pytest.fixture
def far_house(cast: Cast) -> House:
    return services.house_create(values=house_values("H900", IN_FAR), actor=None)
