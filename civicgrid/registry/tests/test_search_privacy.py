"""Searching or filtering persons by a personal field is a read of it (issue 13, finding 1).

The attack: a dispatcher, who may not reveal, recovered an ID number by trying the hidden
birth dates through ``q=`` (exact match answered 1 or 0 persons), a name letter by letter,
and the disabled / pregnant / low-income residents through ``tag=``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from civicgrid.people.models import AccessLog
from civicgrid.people.privacy import mask_id_number
from civicgrid.registry import services
from civicgrid.registry.tests.conftest import resident, resident_id
from civicgrid.registry.tests.test_api import client_for

BIRTH = dt.date(1950, 3, 4)
ID_NUMBER = resident_id(BIRTH)
HEALTH_TAGS = ["disability", "pregnant", "low_income", "living_alone", "widowed", "orphaned",
               "special_needs"]  # fmt: skip


@pytest.fixture
def person(cast, house):
    return resident(disability=True, low_income=True)


def persons(user, **params) -> tuple[int, dict]:
    response = client_for(user).get("/api/v1/registry/persons", params)
    return response.status_code, response.json()


def test_dispatcher_cannot_confirm_guessed_birth_dates_of_an_id_number(cast, person):
    masked = mask_id_number(ID_NUMBER)
    assert BIRTH.strftime("%Y%m%d") not in masked and masked[-1] == "*"
    answers = set()
    for day in range(1, 8):
        guess = ID_NUMBER[:6] + BIRTH.replace(day=day).strftime("%Y%m%d") + ID_NUMBER[14:]
        status, body = persons(cast.dispatcher, q=guess)
        answers.add((status, body["error"], body["field"]))
    # The right guess and the wrong ones get the same refusal: nothing to tell them apart.
    assert answers == {(403, "forbidden", "q")}
    assert not AccessLog.objects.exists()


def test_dispatcher_cannot_find_a_name_by_substring(cast, person):
    for guess in ("赵", "六", "赵六"):
        status, body = persons(cast.dispatcher, q=guess)
        assert status == 403 and body["field"] == "q"
        assert "name or ID number" in body["message"]


@pytest.mark.parametrize("tag", HEALTH_TAGS)
def test_roles_without_reveal_cannot_filter_by_health_tags(cast, person, tag):
    for user in (cast.dispatcher, cast.department):
        status, body = persons(user, tag=tag)
        assert status == 403 and body == {
            "error": "forbidden",
            "message": body["message"],
            "field": "tag",
        }
    assert not AccessLog.objects.exists()


def test_age_tags_and_house_code_stay_open_and_unlogged(cast, person):
    for params in ({"tag": "senior"}, {"house": "H001"}, {"grid": cast.grid.code}):
        status, body = persons(cast.dispatcher, **params)
        assert status == 200 and [i["id"] for i in body["items"]] == [person.pk], params
    status, body = persons(cast.dispatcher, tag="child")
    assert status == 200 and body["items"] == []
    assert not AccessLog.objects.exists()


def test_unknown_tag_is_refused_naming_the_field(cast, person):
    status, body = persons(cast.admin, tag="rich")
    assert status == 422 and body["field"] == "tag" and "rich" in body["message"]


def test_id_number_matches_only_in_full(cast, person):
    assert persons(cast.admin, q=ID_NUMBER)[1]["page"]["total"] == 1
    assert persons(cast.admin, q=ID_NUMBER.lower())[1]["page"]["total"] == 1
    for partial in (ID_NUMBER[:14], ID_NUMBER[6:14], ID_NUMBER[:-1], ID_NUMBER[:17] + "%"):
        assert persons(cast.admin, q=partial)[1]["page"]["total"] == 0, partial


def test_a_permitted_search_is_logged_per_person_returned(cast, person):
    other = services.person_create(
        values={"full_name": "赵七", "id_number": resident_id(BIRTH, seq=3), "house": "H001"},
        actor=None,
    )
    status, body = persons(cast.admin, q="赵")
    assert status == 200 and {i["id"] for i in body["items"]} == {person.pk, other.pk}
    [row] = AccessLog.objects.all()
    assert row.actor == cast.admin and row.channel == "search"
    assert sorted(row.record_ids) == sorted([person.pk, other.pk])
    assert row.fields == ["full_name", "id_number"]
    assert "赵" not in row.purpose  # the searched value is never stored


def test_a_permitted_tag_filter_is_logged_with_the_tag_field(cast, person):
    status, body = persons(cast.village_officer, tag="low_income")
    assert status == 200 and [i["id"] for i in body["items"]] == [person.pk]
    [row] = AccessLog.objects.all()
    assert row.record_ids == [person.pk] and row.fields == ["low_income"]
    persons(cast.village_officer, tag="pregnant")  # nobody returned: nothing read, nothing logged
    assert AccessLog.objects.count() == 1


def test_only_the_returned_page_is_logged(cast, person):
    for n in range(3):
        services.person_create(
            values={"full_name": f"赵{n}", "id_number": resident_id(BIRTH, seq=5 + 2 * n),
                    "house": "H001"},
            actor=None,
        )  # fmt: skip
    body = persons(cast.admin, q="赵", limit=2, offset=1)[1]
    [row] = AccessLog.objects.all()
    assert body["page"]["total"] == 4
    assert sorted(row.record_ids) == sorted(i["id"] for i in body["items"])


def _page(user, query: str, language: str = "en"):
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client.get(f"/registry/persons/?{query}")


def test_web_list_refuses_name_search_and_health_tags_with_the_reason(cast, person):
    for query, wanted in (("q=赵", "name or ID number"), ("tag=disability", "health or welfare")):
        page = _page(cast.dispatcher, query)
        assert page.status_code == 403
        assert wanted in page.content.decode()
    refused = _page(cast.dispatcher, "tag=pregnant", "zh-hans").content.decode()
    assert "健康" in refused


def test_web_list_offers_personal_search_only_to_roles_that_may_reveal(cast, person):
    dispatcher_page = _page(cast.dispatcher, "").content.decode()
    assert 'name="q"' not in dispatcher_page and 'value="disability"' not in dispatcher_page
    assert 'value="senior"' in dispatcher_page and 'name="house"' in dispatcher_page
    admin_page = _page(cast.admin, "q=赵六")
    assert admin_page.status_code == 200 and 'name="q"' in admin_page.content.decode()
    [row] = AccessLog.objects.all()
    assert row.record_ids == [person.pk] and row.channel == "search"


def test_house_and_legal_person_searches_never_match_owners_or_representatives(cast, house):
    services.legal_person_create(
        values={"name": "东村小卖部", "kind": "individual", "house": "H001",
                "credit_code": "91350100M000100Y43", "industry": "retail",
                "representative_name": "钱八", "representative_phone": "13700001111"},
        actor=None,
    )  # fmt: skip
    client = client_for(cast.dispatcher)
    for path, owner in (("houses", "王五"), ("houses", "13812345678"),
                        ("legal-persons", "钱八"), ("legal-persons", "13700001111")):  # fmt: skip
        body = client.get(f"/api/v1/registry/{path}", {"q": owner}).json()
        assert body["page"]["total"] == 0, (path, owner)
    assert (
        client.get("/api/v1/registry/legal-persons", {"q": "小卖部"}).json()["page"]["total"] == 1
    )
