"""Field rights gate every duty of a grid administrator, by API and by page, saying why.

An administrator placed while certified loses field rights when the permit is revoked or
expires or the examination turns out failed; each duty is then refused with 403 and the one
error body (pages: the same message, nothing written), and allowed again with rights.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from civicgrid.cases import services as cases
from civicgrid.cases.models import Case
from civicgrid.geo.models import Grid, Township
from civicgrid.people import services as people
from civicgrid.people.certification import FieldRightsMissing, require_field_rights
from civicgrid.people.models import Examination, Position, Role, User, WorkPermit
from civicgrid.registry import services as registry
from civicgrid.registry.models import House, UrbanComponent
from civicgrid.testing import jpeg

HERE = {"lon": 113.005, "lat": 23.01}  # inside grid 441900123 001 01
TODAY = timezone.localdate()
YESTERDAY = TODAY - dt.timedelta(days=1)


@dataclass
class Field:
    admin: User
    supervisor: User
    dispatcher: User
    officer: User
    village_officer: User
    grid: Grid


def _staff(username: str, role: str, **places: Any) -> User:
    return people.staff_create(
        username=username, full_name="钱七", phone="13800001111", roles=[role], actor=None, **places
    )


@pytest.fixture
def field(township: Township, grid: Grid) -> Field:
    cases.taxonomy_seed()
    cases.calendar_seed(township=township)
    urban = people.department_create(
        township=township, code="URBAN", name="城管", areas=["urban_management"], actor=None
    )
    admin = _staff("fieldadmin", Role.GRID_ADMINISTRATOR)
    start = TODAY - dt.timedelta(days=60)
    people.training_record(user=admin, course="岗前培训", completed_on=start, actor=None)
    people.examination_record(user=admin, taken_on=start, score=80, actor=None)
    people.work_permit_issue(
        user=admin, number="FR-0001", issued_on=start, expires_on=start + dt.timedelta(days=730),
        actor=None,
    )  # fmt: skip
    people.grid_assignment_create(
        user=admin, grid=grid, position=Position.ADMINISTRATOR, starts_on=start, actor=None
    )
    return Field(
        admin=admin,
        supervisor=_staff("super", Role.SUPERVISOR, township=township),
        dispatcher=_staff("disp", Role.DISPATCHER, township=township),
        officer=_staff("urban", Role.DEPARTMENT_OFFICER, department=urban),
        village_officer=_staff("villager", Role.VILLAGE_OFFICER, village=grid.village),
        grid=grid,
    )


def lose_rights(field: Field, how: str) -> str:
    """Take the administrator's field rights away; returns the reason the refusal gives."""
    if how == "revoked":
        permit = WorkPermit.objects.get(user=field.admin)
        people.work_permit_revoke(permit=permit, on=YESTERDAY, actor=field.supervisor)
        return f"your work permit was revoked on {YESTERDAY.isoformat()}"
    if how == "expired":
        WorkPermit.objects.filter(user=field.admin).update(expires_on=YESTERDAY)
        return f"your work permit expired on {YESTERDAY.isoformat()}"
    assert how == "no_exam"
    Examination.objects.filter(user=field.admin).update(score=30)
    return "you have not passed the examination"


GAPS = ["revoked", "expired", "no_exam"]


def api(user: User, language: str = "en") -> Client:
    _token, raw = people.api_token_create(user=user, name="test")
    return Client(headers={"authorization": f"Bearer {raw}", "accept-language": language})


def page(user: User, language: str = "en") -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


def post_json(client: Client, url: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def assert_refused(response: Any, reason: str) -> None:
    assert response.status_code == 403, response.content
    body = response.json()
    assert body["error"] == "no_field_rights" and body["field"] is None
    assert reason in body["message"], body["message"]


def disposed_case(field: Field) -> Case:
    case = cases.case_report(
        actor=field.admin, category="0702", description="垃圾", **HERE
    ).case  # fmt: skip
    for action, who, params in [
        ("file", field.dispatcher, {}),
        ("dispatch", field.dispatcher, {}),
        ("dispose", field.officer, {"result": "已清理"}),
    ]:
        cases.case_transition(case=case, action=action, actor=who, version=case.version, **params)
    return case


REPORT = {"category": "0702", "description": "路边暴露垃圾", **HERE}


# ---- the gate itself -------------------------------------------------------------------


@pytest.mark.parametrize("how", GAPS)
def test_the_gate_names_the_reason(field: Field, how: str) -> None:
    require_field_rights(field.admin)
    reason = lose_rights(field, how)
    with pytest.raises(FieldRightsMissing) as refused:
        require_field_rights(field.admin)
    assert reason in refused.value.message and refused.value.status == 403


def test_every_missing_condition_is_named(field: Field) -> None:
    newcomer = _staff("newcomer", Role.GRID_ADMINISTRATOR)
    with pytest.raises(FieldRightsMissing) as refused:
        require_field_rights(newcomer)
    assert refused.value.message == (
        "You have no field rights: you have not passed the training; "
        "you have not passed the examination; you have no work permit."
    )


# ---- reporting --------------------------------------------------------------------------


@pytest.mark.parametrize("how", GAPS)
def test_report_by_api_is_refused_without_rights(field: Field, how: str) -> None:
    reason = lose_rights(field, how)
    assert_refused(post_json(api(field.admin), "/api/v1/cases", REPORT), reason)
    assert not Case.objects.exists()


def test_report_refusal_is_in_the_users_language(field: Field) -> None:
    lose_rights(field, "revoked")
    response = post_json(api(field.admin, "zh-hans"), "/api/v1/cases", REPORT)
    assert response.status_code == 403
    assert f"您的工作证已于 {YESTERDAY.isoformat()} 被吊销" in response.json()["message"]


def test_report_and_resolve_on_the_spot_are_allowed_with_rights(field: Field) -> None:
    client = api(field.admin)
    assert post_json(client, "/api/v1/cases", REPORT).status_code == 201
    spot = {**REPORT, "on_the_spot": True, "measures": "劝导当事人", "complied": True}
    response = post_json(client, "/api/v1/cases", spot)
    assert response.status_code == 201 and response.json()["state"] == "closed"


@pytest.mark.parametrize("how", GAPS)
def test_resolve_on_the_spot_is_refused_without_rights(field: Field, how: str) -> None:
    reason = lose_rights(field, how)
    response = post_json(api(field.admin), "/api/v1/cases", {**REPORT, "on_the_spot": True})
    assert_refused(response, reason)
    assert not Case.objects.exists()


@pytest.mark.parametrize("how", GAPS)
def test_report_on_the_field_page_is_refused_without_rights(field: Field, how: str) -> None:
    reason = lose_rights(field, how)
    form = {**REPORT, "idempotency_key": "k-1"}
    response = page(field.admin).post("/field/report/", form, follow=True)
    assert reason in response.content.decode()
    assert not Case.objects.exists()


@pytest.mark.parametrize("how", GAPS)
def test_offline_replay_is_refused_with_the_error_body(field: Field, how: str) -> None:
    reason = lose_rights(field, how)
    response = page(field.admin).post(
        "/field/report/",
        REPORT,
        headers={"accept": "application/json", "idempotency-key": "offline-1"},
    )
    assert_refused(response, reason)
    assert not Case.objects.exists()


# ---- verifying ----------------------------------------------------------------------------


@pytest.mark.parametrize("how", GAPS)
def test_verify_by_api_is_refused_without_rights(field: Field, how: str) -> None:
    case = disposed_case(field)
    reason = lose_rights(field, how)
    url = f"/api/v1/cases/{case.number}/actions/verify_pass"
    assert_refused(post_json(api(field.admin), url, {"version": case.version}), reason)
    case.refresh_from_db()
    assert case.state == "disposed" and case.events.count() == 4


@pytest.mark.parametrize("how", GAPS)
def test_verify_on_the_field_page_is_refused_without_rights(field: Field, how: str) -> None:
    case = disposed_case(field)
    reason = lose_rights(field, how)
    response = page(field.admin).post(
        f"/field/cases/{case.number}/verify_pass/", {"version": case.version}, follow=True
    )
    assert reason in response.content.decode()
    case.refresh_from_db()
    assert case.state == "disposed"


@pytest.mark.parametrize("how", GAPS)
def test_case_photo_by_api_is_refused_without_rights(field: Field, how: str) -> None:
    case = disposed_case(field)
    reason = lose_rights(field, how)
    upload = SimpleUploadedFile("after.jpg", jpeg(), content_type="image/jpeg")
    response = api(field.admin).post(
        f"/api/v1/cases/{case.number}/photos", {"kind": "after", "file": upload}
    )
    assert_refused(response, reason)
    assert case.attachments.count() == 0 and case.events.count() == 4


def test_case_photo_is_allowed_with_rights(field: Field) -> None:
    case = disposed_case(field)
    upload = SimpleUploadedFile("after.jpg", jpeg(), content_type="image/jpeg")
    response = api(field.admin).post(
        f"/api/v1/cases/{case.number}/photos", {"kind": "after", "file": upload}
    )
    assert response.status_code == 201, response.content
    assert case.attachments.count() == 1 and case.events.latest("seq").action == "add_photo"


def test_verify_is_allowed_with_rights(field: Field) -> None:
    case = disposed_case(field)
    url = f"/api/v1/cases/{case.number}/actions/verify_pass"
    response = post_json(api(field.admin), url, {"version": case.version})
    assert response.status_code == 200 and response.json()["state"] == "verified"


def test_the_center_and_departments_need_no_field_rights(field: Field) -> None:
    # Neither the dispatcher nor the officer holds training, examination or permit.
    case = disposed_case(field)
    assert case.state == "disposed"
    with pytest.raises(FieldRightsMissing):
        require_field_rights(field.dispatcher)


# ---- registry writes -----------------------------------------------------------------------

HOUSE = {"code": "H1", "address": "东村路1号", **HERE}


@pytest.mark.parametrize("how", GAPS)
def test_registry_write_by_api_is_refused_without_rights(field: Field, how: str) -> None:
    house = registry.house_create(values=HOUSE, actor=field.admin)
    reason = lose_rights(field, how)
    client = api(field.admin)
    created = post_json(client, "/api/v1/registry/houses", {**HOUSE, "code": "H2"})
    assert_refused(created, reason)
    changed = client.patch(
        f"/api/v1/registry/houses/{house.pk}",
        json.dumps({"address": "改过的地址"}),
        content_type="application/json",
    )
    assert_refused(changed, reason)
    assert list(House.objects.values_list("code", "address")) == [("H1", "东村路1号")]


@pytest.mark.parametrize("how", GAPS)
def test_registry_import_by_field_staff_is_refused_without_rights(field: Field, how: str) -> None:
    reason = lose_rights(field, how)
    upload = SimpleUploadedFile(
        "houses.csv", "code,address,lon,lat\nH7,路7号,113.005,23.01\n".encode()
    )
    response = api(field.admin).post("/api/v1/registry/import/houses", {"file": upload})
    assert_refused(response, reason)
    assert not House.objects.exists()


@pytest.mark.parametrize("how", GAPS)
def test_registry_page_write_is_refused_without_rights(field: Field, how: str) -> None:
    reason = lose_rights(field, how)
    form = {"code": "F1", "address": "路1号", "lon": "113.005", "lat": "23.01", "crs": "wgs84"}
    response = page(field.admin).post("/registry/houses/new/", form)
    assert response.status_code == 200 and reason in response.content.decode()
    assert not House.objects.exists()


@pytest.mark.parametrize("how", GAPS)
def test_component_photo_is_refused_without_rights(field: Field, how: str) -> None:
    component = registry.component_create(
        values={"identifier": "4419000112000001", "state": "intact", **HERE}, actor=field.admin
    )
    reason = lose_rights(field, how)
    photo = SimpleUploadedFile("lamp.jpg", jpeg(), "image/jpeg")
    response = page(field.admin).post(
        f"/registry/components/{component.pk}/edit/", {"photo": photo}
    )
    assert response.status_code == 200 and reason in response.content.decode()
    assert not UrbanComponent.objects.get().photo


def test_registry_writes_are_allowed_with_rights(field: Field) -> None:
    component = registry.component_create(
        values={"identifier": "4419000112000001", "state": "intact", **HERE}, actor=field.admin
    )
    photo = SimpleUploadedFile("lamp.jpg", jpeg(), "image/jpeg")
    response = page(field.admin).post(
        f"/registry/components/{component.pk}/edit/", {"photo": photo}
    )
    assert response.status_code == 302
    assert UrbanComponent.objects.get().photo
    created = post_json(api(field.admin), "/api/v1/registry/houses", HOUSE)
    assert created.status_code == 201, created.content


def test_a_village_officer_writes_the_registry_without_field_rights(field: Field) -> None:
    created = post_json(api(field.village_officer), "/api/v1/registry/houses", HOUSE)
    assert created.status_code == 201, created.content


@pytest.mark.parametrize("how", GAPS)
def test_the_field_home_says_why_duties_are_closed(field: Field, how: str) -> None:
    assert 'id="no-field-rights"' not in page(field.admin).get("/field/").content.decode()
    reason = lose_rights(field, how)
    home = page(field.admin).get("/field/").content.decode()
    assert 'id="no-field-rights"' in home and reason in home
