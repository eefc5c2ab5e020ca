"""Personas for the people app: staff of every role around the grid 441900123 001 01."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.utils import timezone

from civicgrid.conftest import square_township_features
from civicgrid.geo.models import Grid, Township
from civicgrid.geo.services import boundaries_import
from civicgrid.people import services
from civicgrid.people.models import Department, GridAssignment, Position, Role, User
from civicgrid.testing import certify


@pytest.fixture
def make_staff(db) -> Callable[..., User]:
    def make(username: str, *roles: str, **profile: object) -> User:
        return services.staff_create(
            username=username,
            full_name=profile.pop("full_name", "张三丰"),  # type: ignore[arg-type]
            phone=profile.pop("phone", "13812341234"),  # type: ignore[arg-type]
            roles=roles,
            password=profile.pop("password", None),  # type: ignore[arg-type]
            actor=None,
            **profile,  # type: ignore[arg-type]
        )

    return make


def place(user: User, grid: Grid, position: str) -> GridAssignment:
    certify(user)
    return services.grid_assignment_create(
        user=user,
        grid=grid,
        position=position,
        starts_on=timezone.localdate() - dt.timedelta(days=7),
        actor=None,
    )


@dataclass
class World:
    township: Township
    other_township: Township
    grid: Grid  # 441900123 001 01: the object every matrix row is about
    neighbour: Grid  # 441900123 001 02, same village
    far: Grid  # 441900123 002 02, other village
    foreign: Grid  # 441900124 001 01, other township
    department: Department
    other_department: Department
    member: User  # a certified administrator on ``grid``
    leaver: GridAssignment  # another administrator's assignment on ``grid``
    candidate: User  # certified, on no grid yet, registered to the grid's village


@pytest.fixture
def world(township: Township, make_staff: Callable[..., User]) -> World:
    villages, grids = square_township_features()
    other = boundaries_import(
        township_code="441900124", township_name="邻镇", villages=villages, grids=grids
    ).township
    active = Grid.objects.filter(division__status="active")
    grid = active.get(code="44190012300101")
    department = services.department_create(
        township=township, code="URBAN", name="城管", areas=["urban_management"], actor=None
    )
    other_department = services.department_create(
        township=other, code="URBAN", name="城管", areas=["urban_management"], actor=None
    )
    member = make_staff("member", Role.GRID_ADMINISTRATOR, full_name="李四", phone="13900001111")
    place(member, grid, Position.ADMINISTRATOR)
    leaver = make_staff("leaver", Role.GRID_ADMINISTRATOR)
    candidate = make_staff("candidate", Role.GRID_ADMINISTRATOR, village=grid.village)
    certify(candidate)
    return World(
        township=township,
        other_township=other,
        grid=grid,
        neighbour=active.get(code="44190012300102"),
        far=active.get(code="44190012300202"),
        foreign=active.get(code="44190012400101"),
        department=department,
        other_department=other_department,
        member=member,
        leaver=place(leaver, grid, Position.ADMINISTRATOR),
        candidate=candidate,
    )


GRID_POSITIONS = {
    Role.GRID_ADMINISTRATOR: Position.ADMINISTRATOR,
    Role.GRID_LEADER: Position.LEADER,
    Role.DEPUTY_GRID_LEADER: Position.DEPUTY,
}


def actor_for(world: World, role: str, relation: str) -> User:
    """A user holding ``role`` whose relation to ``world.grid`` is own, other or none.

    own: serves that grid / its village / its township / a department of its township.
    other: the same, one level away (a grid of the other village, the other village, the
    other township). none: the role without any place.
    """
    user = services.staff_create(
        username=f"{role}-{relation}", full_name="王五", roles=[role], actor=None
    )
    if relation == "none":
        return user
    own = relation == "own"
    if role in GRID_POSITIONS:
        place(user, world.grid if own else world.far, GRID_POSITIONS[Role(role)])
    elif role == Role.VILLAGE_OFFICER:
        user.village = (world.grid if own else world.far).village
    elif role == Role.DEPARTMENT_OFFICER:
        user.department = world.department if own else world.other_department
    else:
        user.township = world.township if own else world.other_township
    user.save()
    return user
