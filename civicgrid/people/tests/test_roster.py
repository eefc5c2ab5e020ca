import datetime as dt

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone, translation

from civicgrid.geo.selectors import active_grids
from civicgrid.people.models import GridAssignment, Position, Role, WorkPermit
from civicgrid.people.selectors import grid_teams, roster_warnings
from civicgrid.people.tests.conftest import actor_for, certify, place

pytestmark = pytest.mark.django_db


def _full_team(world, make_staff):
    """A healthy team on world.grid: leader, deputy and 5 administrators in all."""
    leader = make_staff("leader", Role.GRID_LEADER)
    deputy = make_staff("deputy", Role.DEPUTY_GRID_LEADER)
    place(leader, world.grid, Position.LEADER)
    place(deputy, world.grid, Position.DEPUTY)
    for n in range(2):  # member and leaver are already on the grid
        place(make_staff(f"admin{n}", Role.GRID_ADMINISTRATOR), world.grid, Position.ADMINISTRATOR)


def _warnings_for(world):
    grid = active_grids().filter(pk=world.grid.pk)
    return [w.code for w in roster_warnings(grids=grid)]


def test_short_team_without_leader_and_deputy_is_warned(world):
    assert sorted(_warnings_for(world)) == ["deputy", "leader", "team_size"]


def test_full_certified_team_has_no_warnings(world, make_staff):
    _full_team(world, make_staff)
    [team] = grid_teams(active_grids().filter(pk=world.grid.pk))
    assert team.team_size == 5
    assert team.warnings == []


def test_oversized_team_from_before_the_rule_and_two_leaders_are_warned(world, make_staff):
    _full_team(world, make_staff)
    for n in range(3):
        # Written around the service, as data from before the size rule would be.
        extra = make_staff(f"extra{n}", Role.GRID_ADMINISTRATOR)
        certify(extra)
        GridAssignment.objects.create(
            user=extra, grid=world.grid, position=Position.ADMINISTRATOR,
            starts_on=timezone.localdate(),
        )  # fmt: skip
    place(make_staff("leader2", Role.GRID_LEADER), world.grid, Position.LEADER)
    assert sorted(_warnings_for(world)) == ["leader", "team_size"]


def test_member_whose_permit_expired_is_warned(world, make_staff):
    _full_team(world, make_staff)
    WorkPermit.objects.filter(user=world.member).update(
        expires_on=timezone.localdate() - dt.timedelta(days=1)
    )
    grid = active_grids().filter(pk=world.grid.pk)
    [warning] = roster_warnings(grids=grid)
    assert warning.code == "certification"
    assert "member" in warning.message


def test_roster_check_exits_1_on_warnings(world, capsys):
    with pytest.raises(SystemExit) as exited:
        call_command("roster_check", "--township", "441900123")
    assert exited.value.code == 1
    captured = capsys.readouterr()
    assert "44190012300101\tteam_size" in captured.out
    assert "4 grids checked" in captured.err


def test_roster_check_passes_a_healthy_grid(world, make_staff, capsys):
    _full_team(world, make_staff)
    call_command("roster_check", "--grid", world.grid.code)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "1 grids checked, 0 warnings" in captured.err


def test_roster_page_shows_the_leaders_grid_in_both_languages(world, make_staff):
    leader = actor_for(world, Role.GRID_LEADER, "own")
    client = Client()
    client.force_login(leader)
    for language, title in (("en", "Roster health"), ("zh-hans", "网格人员名册检查")):
        client.cookies["django_language"] = language
        page = client.get("/people/roster/")
        assert page.status_code == 200
        body = page.content.decode()
        assert title in body
        assert f'data-grid="{world.grid.code}"' in body
        assert world.far.code not in body
        # Shown by name: village, number and the spaced code, in the page's language.
        with translation.override(language):
            assert world.grid.label in body


def test_roster_page_needs_login(world):
    response = Client().get("/people/roster/")
    assert response.status_code == 302
