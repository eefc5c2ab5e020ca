"""Personas around the grid 441900123 001 01: a reporting administrator, two dispatchers,
the urban management department and its officer, an assessor, and people outside."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from civicgrid.cases import services
from civicgrid.cases.models import Case
from civicgrid.geo.models import Grid, Township
from civicgrid.people import services as people
from civicgrid.people.models import Department, Position, Role, User
from civicgrid.testing import certify

# Inside grid 01 of village 001 (113.00–113.01 × 23.00–23.02).
HERE = (113.005, 23.01)
# Inside grid 02 of village 002.
FAR = (113.035, 23.01)


def staff(username: str, role: str, **places: Any) -> User:
    return people.staff_create(
        username=username, full_name="张三", phone="13812345678", roles=[role], actor=None,
        **places,
    )  # fmt: skip


def place(user: User, grid: Grid, position: str = Position.ADMINISTRATOR) -> None:
    start = timezone.localdate() - dt.timedelta(days=30)
    certify(user, on=start)
    people.grid_assignment_create(user=user, grid=grid, position=position, starts_on=start,
                                  actor=None)  # fmt: skip


@dataclass
class Loop:
    township: Township
    grid: Grid
    far: Grid
    admin: User  # reports on ``grid``
    far_admin: User  # serves ``far``
    dispatcher: User
    dispatcher2: User
    department: Department  # URBAN
    officer: User
    other_department: Department  # FIRE
    other_officer: User
    assessor: User
    foreign_dispatcher: User  # another township
    village_officer: User  # the village of ``grid``
    far_village_officer: User  # the village of ``far``

    def report(self, category: str = "0702", **kw: Any) -> Case:
        kw.setdefault("description", "垃圾堆放")
        lon, lat = kw.pop("at", HERE)
        return services.case_report(
            actor=kw.pop("actor", self.admin), category=category, lon=lon, lat=lat, **kw
        ).case

    def act(self, case: Case, action: str, actor: User | None = None, **params: Any) -> Case:
        who = actor or self.default_actor(action)
        services.case_transition(case=case, action=action, actor=who, version=case.version,
                                 **params)  # fmt: skip
        return case

    def default_actor(self, action: str) -> User:
        if action in ("return", "dispose", "request_extension"):
            return self.officer
        if action in ("verify_pass", "verify_fail"):
            return self.admin
        if action in ("resolve_locally", "send_to_center"):
            return self.village_officer
        return self.dispatcher

    PATH = {
        "reported": [],
        "local": ["hand_to_village"],
        "filed": ["file"],
        "dispatched": ["file", "dispatch"],
        "disposed": ["file", "dispatch", "dispose"],
        "verified": ["file", "dispatch", "dispose", "verify_pass"],
        "closed": ["file", "dispatch", "dispose", "verify_pass", "close"],
    }
    PARAMS = {"dispose": {"result": "已清理"}, "reject": {"note": "不受理"}}

    def resident_case_closed(self, rating: int = 1, phone: str = "13900001111") -> Any:
        """A resident's report taken to closure and rated; returns ``Reported``."""
        reported = services.case_report(actor=None, acting_as="resident", category="0702",
                                        description="路边垃圾", lon=HERE[0], lat=HERE[1],
                                        reporter_phone=phone)  # fmt: skip
        case = reported.case
        for action in self.PATH["closed"]:
            self.act(case, action, None, **self.PARAMS.get(action, {}))
        services.case_transition(case=case, action="rate", actor=None, acting_as="resident",
                                 version=case.version, rating=rating, comment="没解决",
                                 token=reported.follow_token)  # fmt: skip
        return reported

    def case_in(self, state: str, category: str = "0702") -> Case:
        case = self.report(category)
        for action in self.PATH[state]:
            who = self.assessor if action == "verify_pass" and category.startswith("13") else None
            self.act(case, action, who, **self.PARAMS.get(action, {}))
        assert case.state == state
        return case


@pytest.fixture
def loop(township: Township) -> Loop:
    from civicgrid.conftest import square_township_features
    from civicgrid.geo.services import boundaries_import

    services.taxonomy_seed()
    services.calendar_seed(township=township)
    villages, grids = square_township_features()
    other = boundaries_import(
        township_code="441900124", township_name="邻镇", villages=villages, grids=grids
    ).township
    active = Grid.objects.filter(division__status="active")
    grid = active.get(code="44190012300101")
    far = active.get(code="44190012300202")
    urban = people.department_create(township=township, code="URBAN", name="城管",
                                     areas=["urban_management"], actor=None)  # fmt: skip
    fire = people.department_create(township=township, code="FIRE", name="消防",
                                    areas=["fire_safety"], actor=None)  # fmt: skip
    admin = staff("admin1", Role.GRID_ADMINISTRATOR)
    place(admin, grid)
    far_admin = staff("admin2", Role.GRID_ADMINISTRATOR)
    place(far_admin, far)
    return Loop(
        township=township,
        grid=grid,
        far=far,
        admin=admin,
        far_admin=far_admin,
        dispatcher=staff("disp1", Role.DISPATCHER, township=township),
        dispatcher2=staff("disp2", Role.DISPATCHER, township=township),
        department=urban,
        officer=staff("urban1", Role.DEPARTMENT_OFFICER, department=urban),
        other_department=fire,
        other_officer=staff("fire1", Role.DEPARTMENT_OFFICER, department=fire),
        assessor=staff("assess1", Role.ASSESSOR, township=township),
        foreign_dispatcher=staff("disp9", Role.DISPATCHER, township=other),
        village_officer=staff("vofficer1", Role.VILLAGE_OFFICER, village=grid.village),
        far_village_officer=staff("vofficer2", Role.VILLAGE_OFFICER, village=far.village),
    )
