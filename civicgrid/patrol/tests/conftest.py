"""Personas around grid 441900123 001 01: two administrators on duty there, their leader,
a dispatcher, an administrator of another grid and one without field rights."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from civicgrid.geo.models import Grid, Township
from civicgrid.patrol import services
from civicgrid.people import services as people
from civicgrid.people.models import Position, Role, User
from civicgrid.testing import certify

# Inside grid 01 of village 001 (113.00–113.01 × 23.00–23.02).
HERE = (113.005, 23.01)


def staff(username: str, role: str, **places: Any) -> User:
    return people.staff_create(
        username=username,
        full_name="李四",
        phone="13812345678",
        roles=[role],
        actor=None,
        **places,
    )


def place(user: User, grid: Grid, position: str = Position.ADMINISTRATOR) -> None:
    start = timezone.localdate() - dt.timedelta(days=30)
    people.grid_assignment_create(
        user=user, grid=grid, position=position, starts_on=start, actor=None
    )


@dataclass
class Patrol:
    township: Township
    grid: Grid
    far: Grid
    admin: User
    mate: User
    leader: User
    dispatcher: User
    far_admin: User
    uncertified: User

    def client(self, user: User) -> Client:
        c = Client()
        c.force_login(user)
        return c


@pytest.fixture
def patrol(township: Township) -> Patrol:
    active = Grid.objects.filter(division__status="active")
    grid = active.get(code="44190012300101")
    far = active.get(code="44190012300202")
    admin = staff("walker", Role.GRID_ADMINISTRATOR)
    mate = staff("mate", Role.GRID_ADMINISTRATOR)
    leader = staff("leader", Role.GRID_LEADER)
    far_admin = staff("faraway", Role.GRID_ADMINISTRATOR)
    uncertified = staff("novice", Role.GRID_ADMINISTRATOR)
    for user in (admin, mate, leader, far_admin, uncertified):
        if user is not uncertified:
            certify(user)
    place(admin, grid)
    place(mate, grid)
    place(leader, grid, Position.LEADER)
    place(far_admin, far)
    services.device_register(user=admin, identifier="PHONE-1", actor=None)
    return Patrol(
        township=township,
        grid=grid,
        far=far,
        admin=admin,
        mate=mate,
        leader=leader,
        dispatcher=staff("disp", Role.DISPATCHER, township=township),
        far_admin=far_admin,
        uncertified=uncertified,
    )
