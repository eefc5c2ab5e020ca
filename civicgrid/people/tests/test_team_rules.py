"""Team rules: at most 7 administrators (the deputy among them) per grid, refused by the
service, the API and the admin; fewer than 5 stays a roster warning; the demo's teams
follow the manual in every grid."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from civicgrid.core.errors import DomainError, ValidationFailed
from civicgrid.geo.selectors import active_grids
from civicgrid.people import services
from civicgrid.people.demo import demo_staff_create
from civicgrid.people.models import GridAssignment, Position, Role, User
from civicgrid.people.selectors import grid_teams, roster_warnings
from civicgrid.people.tests.conftest import actor_for, certify, place

pytestmark = pytest.mark.django_db


def team_of_seven(world: Any, make_staff: Any) -> None:
    """Leader, deputy and six administrators: member and leaver are already on the grid."""
    place(make_staff("leader", Role.GRID_LEADER), world.grid, Position.LEADER)
    place(make_staff("deputy", Role.DEPUTY_GRID_LEADER), world.grid, Position.DEPUTY)
    for n in range(4):
        place(make_staff(f"admin{n}", Role.GRID_ADMINISTRATOR), world.grid, Position.ADMINISTRATOR)


def team_size(world: Any) -> int:
    [team] = grid_teams(active_grids().filter(pk=world.grid.pk))
    return team.team_size


@pytest.mark.parametrize(
    ("role", "position"),
    [
        (Role.GRID_ADMINISTRATOR, Position.ADMINISTRATOR),
        (Role.DEPUTY_GRID_LEADER, Position.DEPUTY),
    ],
)
def test_an_eighth_administrator_is_refused_naming_the_grid(world, make_staff, role, position):
    team_of_seven(world, make_staff)
    assert team_size(world) == 7
    eighth = make_staff("eighth", role)
    with pytest.raises(ValidationFailed) as refused:
        place(eighth, world.grid, position)
    assert refused.value.code == "team_full" and refused.value.field == "grid"
    assert refused.value.message == (
        f"Grid {world.grid.code} already has 7 administrators (the deputy included); "
        "a grid team has at most 7. End an assignment first."
    )
    assert team_size(world) == 7
    assert not GridAssignment.objects.filter(user=eighth).exists()


def test_the_leader_is_not_counted_and_an_ended_assignment_makes_room(world, make_staff):
    team_of_seven(world, make_staff)
    place(make_staff("leader2", Role.GRID_LEADER), world.grid, Position.LEADER)
    services.grid_assignment_end(assignment=world.leaver, actor=None)
    # Ended today it still counts today; from tomorrow there is room.
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(ValidationFailed):
        services.grid_assignment_create(
            user=world.candidate, grid=world.grid, position=Position.ADMINISTRATOR, actor=None
        )
    services.grid_assignment_create(
        user=world.candidate,
        grid=world.grid,
        position=Position.ADMINISTRATOR,
        starts_on=tomorrow,
        actor=None,
    )
    assert team_size(world) == 7
    [team] = grid_teams(active_grids().filter(pk=world.grid.pk), on=tomorrow)
    assert team.team_size == 7 and [w.code for w in team.warnings] == ["leader"]


def test_a_member_placed_for_later_counts_already(world, make_staff):
    team_of_seven(world, make_staff)
    services.grid_assignment_end(
        assignment=world.leaver, ends_on=timezone.localdate() + dt.timedelta(days=5), actor=None
    )
    with pytest.raises(ValidationFailed):
        services.grid_assignment_create(
            user=world.candidate,
            grid=world.grid,
            position=Position.ADMINISTRATOR,
            starts_on=timezone.localdate() + dt.timedelta(days=3),
            actor=None,
        )


def test_a_short_team_is_only_warned(world):
    assert team_size(world) == 2
    codes = [w.code for w in roster_warnings(grids=active_grids().filter(pk=world.grid.pk))]
    assert "team_size" in codes


def test_the_api_refuses_the_eighth_with_the_error_body(world, make_staff):
    team_of_seven(world, make_staff)
    supervisor = actor_for(world, Role.SUPERVISOR, "own")
    _token, raw = services.api_token_create(user=supervisor, name="t")
    client = Client(headers={"authorization": f"Bearer {raw}", "accept-language": "en"})
    response = client.post(
        f"/api/v1/people/grids/{world.grid.code}/assignments",
        json.dumps({"username": "candidate", "position": "administrator"}),
        content_type="application/json",
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "team_full" and body["field"] == "grid"
    assert world.grid.code in body["message"]
    zh = client.post(
        f"/api/v1/people/grids/{world.grid.code}/assignments",
        json.dumps({"username": "candidate", "position": "administrator"}),
        content_type="application/json",
        headers={"accept-language": "zh-hans"},
    )
    assert f"网格 {world.grid.code} 已有 7 名网格员" in zh.json()["message"]


def _admin_client(make_staff: Any) -> Client:
    root = make_staff("root", Role.SYSTEM_ADMINISTRATOR)
    root.is_staff = root.is_superuser = True
    root.save()
    client = Client(headers={"accept-language": "en"})
    client.force_login(root)
    return client


def _admin_add(client: Client, user: User, grid: Any) -> Any:
    return client.post(
        "/admin/people/gridassignment/add/",
        {
            "user": user.pk,
            "grid": grid.pk,
            "position": Position.ADMINISTRATOR,
            "starts_on": timezone.localdate().isoformat(),
        },
    )


def test_the_admin_adds_through_the_service_and_refuses_the_eighth(world, make_staff):
    client = _admin_client(make_staff)
    added = _admin_add(client, world.candidate, world.grid)
    assert added.status_code == 302
    assert GridAssignment.objects.get(user=world.candidate).created_by.username == "root"
    for n in range(4):
        place(make_staff(f"admin{n}", Role.GRID_ADMINISTRATOR), world.grid, Position.ADMINISTRATOR)
    eighth = make_staff("eighth", Role.GRID_ADMINISTRATOR)
    certify(eighth)
    refused = _admin_add(client, eighth, world.grid)
    assert refused.status_code == 200
    assert "a grid team has at most 7" in refused.content.decode()
    assert not GridAssignment.objects.filter(user=eighth).exists()


def test_the_admin_refuses_an_uncertified_person(world, make_staff):
    client = _admin_client(make_staff)
    uncertified = make_staff("fresh", Role.GRID_ADMINISTRATOR)
    refused = _admin_add(client, uncertified, world.grid)
    assert refused.status_code == 200
    assert "is not certified for field work" in refused.content.decode()


def _place_at_once(user_id: int, grid_id: int, barrier: threading.Barrier, out: list[Any]) -> None:
    try:
        user = User.objects.get(pk=user_id)
        grid = active_grids().get(pk=grid_id)
        barrier.wait(timeout=10)
        services.grid_assignment_create(
            user=user, grid=grid, position=Position.ADMINISTRATOR, actor=None
        )
        out.append("placed")
    except DomainError as exc:
        out.append(exc.code)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_two_placements_at_once_cannot_make_eight(world, make_staff):
    place(make_staff("leader", Role.GRID_LEADER), world.grid, Position.LEADER)
    place(make_staff("deputy", Role.DEPUTY_GRID_LEADER), world.grid, Position.DEPUTY)
    for n in range(3):
        place(make_staff(f"admin{n}", Role.GRID_ADMINISTRATOR), world.grid, Position.ADMINISTRATOR)
    assert team_size(world) == 6
    late = make_staff("late", Role.GRID_ADMINISTRATOR)
    certify(late)
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []
    threads = [
        threading.Thread(target=_place_at_once, args=(u.pk, world.grid.pk, barrier, outcomes))
        for u in (world.candidate, late)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["placed", "team_full"]
    assert team_size(world) == 7


def test_demo_teams_follow_the_manual_in_every_grid(township):
    accounts = demo_staff_create(township=township, password=lambda: "demo-password-1")
    grids = active_grids().filter(village__township=township)
    teams = grid_teams(grids)
    assert len(teams) == 4
    for team in teams:
        assert 5 <= team.team_size <= 7
        assert len(team.leaders) == 1 and len(team.deputies) == 1
        assert team.certified == {a.user_id for a in team.members}
    assert roster_warnings(grids=grids) == []
    # The extra members are not logins: only the per-role accounts are in the list.
    assert len(accounts) == 8
    assert not User.objects.get(username="g00102-1").has_usable_password()
