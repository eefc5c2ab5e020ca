"""A component's photo is sent by this site, never linked in the store: the pages' CSP
allows images from this site only, and a signed object-store address would be blocked."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from civicgrid.public.tests.test_object_storage import (  # noqa: F401 (fixtures)
    BUCKET,
    s3,
    s3_endpoint,
)
from civicgrid.registry import services
from civicgrid.registry.tests.conftest import IN_GRID
from civicgrid.testing import jpeg
from civicgrid.testing import logged_in as _client


def _component_with_photo(actor, data: bytes):  # type: ignore[no-untyped-def]
    return services.component_create(
        values={"identifier": "4419000112000001", "lon": IN_GRID[0], "lat": IN_GRID[1]},
        actor=actor,
        photo=SimpleUploadedFile("p.jpg", data),
    )


def _img_src(page: str) -> str:
    return page[page.index("<img src=") :].split('"', 2)[1]


def test_the_detail_page_shows_the_photo_through_this_site(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    data = jpeg((64, 48))
    component = _component_with_photo(cast.admin, data)
    client = _client(cast.admin)
    response = client.get(f"/registry/components/{component.pk}/")
    source = _img_src(response.content.decode())
    assert source == f"/registry/components/{component.pk}/photo/"
    assert "img-src 'self'" in response["Content-Security-Policy"]
    photo = client.get(source)
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    assert b"".join(photo.streaming_content) == data
    record = client.get(f"/api/v1/registry/components/{component.pk}").json()
    assert record["values"]["photo"] == source


def test_the_photo_is_refused_outside_the_scope_and_without_a_photo(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    component = _component_with_photo(cast.admin, jpeg((64, 48)))
    assert (
        _client(cast.department).get(f"/registry/components/{component.pk}/photo/").status_code
        == 404
    )
    assert Client().get(f"/registry/components/{component.pk}/photo/").status_code == 302  # login
    bare = services.component_create(
        values={"identifier": "4419000112000002", "lon": IN_GRID[0], "lat": IN_GRID[1]},
        actor=cast.admin,
    )
    assert _client(cast.admin).get(f"/registry/components/{bare.pk}/photo/").status_code == 404


def test_with_an_object_store_the_page_never_names_the_store(
    cast,
    s3: Any,  # noqa: F811
    s3_endpoint: str,  # noqa: F811
):
    data = jpeg((80, 60))
    component = _component_with_photo(cast.admin, data)
    stored = s3.list_objects_v2(Bucket=BUCKET)["Contents"]
    assert [item["Key"] for item in stored] == [component.photo.name]
    client = _client(cast.admin)
    response = client.get(f"/registry/components/{component.pk}/")
    page = response.content.decode()
    assert s3_endpoint not in page and "X-Amz" not in page
    assert s3_endpoint not in response["Content-Security-Policy"]
    photo = client.get(_img_src(page))
    assert photo.status_code == 200  # not a redirect to the store, which img-src would block
    assert b"".join(photo.streaming_content) == data


def test_an_api_client_reads_the_photo_with_its_token_in_the_same_scope(cast, settings, tmp_path):
    from civicgrid.people.services import api_token_create

    settings.MEDIA_ROOT = tmp_path
    data = jpeg((64, 48))
    component = _component_with_photo(cast.admin, data)

    def bearer(user) -> Client:  # type: ignore[no-untyped-def]
        raw = api_token_create(user=user, name="photos")[1]
        return Client(headers={"authorization": f"Bearer {raw}", "accept-language": "en"})

    client = bearer(cast.admin)
    source = client.get(f"/api/v1/registry/components/{component.pk}").json()["values"]["photo"]
    photo = client.get(source)
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    assert b"".join(photo.streaming_content) == data
    assert bearer(cast.department).get(source).status_code == 404  # outside their scope
    refused = Client(headers={"authorization": "Bearer cg_not-a-token"}).get(source)
    assert refused.status_code == 401 and refused.json()["error"] == "unauthenticated"
