"""Only the party whose step it is adds photos, and each photo is a ledger event."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from civicgrid.cases import services
from civicgrid.cases.models import Attachment, Case
from civicgrid.cases.tests.conftest import Loop, staff
from civicgrid.cases.tests.test_api import client_for
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.people.models import Role, User
from civicgrid.testing import jpeg


@pytest.fixture(autouse=True)
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def _who(loop: Loop, name: str) -> User:
    if name == "supervisor":
        return staff("sup1", Role.SUPERVISOR, township=loop.township)
    return getattr(loop, name)


EVERYONE = ["admin", "far_admin", "dispatcher", "officer", "other_officer", "assessor",
            "supervisor"]  # fmt: skip
# (state, category) → who may add photos, and which kind the step takes.
ALLOWED = {
    ("reported", "0702"): ({"admin"}, "before"),
    ("dispatched", "0702"): ({"officer"}, "after"),
    ("disposed", "0702"): ({"admin"}, "after"),  # the reporting administrator verifies
    ("disposed", "1301"): ({"assessor"}, "after"),  # the assessor verifies disputes
}


@pytest.mark.parametrize(("state", "category"), list(ALLOWED))
@pytest.mark.parametrize("who", EVERYONE)
def test_only_the_party_whose_step_it_is_adds_photos(
    loop: Loop, state: str, category: str, who: str
) -> None:
    if category == "1301":  # disputes go to the petition office, and its officer works there
        from civicgrid.people.services import department_create

        loop.officer.department = department_create(
            township=loop.township, code="PETITION", name="综治", areas=["stability"], actor=None
        )
        loop.officer.save()
    case = loop.case_in(state, category)
    actor = _who(loop, who)
    allowed, kind = ALLOWED[(state, category)]
    events, version = case.events.count(), case.version
    if who in allowed:
        photo = services.case_photo_add(case=case, kind=kind, data=jpeg(), actor=actor)
        event = case.events.latest("seq")
        assert (event.seq, event.action, event.actor, event.to_state) == (
            events + 1, "add_photo", actor, state)  # fmt: skip
        assert event.payload == {"photo": photo.pk, "kind": kind, "sha256": photo.sha256}
        assert services.ledger_audit().intact
        case.refresh_from_db()
        assert case.version == version  # a form loaded before the photo still acts
        wrong = "before" if kind == "after" else "after"
        with pytest.raises(ValidationFailed) as refused:
            services.case_photo_add(case=case, kind=wrong, data=jpeg(), actor=actor)
        assert refused.value.field == "kind"
    else:
        with pytest.raises(PermissionDenied):
            services.case_photo_add(case=case, kind=kind, data=jpeg(), actor=actor)
        assert case.events.count() == events
    assert Attachment.objects.filter(case=case).count() == (1 if who in allowed else 0)


@pytest.mark.parametrize("state", ["filed", "verified", "closed"])
def test_no_photos_at_steps_that_take_none(loop: Loop, state: str) -> None:
    case = loop.case_in(state)
    for who in ("admin", "dispatcher", "officer"):
        with pytest.raises(ValidationFailed):
            services.case_photo_add(case=case, kind="after", data=jpeg(), actor=_who(loop, who))
    assert not Attachment.objects.exists() and case.events.count() == len(Loop.PATH[state]) + 1


@pytest.mark.parametrize("who", ["assessor", "supervisor", "dispatcher"])
def test_read_only_roles_get_403_over_http_and_nothing_becomes_public(loop: Loop, who: str) -> None:
    case = loop.case_in("dispatched")
    client = client_for(_who(loop, who))
    upload = SimpleUploadedFile("after.jpg", jpeg(), content_type="image/jpeg")
    response = client.post(f"/api/v1/cases/{case.number}/photos", {"kind": "after", "file": upload})
    assert response.status_code == 403, response.content
    assert response.json()["error"] == "forbidden"
    assert not Attachment.objects.exists() and case.events.count() == 3


def test_the_department_adds_after_photos_over_http_with_one_event_each(loop: Loop) -> None:
    case = loop.case_in("dispatched")
    client = client_for(loop.officer)
    for _ in range(2):
        upload = SimpleUploadedFile("after.jpg", jpeg(), content_type="image/jpeg")
        response = client.post(f"/api/v1/cases/{case.pk}/photos", {"kind": "after", "file": upload})
        assert response.status_code == 201, response.content
    assert list(case.events.values_list("action", flat=True).order_by("seq")) == [
        "report", "file", "dispatch", "add_photo", "add_photo"]  # fmt: skip
    assert Case.objects.get(pk=case.pk).version == 3


def test_report_photos_are_recorded_by_the_report_event(loop: Loop) -> None:
    reported = services.case_report(actor=loop.admin, category="0702", description="垃圾",
                                    lon=113.005, lat=23.01, photos=[jpeg()])  # fmt: skip
    [photo] = Attachment.objects.all()
    event = reported.case.events.get()
    assert event.payload["photos"] == [photo.pk]
    assert event.payload["photo_sha256"] == [photo.sha256]
