"""Every role lands on the page of its work and every page of its menu opens."""

from __future__ import annotations

import pytest
from django.test import Client

from civicgrid.cases.tests.conftest import Loop, loop, place, staff  # noqa: F401  (fixture)
from civicgrid.core.menus import MenuEntry
from civicgrid.people.models import Position, Role, User
from civicgrid.web import menus


def personas(loop: Loop) -> dict[str, User]:  # noqa: F811
    leader = staff("leader1", Role.GRID_LEADER)
    place(leader, loop.grid, Position.LEADER)
    deputy = staff("deputy1", Role.DEPUTY_GRID_LEADER)
    place(deputy, loop.grid, Position.DEPUTY)
    supervisor = staff("super1", Role.SUPERVISOR, township=loop.township)
    root = User.objects.create_superuser("root", password="a-long-test-password")
    return {
        "grid_admin": loop.admin,
        "grid_leader": leader,
        "deputy_leader": deputy,
        "village_officer": loop.village_officer,
        "dispatcher": loop.dispatcher,
        "department_officer": loop.officer,
        "assessor": loop.assessor,
        "supervisor": supervisor,
        "system_admin": root,
    }


HOMES = {
    "grid_admin": "/field/",
    "grid_leader": "/field/",
    "deputy_leader": "/field/",
    "village_officer": "/village/",
    "dispatcher": "/center/",
    "department_officer": "/dept/",
    "assessor": "/assess/",
    "supervisor": "/evaluation/",
    "system_admin": "/",
}
# Pages each role must find in its menu (the dead ends among them).
MUST_OFFER = {
    "grid_admin": {
        "/field/",
        "/registry/",
        "/patrol/field/",
        "/patrol/month/",
        "/inbox/",
        "/evaluation/",
    },
    "grid_leader": {
        "/field/",
        "/registry/",
        "/people/roster/",
        "/patrol/month/",
        "/evaluation/",
        "/patrol/exemptions/",
        "/patrol/schedules/",
    },
    "village_officer": {
        "/village/",
        "/registry/",
        "/people/roster/",
        "/evaluation/",
        "/patrol/month/",
    },
    "dispatcher": {
        "/center/",
        "/center/intake/",
        "/registry/",
        "/patrol/live/",
        "/evaluation/",
        "/patrol/month/",
    },
    "department_officer": {"/dept/", "/inbox/", "/evaluation/"},
    "assessor": {"/assess/", "/center/"},
    "supervisor": {
        "/center/",
        "/people/roster/",
        "/people/access-log/",
        "/registry/",
        "/evaluation/",
        "/patrol/month/",
        "/patrol/exemptions/",
        "/patrol/schedules/",
    },
    "system_admin": {"/admin/", "/divisions/", "/people/access-log/", "/registry/"},
}


@pytest.mark.django_db
def test_every_role_lands_on_its_work_and_opens_every_page_of_its_menu(loop: Loop) -> None:  # noqa: F811
    for role, user in personas(loop).items():
        client = Client(headers={"accept-language": "en"})
        client.force_login(user)
        home = client.get("/", follow=True)
        assert home.request["PATH_INFO"] == HOMES[role], role
        assert home.status_code == 200
        links = [link.url for link in home.context["menu"]]
        assert MUST_OFFER.get(role, set()) <= set(links), (role, links)
        html = home.content.decode()
        assert "/api/v1/docs" not in html, role
        assert "张三" in html or user.username in html
        assert "Log out" in html
        for url in links:
            page = client.get(url)
            assert page.status_code == 200, (role, url, page.status_code)


@pytest.mark.django_db
def test_a_resident_is_sent_from_the_front_page_to_the_portal() -> None:
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == "/public/"


@pytest.mark.django_db
def test_the_login_sends_each_role_home(loop: Loop) -> None:  # noqa: F811
    user = loop.officer
    user.set_password("a-long-test-password")
    user.save()
    response = Client().post(
        "/accounts/login/", {"username": user.username, "password": "a-long-test-password"}
    )
    assert response["Location"] == "/dept/"


def test_menu_entries_have_unique_keys_and_resolvable_urls() -> None:
    found = menus.entries()
    assert all(isinstance(e, MenuEntry) for e in found)
    assert len({e.key for e in found}) == len(found)
    keys = {e.key for e in found}
    assert {"center", "registry", "roster", "access-log", "patrol"} <= keys
