import pytest

from civicgrid.people import scopes
from civicgrid.people.models import Role
from civicgrid.people.tests.conftest import actor_for

pytestmark = pytest.mark.django_db


def _codes(user):
    return sorted(scopes.grids_visible_to(user).values_list("code", flat=True))


def test_administrator_sees_only_the_grid_served(world):
    assert _codes(world.member) == [world.grid.code]


def test_village_officer_sees_the_village(world):
    officer = actor_for(world, Role.VILLAGE_OFFICER, "own")
    assert _codes(officer) == ["44190012300101", "44190012300102"]


def test_dispatcher_sees_the_township_and_not_the_next(world):
    dispatcher = actor_for(world, Role.DISPATCHER, "own")
    codes = _codes(dispatcher)
    assert len(codes) == 4 and all(c.startswith("441900123") for c in codes)


def test_department_sees_no_grid_and_no_colleague(world):
    officer = actor_for(world, Role.DEPARTMENT_OFFICER, "own")
    assert _codes(officer) == []
    assert list(scopes.staff_visible_to(officer)) == [officer]


def test_system_administrator_sees_every_township(world):
    admin = actor_for(world, Role.SYSTEM_ADMINISTRATOR, "none")
    assert len(_codes(admin)) == 8


def test_leader_sees_the_team_but_an_administrator_only_self(world):
    leader = actor_for(world, Role.GRID_LEADER, "own")
    team = set(scopes.staff_visible_to(leader).values_list("username", flat=True))
    assert {"member", "leaver", leader.username} <= team
    assert "candidate" not in team
    assert list(scopes.staff_visible_to(world.member)) == [world.member]


def test_ended_assignment_leaves_the_scope(world):
    from civicgrid.people.services import grid_assignment_end

    leaver = world.leaver.user
    assert _codes(leaver) == [world.grid.code]
    grid_assignment_end(assignment=world.leaver, actor=None)
    # Ends today, inclusive: still on duty today, gone tomorrow.
    assert scopes.current_assignments().filter(pk=world.leaver.pk).exists()


def test_inactive_user_sees_nothing(world):
    world.member.is_active = False
    world.member.save()
    assert _codes(world.member) == []


def test_out_of_scope_grid_answers_404_not_403(world):
    from django.test import Client

    client = Client()
    client.force_login(world.member)
    response = client.get(f"/api/v1/people/grids/{world.far.code}/team")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    missing = client.get("/api/v1/people/grids/44190012399999/team")
    assert missing.json() == response.json() | {"message": missing.json()["message"]}


def test_only_an_account_with_the_health_officers_role_alone_is_the_health_center():
    from civicgrid.people.models import User

    def user(*roles, active=True, superuser=False):
        made = User(username="u", is_active=active, is_superuser=superuser)
        made._role_codes = frozenset(roles)
        return made

    health = Role.HEALTH_OFFICER
    assert scopes.health_center_only(user(health))
    assert not scopes.health_center_only(user())
    assert not scopes.health_center_only(user(health, active=False))
    assert not scopes.health_center_only(user(health, superuser=True))
    for other in Role.values:
        if other != health:
            assert not scopes.health_center_only(user(health, other)), other
            assert not scopes.health_center_only(user(other)), other
