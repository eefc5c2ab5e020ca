"""Personas and premises around grid 441900123 001 01: a certified administrator there, an
administrator of a far grid, one without field rights, a dispatcher; a rental house, a
restaurant (its catering licence expired) and a construction site in the grid, and a shop
in the far grid."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from civicgrid.cases import services as cases
from civicgrid.geo.models import Grid, Township
from civicgrid.inspections import services
from civicgrid.inspections.models import Template
from civicgrid.people import services as people
from civicgrid.people.models import Position, Role, User
from civicgrid.registry import services as registry
from civicgrid.registry.models import House, LegalPerson, Site
from civicgrid.testing import certify, jpeg

HERE = (113.005, 23.01)  # grid 01 of village 001
FAR = (113.035, 23.01)  # grid 02 of village 002
PASSWORD = "a-long-test-password"


def staff(username: str, role: str, **places: Any) -> User:
    return people.staff_create(username=username, full_name="赵六", phone="13812345678",
                               roles=[role], actor=None, **places)  # fmt: skip


def place(user: User, grid: Grid) -> None:
    start = timezone.localdate() - dt.timedelta(days=60)
    certify(user, on=start)
    people.grid_assignment_create(user=user, grid=grid, position=Position.ADMINISTRATOR,
                                  starts_on=start, actor=None)  # fmt: skip


def all_pass(area: str, **override: Any) -> list[services.AnswerIn]:
    """Answers passing every item of the area's checklist; ``override`` by item code."""
    template = Template.objects.get(area=area, active=True)
    answers = []
    for item in template.items.all():
        value: Any = {"yes_no": "yes", "number": "3", "choice": "good", "text": "小吃",
                      "photo": None}[item.kind]  # fmt: skip
        photo = jpeg() if item.kind == "photo" else None
        if item.code in override:
            value = override[item.code]
        answers.append(services.AnswerIn(item=item.code, value=value, photo=photo))
    return answers


@dataclass
class World:
    township: Township
    grid: Grid
    far: Grid
    admin: User
    far_admin: User
    novice: User
    dispatcher: User
    house: House
    restaurant: LegalPerson
    site: Site
    far_shop: LegalPerson

    def client(self, user: User) -> Client:
        c = Client(headers={"accept-language": "en"})
        c.force_login(user)
        return c


@pytest.fixture
def world(township: Township, settings: Any, tmp_path: Any) -> World:
    settings.MEDIA_ROOT = tmp_path
    cases.taxonomy_seed()
    cases.calendar_seed(township=township)
    services.templates_seed()  # a transactional test before this one flushed them
    active = Grid.objects.filter(division__status="active")
    grid = active.get(code="44190012300101")
    far = active.get(code="44190012300202")
    admin = staff("walker", Role.GRID_ADMINISTRATOR)
    place(admin, grid)
    far_admin = staff("faraway", Role.GRID_ADMINISTRATOR)
    place(far_admin, far)
    novice = staff("novice", Role.GRID_ADMINISTRATOR)  # cannot be placed: not certified
    house = registry.house_create(values={
        "code": "H001", "address": "东村路1号", "lon": HERE[0], "lat": HERE[1], "use": "rental",
        "rental_registered": True, "rental_tenants": 4, "owner_name": "王五",
    }, actor=None)  # fmt: skip
    shop_house = registry.house_create(values={
        "code": "H002", "address": "东村路2号", "lon": HERE[0] + 0.001, "lat": HERE[1],
        "use": "business",
    }, actor=None)  # fmt: skip
    today = timezone.localdate()
    restaurant = registry.legal_person_create(values={
        "name": "东村饭店", "credit_code": "91350100M000100Y43", "kind": "individual",
        "representative_name": "周九", "house": "H002", "industry": "catering", "employees": 3,
        "licences": [
            {"kind": "business", "number": "B-1", "expires_on": None},
            {"kind": "catering", "number": "JY-1", "expires_on": today - dt.timedelta(days=10)},
            {"kind": "public_health", "number": "WS-1",
             "expires_on": today + dt.timedelta(days=300)},
            {"kind": "fire_safety", "number": "XF-1", "expires_on": None},
        ],
    }, actor=None)  # fmt: skip
    site = registry.site_create(values={
        "code": "S001", "kind": "construction", "subtype": "building", "name": "东村安置房工地",
        "lon": HERE[0] - 0.001, "lat": HERE[1], "permit_number": "SG-2026-01",
        "permit_expires_on": today + dt.timedelta(days=200), "operator": "某建设公司",
    }, actor=None)  # fmt: skip
    registry.house_create(values={"code": "H900", "address": "西村路9号", "lon": FAR[0],
                                  "lat": FAR[1], "use": "business"}, actor=None)  # fmt: skip
    far_shop = registry.legal_person_create(values={
        "name": "西村小卖部", "credit_code": "91350100M000200Y4T", "kind": "individual",
        "representative_name": "吴十", "house": "H900", "industry": "retail",
    }, actor=None)  # fmt: skip
    assert shop_house.pk
    return World(township, grid, far, admin, far_admin, novice,
                 staff("disp", Role.DISPATCHER, township=township), house, restaurant, site,
                 far_shop)  # fmt: skip
