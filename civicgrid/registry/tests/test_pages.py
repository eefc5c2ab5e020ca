from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from civicgrid.people.models import AccessLog
from civicgrid.registry.models import House
from civicgrid.registry.tests.conftest import resident
from civicgrid.testing import logged_in


@pytest.fixture
def person(cast, house):
    return resident()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("kind", ["houses", "persons", "legal-persons", "components"])
def test_list_pages_render_masked_in_both_languages(cast, person, kind, language):
    response = logged_in(cast.admin, language).get(f"/registry/{kind}/")
    assert response.status_code == 200
    assert "赵六" not in response.content.decode()


def test_person_list_filters_by_tag(cast, person):
    page = logged_in(cast.admin).get("/registry/persons/?tag=senior").content.decode()
    assert "赵*" in page
    page = logged_in(cast.admin).get("/registry/persons/?tag=child").content.decode()
    assert "赵*" not in page


def test_detail_outside_scope_is_404_and_reveal_is_logged(cast, person, far_house):
    client = logged_in(cast.admin)
    assert client.get(f"/registry/houses/{far_house.pk}/").status_code == 404
    page = client.get(f"/registry/persons/{person.pk}/").content.decode()
    assert "赵*" in page and "赵六" not in page
    page = client.post(f"/registry/persons/{person.pk}/", {"purpose": "走访"}).content.decode()
    assert "赵六" in page
    assert AccessLog.objects.get().channel == "reveal"


def test_field_form_creates_a_house_in_own_grid(cast):
    response = logged_in(cast.admin).post(
        "/registry/houses/new/",
        {
            "code": "F1",
            "address": "路1号",
            "lon": "113.005",
            "lat": "23.01",
            "crs": "wgs84",
            "floors": "2",
        },
    )
    assert response.status_code == 302
    assert House.objects.get().grid == cast.grid


def test_field_form_shows_problems_without_saving(cast):
    page = (
        logged_in(cast.admin)
        .post(
            "/registry/houses/new/",
            {"code": "F1", "address": "路1号", "lon": "113.015", "lat": "23.01", "floors": "2"},
        )
        .content.decode()
    )
    assert "outside the grids you may edit" in page and not House.objects.exists()


def test_field_form_is_not_for_read_only_roles(cast):
    assert logged_in(cast.dispatcher).get("/registry/houses/new/").status_code == 404


def test_import_page_reports_rows(cast):
    upload = SimpleUploadedFile("h.csv", b"code,address,lon,lat\nH1,a,113.005,23.01\n")
    page = (
        logged_in(cast.admin)
        .post("/registry/import/", {"kind": "houses", "file": upload})
        .content.decode()
    )
    assert "1 records imported" in page and House.objects.count() == 1


def test_import_page_offers_a_progress_display_and_works_without_it(cast):
    client = logged_in(cast.admin)
    page = client.get("/registry/import/").content.decode()
    # The progress display is there for the script, hidden until it takes over the form.
    assert 'id="import-progress" hidden' in page and "<progress" in page
    assert "registry/import.js" in page and 'id="import-form"' in page
    # Without JavaScript: an ordinary post returns the whole page with the row report.
    upload = SimpleUploadedFile("h.csv", b"code,address,lon,lat\nH1,a,113.005,23.01\nH2,b,x,23\n")
    response = client.post("/registry/import/", {"kind": "houses", "file": upload})
    page = response.content.decode()
    assert response.status_code == 200 and "<html" in page and 'id="import-result"' in page
    assert "nothing imported" in page and House.objects.count() == 0


def test_import_by_script_gets_just_the_report(cast):
    upload = SimpleUploadedFile("h.csv", b"code,address,lon,lat\nH1,a,113.005,23.01\n")
    response = logged_in(cast.admin).post(
        "/registry/import/",
        {"kind": "houses", "file": upload},
        headers={"x-requested-with": "XMLHttpRequest"},
    )
    fragment = response.content.decode()
    assert response.status_code == 200 and "<html" not in fragment
    assert "1 records imported" in fragment and House.objects.count() == 1


def test_import_script_is_served(cast):
    from django.contrib.staticfiles import finders

    path = finders.find("registry/import.js")
    assert path is not None
    with open(path, encoding="utf-8") as script:
        source = script.read()
    assert "upload.addEventListener" in source and "import-result" in source


def test_licence_page_and_downloads(cast, house):
    client = logged_in(cast.admin)
    assert client.get("/registry/licences/").status_code == 200
    assert client.get("/registry/persons/template.xlsx").status_code == 200
    response = client.get("/registry/houses/export.csv")
    assert response.status_code == 200 and "王*" in response.content.decode("utf-8-sig")
    assert AccessLog.objects.get().channel == "export"
