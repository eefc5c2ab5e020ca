"""The staff lists, the roster and the access log, API and pages, answer in as many
statements for 100 staff and log rows as for 10 (issue 20)."""

from __future__ import annotations

from django.test import Client

from civicgrid.cases.tests.test_api import client_for
from civicgrid.geo.models import Grid
from civicgrid.people import services
from civicgrid.people.models import Position, Role
from civicgrid.people.privacy import Channel, personal_data_read
from civicgrid.people.tests.conftest import World, actor_for, place
from civicgrid.testing import assert_flat, measured


def _staff(world: World, start: int, stop: int, placed: int) -> None:
    """Staff ``start`` to ``stop - 1`` of the township (village and department officers),
    ``placed`` of them administrators spread over its four grids; each reads a colleague's
    personal data once (one access-log row each)."""
    grids = list(Grid.objects.filter(division__status="active", code__startswith="441900123"))
    for i in range(start, stop):
        if i - start < placed:
            user = services.staff_create(username=f"admin{i:03d}", full_name="王五",
                                         roles=[Role.GRID_ADMINISTRATOR], actor=None)  # fmt: skip
            place(user, grids[i % len(grids)], Position.ADMINISTRATOR)
        elif i % 2:
            user = services.staff_create(username=f"village{i:03d}", full_name="王五",
                                         roles=[Role.VILLAGE_OFFICER], actor=None,
                                         village=world.grid.village)  # fmt: skip
        else:
            user = services.staff_create(username=f"dept{i:03d}", full_name="王五",
                                         roles=[Role.DEPARTMENT_OFFICER], actor=None,
                                         department=world.department)  # fmt: skip
        personal_data_read(actor=user, records=[world.member], purpose=f"核对 {i}",
                           channel=Channel.REVEAL)  # fmt: skip


def test_people_lists_answer_in_as_many_statements_for_100_rows_as_for_10(world: World) -> None:
    supervisor = actor_for(world, Role.SUPERVISOR, "own")
    leader = actor_for(world, Role.GRID_LEADER, "own")
    api, leader_api = client_for(supervisor), client_for(leader)
    page, leader_page = Client(), Client()
    page.force_login(supervisor)
    leader_page.force_login(leader)
    urls = [
        (api, "/api/v1/people/staff"),
        (api, "/api/v1/people/staff?purpose=核对"),
        (api, "/api/v1/people/access-log?limit=1000"),
        (api, f"/api/v1/people/grids/{world.grid.code}/team"),
        (leader_api, "/api/v1/people/staff"),
        (page, "/people/roster/"),
        (page, "/people/access-log/"),
        (leader_page, "/people/roster/"),
    ]

    def measure() -> dict[str, list[str]]:
        return {f"{id(c)} {url}": measured(c, url) for c, url in urls}

    _staff(world, 0, 10, placed=4)
    few = measure()
    _staff(world, 10, 100, placed=12)
    many = measure()
    assert len(api.get("/api/v1/people/staff").json()) >= 100
    assert len(api.get("/api/v1/people/access-log?limit=1000").json()) >= 100
    assert_flat(few, many)
