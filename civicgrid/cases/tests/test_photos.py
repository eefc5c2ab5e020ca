"""Photos: type by content, size limit, thumbnail, EXIF and GPS removed from the copies."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import override_settings
from PIL import Image

from civicgrid.cases import photos
from civicgrid.cases.models import Attachment
from civicgrid.cases.tests.conftest import Loop
from civicgrid.core.errors import ValidationFailed
from civicgrid.testing import GPS_IFD, jpeg


@pytest.fixture(autouse=True)
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def test_original_keeps_exif_public_copy_and_thumbnail_do_not(loop: Loop) -> None:
    data = jpeg((800, 600), gps=True)
    assert GPS_IFD in Image.open(io.BytesIO(data)).getexif()
    attachment = photos.attachment_add(case=loop.report(), kind="before", data=data,
                                       actor=loop.admin)  # fmt: skip
    with attachment.original.open("rb") as original:
        assert original.read() == data
    for stored in (attachment.public, attachment.thumbnail):
        with stored.open("rb") as handle, Image.open(handle) as image:
            assert not image.getexif() and "exif" not in image.info
    with attachment.thumbnail.open("rb") as handle, Image.open(handle) as thumb:
        assert max(thumb.size) == 320
    assert (attachment.width, attachment.height, attachment.content_type) == (
        800,
        600,
        "image/jpeg",
    )


def test_type_is_checked_by_content_not_name(loop: Loop) -> None:
    with pytest.raises(ValidationFailed) as refused:
        photos.attachment_add(case=loop.report(), kind="before", data=b"%PDF-1.4 not an image",
                              actor=loop.admin)  # fmt: skip
    assert refused.value.field == "file"
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    with pytest.raises(ValidationFailed):
        photos.attachment_add(case=loop.report(), kind="before", data=gif.getvalue(),
                              actor=loop.admin)  # fmt: skip
    assert Attachment.objects.count() == 0


@override_settings(CIVICGRID_PHOTO_MAX_BYTES=1000)
def test_size_is_limited(loop: Loop) -> None:
    with pytest.raises(ValidationFailed, match="larger"):
        photos.attachment_add(case=loop.report(), kind="before", data=jpeg((800, 600), gps=True),
                              actor=loop.admin)  # fmt: skip


def test_upload_over_http_and_dispose_with_after_photo(loop: Loop) -> None:
    from civicgrid.cases.tests.test_api import client_for, post

    case = loop.case_in("dispatched")
    officer = client_for(loop.officer)
    upload = SimpleUploadedFile("after.txt", jpeg((800, 600), gps=True), content_type="text/plain")
    response = officer.post(f"/api/v1/cases/{case.pk}/photos",
                            {"kind": "after", "file": upload})  # fmt: skip
    assert response.status_code == 201, response.content
    photo = response.json()["id"]
    disposed = post(officer, f"/api/v1/cases/{case.pk}/actions/dispose",
                    {"version": case.version, "result": "已清理", "photos": [photo]})  # fmt: skip
    assert disposed.status_code == 200, disposed.content
    assert case.events.latest("seq").payload["photos"] == [photo]
    public = officer.get(f"/api/v1/cases/{case.pk}/photos/{photo}/public")
    assert public.status_code == 200 and public["content-type"] == "image/jpeg"
    content = b"".join(public.streaming_content)
    public.close()
    with Image.open(io.BytesIO(content)) as image:
        assert not image.getexif()


def test_report_with_base64_photos_over_http(loop: Loop) -> None:
    import base64

    from civicgrid.cases.tests.test_api import BODY, client_for, post

    photo = base64.b64encode(jpeg((800, 600), gps=True)).decode()
    client = client_for(loop.admin)
    response = post(client, "/api/v1/cases", {**BODY, "photos": [photo]})
    assert response.status_code == 201, response.content
    [shown] = response.json()["photos"]
    attachment = Attachment.objects.get()
    assert shown["id"] == attachment.pk and attachment.kind == "before"
    assert attachment.case.events.get().payload["photos"] == [attachment.pk]
    broken = post(client, "/api/v1/cases", {**BODY, "photos": ["not base64!"]})
    assert (broken.status_code, broken.json()["field"]) == (422, "photos")
    not_image = base64.b64encode(b"plain text").decode()
    refused = post(client, "/api/v1/cases", {**BODY, "photos": [not_image]})
    assert refused.status_code == 422 and Attachment.objects.count() == 1


# ---------------------------------------------------------------------------- rollback


def stored_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def names(attachment: Attachment) -> set[str]:
    return {f.name for f in (attachment.original, attachment.public, attachment.thumbnail)}


class Refused(Exception):
    pass


def test_a_photo_added_in_a_savepoint_that_rolls_back_leaves_no_file(
    loop: Loop, tmp_path: Path
) -> None:
    case = loop.report()
    kept = photos.attachment_add(case=case, kind="before", data=jpeg((40, 30), gps=True),
                                 actor=loop.admin)  # fmt: skip
    with pytest.raises(Refused), transaction.atomic():
        photos.attachment_add(
            case=case, kind="after", data=jpeg((800, 600), gps=True), actor=loop.admin
        )
        assert len(stored_files(tmp_path)) == 6  # readable until the rollback
        raise Refused
    # Only the rolled-back photo's files went; the one in the surrounding transaction stays.
    assert stored_files(tmp_path) == names(kept)
    assert list(case.attachments.all()) == [kept]


@pytest.mark.django_db(transaction=True)
def test_files_follow_the_outermost_transaction(loop: Loop, tmp_path: Path) -> None:
    case = loop.report()
    with pytest.raises(ValidationFailed), transaction.atomic():
        photos.attachment_add(
            case=case, kind="before", data=jpeg((800, 600), gps=True), actor=loop.admin
        )
        # A second photo that is refused: the first one's files must go with the rollback.
        photos.attachment_add(case=case, kind="before", data=b"GIF89a", actor=loop.admin)
    assert stored_files(tmp_path) == set()
    with transaction.atomic():
        first = photos.attachment_add(case=case, kind="before", data=jpeg((800, 600), gps=True),
                                      actor=loop.admin)  # fmt: skip
        second = photos.attachment_add(case=case, kind="before",
                                       data=jpeg((30, 20), gps=True), actor=loop.admin)  # fmt: skip
    assert stored_files(tmp_path) == names(first) | names(second)
    assert Attachment.objects.count() == 2


def _run_queued_tasks() -> int:
    """Run every queued task in this process, as ``civicgrid worker --batch`` would."""
    from django_tasks_db.models import DBTaskResult

    ran = 0
    for row in DBTaskResult.objects.ready():
        row.task.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
        row.delete()
        ran += 1
    return ran


def test_the_copies_are_made_by_the_worker_not_the_request(loop: Loop, database_tasks) -> None:
    from django.test import Client

    from civicgrid.core.errors import NotFound
    from civicgrid.public.selectors import photo_for_public

    case = loop.report()
    data = jpeg((800, 600), gps=True)
    attachment = photos.attachment_add(case=case, kind="before", data=data, actor=loop.admin)
    assert not attachment.public and not attachment.thumbnail  # nothing decoded yet
    assert (attachment.width, attachment.height) == (800, 600)
    # Meanwhile the staff see the original, and the public sees no photo at all.
    client = Client()
    client.force_login(loop.admin)
    shown = client.get(f"/api/v1/cases/{case.number}/photos/{attachment.pk}/thumbnail")
    assert shown.status_code == 200 and b"".join(shown.streaming_content) == data
    with pytest.raises(NotFound):
        photo_for_public(attachment.pk, number=case.number, token="")
    assert _run_queued_tasks() == 1
    attachment.refresh_from_db()
    for stored in (attachment.public, attachment.thumbnail):
        with stored.open("rb") as handle, Image.open(handle) as image:
            assert not image.getexif() and "exif" not in image.info
    # Run again (a retried task, a second worker): nothing changes, no extra files.
    assert photos.attachment_derive(attachment_id=attachment.pk) is False


def test_a_rolled_back_photo_leaves_no_task_behind(loop: Loop, database_tasks) -> None:
    from django_tasks_db.models import DBTaskResult

    case = loop.report()
    with pytest.raises(Refused), transaction.atomic():
        photos.attachment_add(
            case=case, kind="before", data=jpeg((800, 600), gps=True), actor=loop.admin
        )
        assert DBTaskResult.objects.count() == 1
        raise Refused
    assert DBTaskResult.objects.count() == 0


def test_a_photo_turned_by_exif_reports_its_upright_size(loop: Loop, database_tasks) -> None:
    image = Image.new("RGB", (80, 60))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° to view
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    attachment = photos.attachment_add(
        case=loop.report(), kind="before", data=out.getvalue(), actor=loop.admin
    )
    assert (attachment.width, attachment.height) == (60, 80)
