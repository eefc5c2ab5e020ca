"""The write pages of publicity and notices: who opens them, field errors in the user's
language, and a form sent twice stores one record (its idempotency key)."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from civicgrid.care import services
from civicgrid.care.models import Campaign, Distribution, HealthNotice, PublicityEvent
from civicgrid.care.tests.conftest import END, START, Care
from civicgrid.testing import jpeg

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("who", "url", "status"),
    [
        ("officer", "/care/campaigns/new/", 200), ("health", "/care/campaigns/new/", 200),
        ("dispatcher", "/care/campaigns/new/", 200), ("admin", "/care/campaigns/new/", 404),
        ("village", "/care/campaigns/new/", 404),
        ("admin", "/care/campaigns/{pk}/distribution/", 200),
        ("village", "/care/campaigns/{pk}/event/", 200),
        ("far_admin", "/care/campaigns/{pk}/distribution/", 404),
        ("health", "/care/campaigns/{pk}/distribution/", 404),
        ("officer", "/care/campaigns/{pk}/event/", 404),
        ("admin", "/care/notices/deliver/", 200), ("village", "/care/notices/deliver/", 200),
        ("health", "/care/notices/deliver/", 404), ("dispatcher", "/care/notices/deliver/", 404),
    ],
)  # fmt: skip
def test_who_opens_which_write_page(
    care: Care, campaign: Campaign, who: str, url: str, status: int
) -> None:
    client = care.client(getattr(care, who))
    assert client.get(url.format(pk=campaign.pk)).status_code == status


def test_a_campaign_form_names_the_field_in_the_users_language(care: Care) -> None:
    form = {"title": "防诈骗", "material": "", "starts_on": str(START), "ends_on": str(END),
            "grids": [care.grid.code], "idempotency_key": "c-1"}  # fmt: skip
    en = care.client(care.officer).post("/care/campaigns/new/", form)
    assert en.status_code == 422 and 'id="error-material"' in en.content.decode()
    assert "This field is required." in en.content.decode()
    assert 'value="防诈骗"' in en.content.decode()  # what was typed is kept
    form.update(material="海报", starts_on=str(END), ends_on=str(START))
    zh = care.client(care.officer).post(
        "/care/campaigns/new/", form, headers={"accept-language": "zh-hans"}
    )
    assert zh.status_code == 422 and 'id="error-ends_on"' in zh.content.decode()
    assert "宣传活动结束日期早于开始日期" in zh.content.decode()
    assert Campaign.objects.count() == 0


def test_a_campaign_form_sent_twice_stores_one_campaign(care: Care) -> None:
    form = {"title": "防诈骗", "material": "海报", "starts_on": str(START), "ends_on": str(END),
            "grids": [care.grid.code], "idempotency_key": "c-2"}  # fmt: skip
    client = care.client(care.officer)
    first = client.post("/care/campaigns/new/", form)
    again = client.post("/care/campaigns/new/", form)
    assert first.status_code == again.status_code == 302
    [saved] = Campaign.objects.all()
    assert saved.department.code == "URBAN" and [g.code for g in saved.grids.all()] == [
        care.grid.code
    ]
    other = client.post("/care/campaigns/new/", {**form, "title": "别的"})
    assert other.status_code == 422 and 'id="error-form"' in other.content.decode()
    assert Campaign.objects.count() == 1


def test_the_center_names_the_department_and_the_health_center_commissions_its_own(
    care: Care,
) -> None:
    form = {"title": "健康教育", "material": "手册", "starts_on": str(START),
            "ends_on": str(END), "grids": [care.grid.code]}  # fmt: skip
    refused = care.client(care.dispatcher).post("/care/campaigns/new/", form)
    assert refused.status_code == 422 and 'id="error-department"' in refused.content.decode()
    care.client(care.dispatcher).post("/care/campaigns/new/", {**form, "department": "URBAN"})
    care.client(care.health).post("/care/campaigns/new/", {**form, "title": "接种"})
    assert sorted(Campaign.objects.values_list("title", "department__code")) == [
        ("健康教育", "URBAN"), ("接种", "HEALTH"),
    ]  # fmt: skip


def test_a_distribution_with_a_photo_sent_twice_is_stored_once(
    care: Care, campaign: Campaign
) -> None:
    url = f"/care/campaigns/{campaign.pk}/distribution/"
    client = care.client(care.admin)
    form = {"grid": care.grid.code, "distributed_on": str(START), "quantity": "120",
            "place": "村口", "households_reached": "80", "idempotency_key": "d-1"}  # fmt: skip
    for _ in range(2):
        photo = SimpleUploadedFile("p.jpg", jpeg(), content_type="image/jpeg")
        assert client.post(url, {**form, "photos": photo}).status_code == 302
    [saved] = Distribution.objects.all()
    assert (saved.quantity, saved.households_reached, saved.recorded_by) == (120, 80, care.admin)
    [stored] = saved.photos.all()
    assert stored.photo.name.endswith(".jpg")
    bad = client.post(url, {**form, "quantity": "-3", "idempotency_key": "d-2"})
    assert bad.status_code == 422 and 'id="error-quantity"' in bad.content.decode()
    late = client.post(url, {**form, "distributed_on": "2026-04-01", "idempotency_key": "d-3"})
    assert 'id="error-distributed_on"' in late.content.decode()
    not_photo = SimpleUploadedFile("p.jpg", b"not an image", content_type="image/jpeg")
    refused = client.post(url, {**form, "photos": not_photo, "idempotency_key": "d-4"})
    assert refused.status_code == 422 and 'id="error-photos"' in refused.content.decode()
    assert Distribution.objects.count() == 1
    page = client.get("/care/campaigns/").content.decode()
    assert f"/care/campaigns/{campaign.pk}/distribution/" in page


def test_an_event_sent_twice_is_stored_once_and_names_its_fields(
    care: Care, campaign: Campaign
) -> None:
    url = f"/care/campaigns/{campaign.pk}/event/"
    client = care.client(care.village)
    form = {"grid": care.grid.code, "kind": "health_education", "title": "健康讲座",
            "held_on": str(START), "attendance": "35", "idempotency_key": "e-1"}  # fmt: skip
    assert client.post(url, form).status_code == 302
    assert client.post(url, form).status_code == 302
    assert PublicityEvent.objects.get().attendance == 35
    zh = client.post(url, {**form, "attendance": "很多", "idempotency_key": "e-2"},
                     headers={"accept-language": "zh-hans"})  # fmt: skip
    assert zh.status_code == 422 and 'id="error-attendance"' in zh.content.decode()
    assert "请填写整数" in zh.content.decode()
    assert PublicityEvent.objects.count() == 1


def test_a_notice_delivered_from_the_list_page_is_recorded_once(care: Care) -> None:
    client = care.client(care.admin)
    query = "list=children&kind=vaccination&round=2026-Q1"
    page = client.get(f"/care/notices/deliver/?{query}").content.decode()
    assert f'id="person-{care.toddler.pk}"' in page and care.toddler.full_name not in page
    form = {"person": care.toddler.pk, "list": "children", "kind": "vaccination",
            "round": "2026-Q1", "delivered_on": str(START), "idempotency_key": "n-1"}  # fmt: skip
    assert client.post("/care/notices/deliver/", form).status_code == 302
    assert client.post("/care/notices/deliver/", form).status_code == 302  # the retry
    [notice] = HealthNotice.objects.all()
    assert (notice.person_id, notice.delivered_on, notice.delivered_by) == (
        care.toddler.pk, START, care.admin
    )  # fmt: skip
    twice = client.post("/care/notices/deliver/", {**form, "idempotency_key": "n-2"})
    assert twice.status_code == 409 and "already delivered" in twice.content.decode()
    future = client.post("/care/notices/deliver/", {**form, "person": care.senior.pk,
                         "delivered_on": "2999-01-01", "idempotency_key": "n-3"})  # fmt: skip
    assert future.status_code == 422 and 'id="error-delivered_on"' in future.content.decode()
    shown = client.get(f"/care/notices/deliver/?{query}").content.decode()
    assert "2026-03-02 · walker" in shown
    assert HealthNotice.objects.count() == 1


def test_the_write_pages_are_in_the_care_menu(care: Care) -> None:
    def menu(user) -> set[str]:  # type: ignore[no-untyped-def]
        return {e.url for e in care.client(user).get("/care/campaigns/").context["menu"]}

    assert "/care/campaigns/new/" in menu(care.officer)
    assert "/care/campaigns/new/" in menu(care.health)
    assert "/care/notices/deliver/" in menu(care.admin)
    assert "/care/notices/deliver/" not in menu(care.health)
    assert "/care/notices/" in menu(care.health)


def test_the_write_pages_in_chinese_carry_no_english(care: Care, campaign: Campaign) -> None:
    from civicgrid.web.tests.zh_catalogue import english_on

    pages = {
        "officer": ["/care/campaigns/new/", "/care/campaigns/"],
        "admin": [f"/care/campaigns/{campaign.pk}/distribution/",
                  f"/care/campaigns/{campaign.pk}/event/", "/care/notices/deliver/",
                  "/care/campaigns/"],
    }  # fmt: skip
    found = {}
    for who, urls in pages.items():
        client = care.client(getattr(care, who))
        for url in urls:
            page = client.get(url, headers={"accept-language": "zh-hans"})
            assert page.status_code == 200
            found[f"{who} {url}"] = english_on(page.content.decode())
    assert all(not texts for texts in found.values()), found


@pytest.mark.parametrize(
    ("language", "label"),
    [("en", "{village} grid 01 (441900 123 001 01)"),
     ("zh-hans", "{village} 第01网格 (441900 123 001 01)")],
)  # fmt: skip
def test_the_campaign_page_names_each_grid_as_people_do(
    care: Care, campaign: Campaign, language: str, label: str
) -> None:
    """Coverage, distribution and event rows all show the grid's name, not its bare code
    and not an empty cell, in the viewer's language."""
    services.distribution_record(campaign=campaign, actor=care.admin, grid=care.grid.code,
                                 distributed_on=START, quantity=120, place="村口",
                                 households_reached=80)  # fmt: skip
    services.event_record(campaign=campaign, actor=care.village, grid=care.grid.code,
                          kind="health_education", title="健康讲座", held_on=START,
                          attendance=35)  # fmt: skip
    for who in ("health", "admin"):
        page = care.client(getattr(care, who)).get(
            f"/care/campaigns/{campaign.pk}/", headers={"accept-language": language}
        )
        assert page.status_code == 200
        html = page.content.decode()
        cells = re.findall(r'<td data-label="(?:Grid|网格)"[^>]*>([^<]*)</td>', html)
        expected = label.format(village=care.grid.village.name)
        assert cells == [expected] * 3, cells  # coverage, the distribution, the event
        listed = care.client(getattr(care, who)).get(
            "/care/campaigns/", headers={"accept-language": language}
        )
        assert expected in listed.content.decode()
