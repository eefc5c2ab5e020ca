"""Demo staff: the system administrator, one certified account per role, and full grid teams."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core.errors import NotFound
from civicgrid.geo.models import DivisionVersion, Grid, Township
from civicgrid.people import scopes
from civicgrid.people.models import EmploymentSource, Position, Role, User
from civicgrid.people.selectors import MAX_ADMINISTRATORS, MIN_ADMINISTRATORS
from civicgrid.people.services import (
    TEAM_POSITIONS,
    department_create,
    examination_record,
    grid_assignment_create,
    role_grant,
    staff_create,
    training_record,
    work_permit_issue,
)


def demo_admin_create(*, password: Callable[[], str]) -> list[dict[str, Any]]:
    """The superuser ``admin`` with the system administrator role; its demo-accounts.json row."""
    secret = password()
    user = User.objects.create_user(
        username="admin", password=secret, is_staff=True, is_superuser=True
    )
    role_grant(user=user, role=Role.SYSTEM_ADMINISTRATOR, actor=None)
    return [{"username": "admin", "role": "system_admin", "password": secret}]


# Named with the codes of ``areas.AREAS``; the case taxonomy routes the same areas to them.
DEMO_DEPARTMENTS: list[tuple[str, str, list[str]]] = [
    ("URBAN", "城市管理局", ["urban_management", "public_facilities"]),
    ("FIRE", "消防救援所", ["fire_safety"]),
    ("MARKET", "市场监督管理所", ["food_drug_safety", "commercial_registration"]),
    ("CIVIL", "民政办", ["civil_affairs"]),
]


def demo_staff_create(
    *, township: Township, password: Callable[[], str], on: dt.date | None = None
) -> list[dict[str, Any]]:
    """One certified account per role for the demo; returns the demo-accounts.json rows."""
    day = on or timezone.localdate()
    departments = [
        department_create(township=township, code=code, name=name, areas=areas, actor=None)
        for code, name, areas in DEMO_DEPARTMENTS
    ]
    grid = (
        Grid.objects.select_related("village", "division")
        .filter(village__township=township, division__status=DivisionVersion.Status.ACTIVE)
        .order_by("code")
        .first()
    )
    if grid is None:
        raise NotFound(_("The township has no active grid."))
    people: list[tuple[str, str, str, dict[str, Any]]] = [
        ("gridadmin", "李网格", Role.GRID_ADMINISTRATOR, {}),
        ("gridleader", "王组长", Role.GRID_LEADER, {}),
        ("deputy", "赵副组", Role.DEPUTY_GRID_LEADER, {}),
        ("village", "陈村干", Role.VILLAGE_OFFICER, {"village": grid.village}),
        ("dispatcher", "周调度", Role.DISPATCHER, {"township": township}),
        ("department", "吴城管", Role.DEPARTMENT_OFFICER, {"department": departments[0]}),
        ("assessor", "郑信访", Role.ASSESSOR, {"township": township}),
        ("supervisor", "孙督查", Role.SUPERVISOR, {"township": township}),
    ]
    positions: dict[str, str] = {
        Role.GRID_ADMINISTRATOR: Position.ADMINISTRATOR,
        Role.GRID_LEADER: Position.LEADER,
        Role.DEPUTY_GRID_LEADER: Position.DEPUTY,
    }
    accounts: list[dict[str, Any]] = []
    for index, (username, name, role, places) in enumerate(people, start=1):
        secret = password()
        user = staff_create(
            username=username,
            full_name=name,
            phone=f"1380000{index:04d}",
            roles=[role],
            password=secret,
            employment_source=EmploymentSource.RECRUITED,
            actor=None,
            **places,
        )
        account: dict[str, Any] = {"username": username, "password": secret, "role": role}
        if role in positions:
            _certify(user, number=f"DEMO-{day:%Y}-{index:04d}", on=day)
            user.uniform_issued_on = user.id_card_issued_on = day
            user.save(update_fields=["uniform_issued_on", "id_card_issued_on"])
            grid_assignment_create(
                user=user, grid=grid, position=positions[role], starts_on=day, actor=None
            )
            account["grid"] = grid.code
        elif "village" in places:
            account["village"] = grid.village.full_code
        elif "department" in places:
            account["department"] = departments[0].code
        accounts.append(account)
    demo_teams_fill(township=township, on=day)
    return accounts


DEMO_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗梁"
DEMO_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
DEMO_SOURCES = (
    EmploymentSource.VILLAGE_COMMITTEE,
    EmploymentSource.HOUSEHOLD_REGISTRATION,
    EmploymentSource.RECRUITED,
)


def demo_teams_fill(*, township: Township, on: dt.date) -> int:
    """Complete every active grid's team as the manual has it: a leader from the village
    committee, a deputy, and administrators up to 5, 6 or 7 (the deputy included), all
    certified. Members have no password (they are not demo logins). Returns how many
    people were added."""
    grids = list(
        Grid.objects.select_related("village", "division")
        .filter(village__township=township, division__status=DivisionVersion.Status.ACTIVE)
        .order_by("code")
    )
    added = 0
    for index, grid in enumerate(grids):
        on_team = list(
            scopes.current_assignments(on).filter(grid=grid).values_list("position", flat=True)
        )
        wanted: list[tuple[str, str, str]] = []
        if Position.LEADER not in on_team:
            wanted.append((Position.LEADER, Role.GRID_LEADER, EmploymentSource.VILLAGE_COMMITTEE))
        if Position.DEPUTY not in on_team:
            wanted.append((Position.DEPUTY, Role.DEPUTY_GRID_LEADER, DEMO_SOURCES[index % 3]))
        size = sum(p in TEAM_POSITIONS for p in on_team) + (Position.DEPUTY not in on_team)
        target = MIN_ADMINISTRATORS + index % (MAX_ADMINISTRATORS - MIN_ADMINISTRATORS + 1)
        wanted += [
            (Position.ADMINISTRATOR, Role.GRID_ADMINISTRATOR, DEMO_SOURCES[(index + n) % 3])
            for n in range(max(0, target - size))
        ]
        for number, (position, role, source) in enumerate(wanted, start=1):
            seed = index * 7 + number
            user = staff_create(
                username=f"g{grid.code[9:]}-{number}",
                full_name=DEMO_SURNAMES[seed % len(DEMO_SURNAMES)]
                + DEMO_GIVEN[(seed * 5) % len(DEMO_GIVEN)],
                phone=f"139{index:04d}{number:04d}",
                roles=[role],
                employment_source=source,
                actor=None,
            )
            _certify(user, number=f"DEMO-{on:%Y}-{grid.code[9:]}-{number}", on=on)
            user.uniform_issued_on = user.id_card_issued_on = on
            user.save(update_fields=["uniform_issued_on", "id_card_issued_on"])
            grid_assignment_create(
                user=user, grid=grid, position=position, starts_on=on, actor=None
            )
            added += 1
    return added


def _certify(user: User, *, number: str, on: dt.date) -> None:
    training_record(user=user, course="网格员岗前培训", completed_on=on, hours=40, actor=None)
    examination_record(user=user, taken_on=on, score=85, pass_mark=60, actor=None)
    work_permit_issue(
        user=user,
        number=number,
        issued_on=on,
        expires_on=on + dt.timedelta(days=730),
        actor=None,
    )
