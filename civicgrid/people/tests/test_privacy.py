import json

import pytest
from django.contrib.admin.sites import site
from django.test import Client

from civicgrid.people.models import AccessLog, AppendOnlyError, Role
from civicgrid.people.privacy import (
    PERSONAL_FIELDS,
    Channel,
    Kind,
    mask_id_number,
    mask_name,
    mask_phone,
    masked_values,
    personal_data_read,
)
from civicgrid.people.tests.conftest import World, actor_for

pytestmark = pytest.mark.django_db

NAME, PHONE = "李四", "13900001111"  # world.member's personal data


def test_phone_mask_keeps_three_and_four_digits():
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone("02088886666") == "020****6666"
    assert mask_phone("12345") == "***45"


def test_name_mask_keeps_the_surname_character():
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("张") == "张*"
    assert mask_name("") == ""


def test_id_number_mask_hides_birth_date_and_check_character():
    # The check character would let anyone confirm guessed birth dates offline.
    assert mask_id_number("11010519491231002X") == "110105********002*"
    assert mask_id_number("110105491231002") == "110105******002"


def test_personal_fields_are_classified_in_one_table():
    assert PERSONAL_FIELDS["people.User"] == {"full_name": Kind.NAME, "phone": Kind.PHONE}


def _leader(world: World):
    return actor_for(world, Role.GRID_LEADER, "own")


def _assert_one_row_without_values(before: int, world: World, channel: str) -> AccessLog:
    rows = list(AccessLog.objects.all())
    assert len(rows) == before + 1
    row = rows[0]
    assert row.channel == channel
    # The record ids are numbers the database chose: one of them may well read 1111, the
    # phone's last four digits (it did on PostgreSQL, whose sequences a rolled-back test
    # does not reset). They are checked to be ids; the texts to hold no value.
    assert all(isinstance(pk, int) for pk in row.record_ids)
    assert PHONE not in json.dumps(row.record_ids)
    stored = json.dumps([row.model, row.fields, row.purpose, row.channel], ensure_ascii=False)
    assert NAME not in stored and PHONE not in stored and PHONE[-4:] not in stored
    return row


def test_reveal_through_the_api_writes_exactly_one_row_without_values(world):
    leader = _leader(world)
    client = Client()
    client.force_login(leader)
    before = AccessLog.objects.count()
    response = client.post(
        f"/api/v1/people/staff/{world.member.pk}/reveal",
        {"purpose": "call about a fallen tree"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["values"] == {"full_name": NAME, "phone": PHONE}
    row = _assert_one_row_without_values(before, world, "reveal")
    assert row.actor == leader
    assert row.record_ids == [world.member.pk]
    assert row.fields == ["full_name", "phone"]
    assert row.purpose == "call about a fallen tree"


def test_unmasked_list_writes_one_row_for_the_whole_list(world):
    leader = _leader(world)
    client = Client()
    client.force_login(leader)
    before = AccessLog.objects.count()
    response = client.get("/api/v1/people/staff", {"purpose": "weekly call round"})
    assert response.status_code == 200
    listed = {row["username"]: row for row in response.json()}
    assert listed["member"]["phone"] == PHONE
    row = _assert_one_row_without_values(before, world, "list")
    assert set(row.record_ids) == {u["id"] for u in response.json()}


def test_masked_reads_write_no_row_and_show_no_values(world):
    leader = _leader(world)
    client = Client()
    client.force_login(leader)
    before = AccessLog.objects.count()
    for url in (
        "/api/v1/people/staff",
        f"/api/v1/people/staff/{world.member.pk}",
        f"/api/v1/people/grids/{world.grid.code}/team",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert PHONE not in body and NAME not in body, url
        assert "139****1111" in body, url
    assert AccessLog.objects.count() == before


def test_admin_change_form_writes_one_row(world, make_staff):
    admin_user = make_staff("root", Role.SYSTEM_ADMINISTRATOR)
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client = Client()
    client.force_login(admin_user)
    before = AccessLog.objects.count()
    listing = client.get("/admin/people/user/")
    assert listing.status_code == 200
    assert NAME not in listing.content.decode()
    assert AccessLog.objects.count() == before
    response = client.get(f"/admin/people/user/{world.member.pk}/change/")
    assert response.status_code == 200
    row = _assert_one_row_without_values(before, world, "detail")
    assert row.record_ids == [world.member.pk]


def test_reveal_needs_a_purpose_and_known_fields(world):
    client = Client()
    client.force_login(_leader(world))
    url = f"/api/v1/people/staff/{world.member.pk}/reveal"
    missing = client.post(url, {"purpose": " "}, content_type="application/json")
    assert missing.status_code == 422
    assert missing.json()["field"] == "purpose"
    unknown = client.post(
        url, {"purpose": "x", "fields": ["password"]}, content_type="application/json"
    )
    assert unknown.status_code == 422
    assert unknown.json()["field"] == "fields"
    assert AccessLog.objects.count() == 0


def test_reveal_is_refused_to_a_role_without_need(world):
    client = Client()
    client.force_login(actor_for(world, Role.GRID_ADMINISTRATOR, "own"))
    response = client.post(
        f"/api/v1/people/staff/{world.member.pk}/reveal",
        {"purpose": "curious"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert AccessLog.objects.count() == 0


def test_access_log_cannot_be_changed_or_deleted(world):
    personal_data_read(
        actor=world.member, records=[world.member], purpose="own data", channel=Channel.DETAIL
    )
    row = AccessLog.objects.get()
    row.purpose = "something else"
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.filter(pk=row.pk).update(purpose="rewritten")
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.all().delete()
    assert AccessLog.objects.get().purpose == "own data"


def test_access_log_admin_is_read_only(rf, world):
    model_admin = site._registry[AccessLog]
    request = rf.get("/")
    request.user = world.member
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_supervisor_page_lists_the_log(world):
    leader = _leader(world)
    personal_data_read(
        actor=leader, records=[world.member], purpose="hand over keys", channel=Channel.REVEAL
    )
    supervisor = actor_for(world, Role.SUPERVISOR, "own")
    client = Client()
    client.force_login(supervisor)
    client.cookies["django_language"] = "en"
    page = client.get("/people/access-log/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Personal data access log" in body and "hand over keys" in body
    assert PHONE not in body
    outsider = Client()
    outsider.force_login(leader)
    assert outsider.get("/people/access-log/").status_code == 404


def test_masked_values_of_a_user(world):
    assert masked_values(world.member) == {"full_name": "李*", "phone": "139****1111"}


def test_supervisor_sees_the_system_administrators_and_former_staffs_reads(world, make_staff):
    supervisor = actor_for(world, Role.SUPERVISOR, "own")
    root = make_staff("root", Role.SYSTEM_ADMINISTRATOR)
    superuser = make_staff("superuser")
    superuser.is_superuser = True
    superuser.save()
    leaver = world.leaver.user
    world.leaver.ends_on = world.leaver.starts_on
    world.leaver.save()
    foreign_officer = actor_for(world, Role.VILLAGE_OFFICER, "other")
    foreign_officer.village = world.foreign.village
    foreign_officer.save()
    for reader, purpose in [
        (root, "root audit"),
        (superuser, "superuser fix"),
        (leaver, "left last week"),
        (world.member, "own grid"),
        (foreign_officer, "other township"),
    ]:
        personal_data_read(
            actor=reader, records=[world.member], purpose=purpose, channel=Channel.REVEAL
        )
    client = Client()
    client.force_login(supervisor)
    body = client.get("/people/access-log/").content.decode()
    for purpose in ["root audit", "superuser fix", "left last week", "own grid"]:
        assert purpose in body
    assert "other township" not in body
    api = client.get("/api/v1/people/access-log").json()
    assert {row["purpose"] for row in api} == {
        "root audit",
        "superuser fix",
        "left last week",
        "own grid",
    }
