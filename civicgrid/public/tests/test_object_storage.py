"""Photos in an object store (django-storages' S3 backend) against a local S3-compatible
server that the tests start: moto in server mode, spoken to over HTTP like any S3 service.

The storage is configured exactly as an operator does (``MEDIA_STORAGE`` and
``MEDIA_STORAGE_OPTIONS``, docs/operations.md). A resident's photo goes into the bucket
as uploaded; the worker's task writes the copy without EXIF beside it; the public page
serves that copy, read back from the bucket; the original is never reachable without the
store's credentials, neither through the platform's public pages nor from the store.
"""

from __future__ import annotations

import io
import json
import logging
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from django.core.checks import Error
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from moto.server import ThreadedMotoServer
from PIL import Image

from civicgrid.cases.models import Attachment, Case
from civicgrid.cases.tests.test_photos import _run_queued_tasks
from civicgrid.core.env import Env
from civicgrid.core.storage import media_storage_check
from civicgrid.public.tests.conftest import Public
from civicgrid.public.tests.test_portal import report_form, tracking_link
from civicgrid.testing import GPS_IFD, jpeg

BUCKET = "civicgrid-photos"
CREDENTIALS = {"access_key": "civicgrid-test", "secret_key": "civicgrid-test-secret"}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on a free local port, for this module's tests."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint: str, settings) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """An empty bucket, and the platform's photos stored in it as the operator configures."""
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=CREDENTIALS["access_key"],
        aws_secret_access_key=CREDENTIALS["secret_key"],
    )
    client.create_bucket(Bucket=BUCKET)
    environ = {
        "MEDIA_STORAGE": "storages.backends.s3.S3Storage",
        "MEDIA_STORAGE_OPTIONS": json.dumps(
            {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "default_acl": "private",
                **CREDENTIALS,
            }
        ),
    }
    settings.STORAGES = {**settings.STORAGES, "default": Env(environ).storage(
        "MEDIA_STORAGE", "MEDIA_STORAGE_OPTIONS"
    )}  # fmt: skip
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def _objects(s3: Any) -> dict[str, bytes]:
    listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {
        item["Key"]: s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read() for item in listed
    }


def _anonymous_get(endpoint: str, key: str) -> int:
    """What anyone on the network gets for the object's address, without credentials."""
    try:
        with urllib.request.urlopen(f"{endpoint}/{BUCKET}/{key}") as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return refused.code


def test_a_photo_goes_to_the_object_store_and_only_its_copy_without_exif_is_served(
    public: Public, database_tasks: None, s3: Any, s3_endpoint: str
) -> None:
    client = Client(headers={"accept-language": "en"})
    data = jpeg((800, 600), gps=True)
    form = report_form(client)
    form["photos"] = SimpleUploadedFile("p.jpg", data, content_type="image/jpeg")
    response = client.post("/public/report/", form)
    assert response.status_code == 201, response.content
    case = Case.objects.get()
    photo = Attachment.objects.get(case=case)
    link = tracking_link(response)

    # The upload is in the bucket as sent (EXIF and GPS kept for the staff), nothing else.
    stored = _objects(s3)
    assert stored == {photo.original.name: data}
    assert photo.original.name.startswith("cases/original/")
    # Until the worker has made the copy, the public sees no photo at all.
    page = client.get(link).content.decode()
    assert "/public/photos/" not in page
    assert client.get(f"/public/photos/{photo.pk}/").status_code == 404

    assert _run_queued_tasks() == 1  # the worker's task: read from the store, write the copy
    photo.refresh_from_db()
    stored = _objects(s3)
    assert set(stored) == {photo.original.name, photo.public.name, photo.thumbnail.name}
    assert stored[photo.original.name] == data
    for key in (photo.public.name, photo.thumbnail.name):
        with Image.open(io.BytesIO(stored[key])) as image:
            assert not image.getexif() and "exif" not in image.info

    # The public page shows the photo through the platform, which reads the copy back from
    # the store; neither the store's address nor any object key is on the page.
    page = client.get(link).content.decode()
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert len(sources) == 1 and sources[0].startswith(f"/public/photos/{photo.pk}/")
    assert s3_endpoint not in page and photo.original.name not in page
    assert "cases/original/" not in page and "cases/public/" not in page
    served = client.get(sources[0].replace("&amp;", "&"))
    assert served.status_code == 200 and served["content-type"] == "image/jpeg"
    body = b"".join(served.streaming_content)
    served.close()
    assert body == stored[photo.public.name] != data
    with Image.open(io.BytesIO(body)) as image:
        assert GPS_IFD not in image.getexif() and not image.getexif()

    # The original is never public: private in the store (refused without credentials,
    # like the copy, which only the platform serves), and the platform hands it only to
    # signed-in staff.
    for key in (photo.original.name, photo.public.name):
        assert _anonymous_get(s3_endpoint, key) in {403, 404}  # never 200
    staff_only = client.get(f"/api/v1/cases/{case.number}/photos/{photo.pk}/original")
    assert staff_only.status_code == 401


def test_a_public_read_acl_for_photos_is_refused_by_the_checks(settings) -> None:  # type: ignore[no-untyped-def]
    options = {"bucket_name": BUCKET, "default_acl": "public-read"}
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
    }
    found = media_storage_check(None)
    assert [e.id for e in found] == ["civicgrid.E010"] and isinstance(found[0], Error)
    assert "MEDIA_STORAGE_OPTIONS" in found[0].msg
    options["default_acl"] = "private"
    assert media_storage_check(None) == []
