"""The care pages: who may open which, the no-opinions note, keyed posts, village tasks."""

from __future__ import annotations

import pytest
from django.utils import timezone

from civicgrid.care import services
from civicgrid.care.models import Grievance, Visit
from civicgrid.care.tests.conftest import Care
from civicgrid.people.models import AccessLog

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("who", "url", "status"),
    [
        ("admin", "/care/field/", 200), ("admin", "/care/field/visit/", 200),
        ("admin", "/care/lists/", 200), ("village", "/care/village/", 200),
        ("health", "/care/lists/", 200), ("health", "/care/notices/", 200),
        ("health", "/care/campaigns/", 200), ("health", "/care/field/", 404),
        ("health", "/care/village/", 404), ("health", "/care/lists/?list=low_income", 404),
        ("dispatcher", "/care/lists/", 404), ("officer", "/care/field/", 404),
    ],
)  # fmt: skip
def test_who_opens_which_page(care: Care, who: str, url: str, status: int) -> None:
    assert care.client(getattr(care, who)).get(url).status_code == status


def test_the_visit_form_says_no_opinions_or_beliefs_in_both_languages(care: Care) -> None:
    client = care.client(care.admin)
    assert "Never record opinions, beliefs" in client.get("/care/field/visit/").content.decode()
    zh = client.get("/care/field/visit/", headers={"accept-language": "zh-hans"})
    assert "不记录" in zh.content.decode()


def test_a_keyed_visit_post_is_stored_once(care: Care) -> None:
    client = care.client(care.admin)
    form = {"house": "H001", "visited_on": str(timezone.localdate()), "asked": "咨询",
            "kind": "routine"}  # fmt: skip
    headers = {"Idempotency-Key": "phone-1", "Accept": "application/json"}
    first = client.post("/care/field/visit/", form, headers=headers)
    again = client.post("/care/field/visit/", form, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200) and Visit.objects.count() == 1


def test_the_village_officer_resolves_and_confirms_a_task(care: Care) -> None:
    services.visit_record(actor=care.admin, house="H001", visited_on=care.day,
                          grievance="垃圾堆放", grievance_route="village")  # fmt: skip
    task = Grievance.objects.get()
    client = care.client(care.village)
    client.post("/care/village/", {"task": task.pk, "action": "resolve", "result": "已清理"})
    client.post("/care/village/", {"task": task.pk, "action": "confirm",
                                   "confirmed_on": str(timezone.localdate())})  # fmt: skip
    task.refresh_from_db()
    assert task.state == "confirmed" and task.result == "已清理"


def test_the_health_list_page_logs_each_person_shown(care: Care) -> None:
    before = AccessLog.objects.count()
    page = care.client(care.health).get("/care/lists/?list=seniors")
    assert page.status_code == 200 and AccessLog.objects.count() == before + 1
    export = care.client(care.health).get("/care/lists/?list=children&export=1&purpose=接种")
    assert export["Content-Type"].startswith("text/csv")
    assert AccessLog.objects.count() == before + 3


def test_the_health_officer_lands_on_the_lists_with_them_in_the_menu(care: Care) -> None:
    home = care.client(care.health).get("/", follow=True)
    assert home.request["PATH_INFO"] == "/care/lists/"
    assert {"/care/lists/", "/care/campaigns/"} <= {link.url for link in home.context["menu"]}


def test_the_lists_page_in_chinese_names_changes_in_words(care: Care) -> None:
    client = care.client(care.admin)
    page = client.get("/care/lists/?list=children", headers={"accept-language": "zh-hans"})
    html = page.content.decode()
    assert "新增" in html and "aged_in" not in html and "0-6岁儿童" in html


def test_the_care_field_pages_have_the_field_service_worker_in_their_scope(care: Care) -> None:
    from django.test import Client

    worker = Client().get("/care/field/sw.js")
    assert worker["Content-Type"].startswith("text/javascript")
    assert "no-cache" in worker["Cache-Control"] or "max-age=0" in worker["Cache-Control"]
    script = worker.content.decode()
    assert "/field/offline/" in script and "care/visit.js" in script and "web/queue.js" in script
    for url in ("/care/field/", "/care/field/visit/"):
        page = care.client(care.admin).get(url).content.decode()
        assert 'data-sw="/care/field/sw.js"' in page and "web/queue.js" in page
