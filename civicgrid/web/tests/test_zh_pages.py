"""The main pages rendered in zh-Hans carry no English message of our catalogue and no
raw enum code."""

from __future__ import annotations

import datetime as dt
from pprint import pformat

import pytest
from django.test import Client

from civicgrid.care.tests.conftest import care  # noqa: F401  (fixture)
from civicgrid.cases.tests.conftest import Loop, loop  # noqa: F401  (fixture)
from civicgrid.evaluation import services as evaluation
from civicgrid.people.models import User
from civicgrid.registry import services
from civicgrid.registry.tests.conftest import IN_GRID, cast, house_values, resident_id  # noqa: F401
from civicgrid.web.tests.test_navigation import personas
from civicgrid.web.tests.zh_catalogue import english_on, shown_texts


def chinese(user: User | None = None) -> Client:
    client = Client(headers={"accept-language": "zh-hans"})
    if user is not None:
        client.force_login(user)
    return client


def test_the_check_finds_english_messages_and_raw_codes() -> None:
    page = (
        "<main><h1>网格</h1><option>Exposed garbage</option><td>resident_id</td>"
        "<p>还剩 3 working days</p><span>CivicGrid</span><span>441900123</span></main>"
    )
    found = english_on(page)
    assert "Exposed garbage" in found
    assert "resident_id" in found
    assert any("working day" in f for f in found)
    assert not any("CivicGrid" in f or "441900" in f for f in found)
    assert shown_texts('<input placeholder="Search">') == ["Search"]


@pytest.mark.django_db
def test_main_pages_in_chinese_have_no_english_from_the_catalogue(loop: Loop) -> None:  # noqa: F811
    case = loop.case_in("dispatched")
    reported = loop.resident_case_closed()
    pages: dict[str, list[str]] = {}
    anonymous = chinese()
    tracked = f"/public/c/{reported.case.number}/{reported.follow_token}/"
    for url in ("/public/", "/public/report/", "/public/track/", "/public/cases/",
                "/public/map/", tracked):  # fmt: skip
        pages[url] = english_on(anonymous.get(url, follow=True).content.decode())
    for role, user in personas(loop).items():
        client = chinese(user)
        home = client.get("/", follow=True)
        urls = [link.url for link in home.context["menu"]]
        for url in urls:
            if url.startswith("/admin/"):
                continue
            pages[f"{role} {url}"] = english_on(client.get(url).content.decode())
    sections = {"dispatcher": "center", "department_officer": "dept", "grid_admin": "field"}
    for role, section in sections.items():
        client = chinese(personas_cache(loop)[role])
        url = f"/{section}/cases/{case.number}/"
        pages[f"{role} {url}"] = english_on(client.get(url).content.decode())
    found = {page: texts for page, texts in pages.items() if texts}
    assert not found, pformat(found, width=200)


def personas_cache(loop: Loop) -> dict[str, User]:  # noqa: F811
    return {"dispatcher": loop.dispatcher, "department_officer": loop.officer,
            "grid_admin": loop.admin}  # fmt: skip


@pytest.mark.django_db
def test_registry_and_access_log_pages_in_chinese_have_no_english(cast) -> None:  # noqa: F811
    house = services.house_create(values=house_values(), actor=cast.admin)
    person = services.person_create(
        values={"full_name": "赵六", "id_number": resident_id(dt.date(1950, 3, 4)),
                "phone": "13912345678", "house": "H001", "registration_type": "migrant"},
        actor=cast.admin,
    )  # fmt: skip
    legal = services.legal_person_create(
        values={"name": "好味餐馆", "credit_code": "91350100M000100Y43", "kind": "individual",
                "representative_name": "钱七", "house": "H001", "industry": "catering",
                "licences": "business|L1|市场监管局|;catering|C1|市场监管局|2020-01-01"},
        actor=cast.admin,
    )  # fmt: skip
    component = services.component_create(
        values={"identifier": "4419000112000001", "lon": IN_GRID[0], "lat": IN_GRID[1]},
        actor=cast.admin,
    )
    services.house_update(house=house, values={"address": "H001 西村路"}, actor=cast.admin)
    admin = chinese(cast.admin)
    admin.post(f"/registry/persons/{person.pk}/", {"purpose": "走访"})
    pages = {}
    for kind, record in (("houses", house), ("persons", person), ("legal-persons", legal),
                         ("components", component)):  # fmt: skip
        for url in (f"/registry/{kind}/", f"/registry/{kind}/{record.pk}/",
                    f"/registry/{kind}/new/"):  # fmt: skip
            pages[url] = english_on(admin.get(url).content.decode())
    for url in ("/registry/", "/registry/licences/", "/registry/import/"):
        pages[url] = english_on(admin.get(url).content.decode())
    pages["access log"] = english_on(chinese(cast.root).get("/people/access-log/").content.decode())
    found = {page: texts for page, texts in pages.items() if texts}
    assert not found, pformat(found, width=200)


@pytest.mark.django_db
def test_care_evaluation_and_patrol_pages_in_chinese_have_no_english(care) -> None:  # noqa: F811
    """The field-work apps' pages beyond the menu: every service list, a visit form for a
    house, notices, campaigns, evaluation at grid level, a route replay."""
    evaluation.figures_refresh()
    pages: dict[str, list[str]] = {}
    walker, health, dispatcher = chinese(care.admin), chinese(care.health), chinese(care.dispatcher)
    for client, url in ((walker, "/care/field/"), (walker, "/care/field/visit/"),
                        (walker, f"/care/field/visit/?house={care.house.code}"),
                        (walker, "/patrol/field/"), (chinese(care.village), "/care/village/"),
                        (health, "/care/notices/"), (health, "/care/campaigns/"),
                        (dispatcher, f"/patrol/tracks/{care.admin.username}/")):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        pages[url] = english_on(response.content.decode())
    first = health.get("/care/lists/")
    for code, _label in first.context["lists"]:
        url = f"/care/lists/?list={code}"
        pages[url] = english_on(health.get(url).content.decode())
    pages["/evaluation/"] = english_on(dispatcher.get("/evaluation/").content.decode())
    found = {page: texts for page, texts in pages.items() if texts}
    assert not found, pformat(found, width=200)
