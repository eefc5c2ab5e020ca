"""A distribution keeps several photos (issue 16: "photos"), stored without EXIF, shown on
the campaign's page to those who may see the campaign, by the form and by the API."""

from __future__ import annotations

import base64
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from civicgrid.care import services
from civicgrid.care.models import Campaign, Distribution, DistributionPhoto
from civicgrid.care.tests.conftest import END, START, Care
from civicgrid.core.errors import ValidationFailed
from civicgrid.testing import jpeg

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def _form(care: Care, key: str) -> dict[str, str]:
    return {"grid": care.grid.code, "distributed_on": str(START), "quantity": "60",
            "place": "村委会门口", "households_reached": "40", "idempotency_key": key}  # fmt: skip


def _uploads(*colours: tuple[int, int, int]) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(f"p{i}.jpg", jpeg(colour=c, gps=True), content_type="image/jpeg")
            for i, c in enumerate(colours)]  # fmt: skip


def test_a_distribution_form_stores_several_photos_without_their_exif(
    care: Care, campaign: Campaign
) -> None:
    url = f"/care/campaigns/{campaign.pk}/distribution/"
    client = care.client(care.admin)
    sent = client.post(url, {**_form(care, "m-1"), "photos": _uploads((200, 0, 0), (0, 0, 200))})
    assert sent.status_code == 302 and sent["Location"] == f"/care/campaigns/{campaign.pk}/"
    [saved] = Distribution.objects.all()
    photos = list(saved.photos.all())
    assert len(photos) == 2
    for row in photos:
        with row.photo.open("rb") as f, Image.open(f) as image:
            assert image.format == "JPEG" and image.size == (64, 48)
            assert not image.getexif(), "camera and GPS position must not be kept"
    again = client.post(url, {**_form(care, "m-1"), "photos": _uploads((200, 0, 0), (0, 0, 200))})
    assert again.status_code == 302
    assert (Distribution.objects.count(), DistributionPhoto.objects.count()) == (1, 2)


def test_more_photos_than_allowed_are_refused_under_the_field(
    care: Care, campaign: Campaign
) -> None:
    url = f"/care/campaigns/{campaign.pk}/distribution/"
    too_many = _uploads(*[(i * 40, 0, 0) for i in range(services.MAX_DISTRIBUTION_PHOTOS + 1)])
    refused = care.client(care.admin).post(url, {**_form(care, "m-2"), "photos": too_many})
    assert refused.status_code == 422
    page = refused.content.decode()
    assert 'id="error-photos"' in page and "村委会门口" in page  # drawn again as typed
    assert not Distribution.objects.exists() and not DistributionPhoto.objects.exists()


def test_the_campaign_page_shows_each_photo_to_those_who_see_the_campaign(
    care: Care, campaign: Campaign
) -> None:
    record = services.distribution_record(
        campaign=campaign, actor=care.admin, grid=care.grid.code, distributed_on=START,
        quantity=10, place="祠堂", households_reached=8,
        photos=[jpeg(colour=(1, 2, 3), gps=True), jpeg(colour=(4, 5, 6), gps=True)],
    )  # fmt: skip
    first, second = record.photos.all()
    page = care.client(care.health).get(f"/care/campaigns/{campaign.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    for row in (first, second):
        assert f"/care/campaigns/{campaign.pk}/photos/{row.pk}/" in body
    assert "祠堂" in body
    served = care.client(care.village).get(f"/care/campaigns/{campaign.pk}/photos/{first.pk}/")
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert not Image.open(io.BytesIO(b"".join(served.streaming_content))).getexif()  # type: ignore[attr-defined]
    # The far grid's administrator is not on the campaign: neither page nor photo.
    far = care.client(care.far_admin)
    assert far.get(f"/care/campaigns/{campaign.pk}/").status_code == 404
    assert far.get(f"/care/campaigns/{campaign.pk}/photos/{first.pk}/").status_code == 404
    other = services.campaign_create(
        actor=care.health, title="别的", material="海报", starts_on=START, ends_on=END,
        grids=[care.grid.code],
    )  # fmt: skip
    wrong = f"/care/campaigns/{other.pk}/photos/{first.pk}/"
    assert care.client(care.health).get(wrong).status_code == 404


def test_the_api_records_a_distribution_with_base64_photos(care: Care, campaign: Campaign) -> None:
    second = base64.b64encode(jpeg(colour=(9, 9, 9), gps=True)).decode()
    body = {"grid": care.grid.code, "distributed_on": str(START), "quantity": 5,
            "place": "市场", "households_reached": 4,
            "photos": [base64.b64encode(jpeg(gps=True)).decode(),
                       "data:image/jpeg;base64," + second]}  # fmt: skip
    url = f"/api/v1/care/campaigns/{campaign.pk}/distributions"
    client = care.client(care.admin)
    sent = client.post(url, body, "application/json", headers={"idempotency-key": "api-1"})
    assert sent.status_code == 201
    assert Distribution.objects.get(pk=sent.json()["id"]).photos.count() == 2
    bad = client.post(url, {**body, "photos": ["not base64!"]}, "application/json")
    assert bad.status_code == 422 and bad.json()["field"] == "photos.0"


def test_the_service_refuses_a_file_that_is_no_image(care: Care, campaign: Campaign) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.distribution_record(
            campaign=campaign, actor=care.admin, grid=care.grid.code, distributed_on=START,
            quantity=1, place="路口", households_reached=1, photos=[b"not an image"],
        )  # fmt: skip
    assert refused.value.field == "photos"
    assert not Distribution.objects.exists()
