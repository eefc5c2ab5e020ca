"""The field list, the checklist form (with the offline queue's key), a visit, the report."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from civicgrid.inspections.models import Template, Visit
from civicgrid.inspections.tests.conftest import World
from civicgrid.testing import jpeg

pytestmark = pytest.mark.django_db


def form_data(area: str = "01", **override: str) -> dict[str, object]:
    data: dict[str, object] = {"signed": "1", "lon": "113.005", "lat": "23.01"}
    for item in Template.objects.get(area=area, active=True).items.all():
        if item.kind == "photo":
            data[f"photo-{item.code}"] = SimpleUploadedFile("p.jpg", jpeg(), "image/jpeg")
        else:
            data[f"answer-{item.code}"] = override.get(item.code, "yes")
    return data


def test_the_field_list_shows_what_is_due_this_week(world: World) -> None:
    page = world.client(world.admin).get("/inspections/field/", {"lon": "113.004", "lat": "23.01"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "东村饭店" in text and "东村安置房工地" in text and "西村小卖部" not in text


def test_the_form_shows_licences_with_their_expiry_and_the_legal_basis(world: World) -> None:
    url = f"/inspections/field/legal_person/{world.restaurant.pk}/03/"
    page = world.client(world.admin).get(url, headers={"accept-language": "zh-hans"})
    text = page.content.decode()
    assert page.status_code == 200 and "JY-1" in text and "《食品安全法》第三十五条" in text
    assert world.client(world.far_admin).get(url).status_code == 404


def test_a_queued_form_sent_twice_is_stored_once(world: World) -> None:
    client = world.client(world.admin)
    url = f"/inspections/field/house/{world.house.pk}/01/"
    headers = {"idempotency-key": "q-1", "accept": "application/json"}
    first = client.post(url, form_data(**{"01.03": "no"}), headers=headers)
    second = client.post(url, form_data(**{"01.03": "no"}), headers=headers)
    assert first.status_code == 200 and second.json()["number"] == first.json()["number"]
    visit = Visit.objects.get()
    assert visit.failed == 1 and visit.answers.get(item__code="01.05").photo
    page = client.get(first.json()["url"])
    assert page.status_code == 200 and visit.findings.get().notice_number in page.content.decode()


def test_a_refused_form_answers_with_the_field(world: World) -> None:
    data = form_data()
    del data["signed"]
    response = world.client(world.admin).post(
        f"/inspections/field/house/{world.house.pk}/01/", data,
        headers={"idempotency-key": "q-2", "accept": "application/json"},
    )  # fmt: skip
    assert response.status_code == 422 and response.json()["field"] == "signed"
    assert not Visit.objects.exists()


def test_the_center_report_and_its_xlsx(world: World) -> None:
    client = world.client(world.admin)
    client.post(f"/inspections/field/house/{world.house.pk}/01/", form_data())
    center = world.client(world.dispatcher)
    page = center.get("/inspections/report/")
    # The page names the grid; the download keeps its code.
    assert page.status_code == 200 and "东村 grid 01 (441900 123 001 01)" in page.content.decode()
    download = center.get("/inspections/report/", {"format": "xlsx"})
    book = load_workbook(io.BytesIO(download.content))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[1][0] == "44190012300101" and rows[1][1] == 1


def test_the_inspection_pages_in_chinese_have_no_english_from_the_catalogue(world: World) -> None:
    from civicgrid.web.tests.zh_catalogue import english_on

    client = world.client(world.admin)
    form = f"/inspections/field/legal_person/{world.restaurant.pk}/03/"
    client.post(f"/inspections/field/house/{world.house.pk}/01/", form_data(**{"01.03": "no"}))
    visit = Visit.objects.get()
    zh = {"accept-language": "zh-hans"}
    pages = {url: english_on(client.get(url, headers=zh).content.decode())
             for url in ("/inspections/field/", "/inspections/field/?q=东村", form,
                         f"/inspections/visits/{visit.number}/")}  # fmt: skip
    center = world.client(world.dispatcher)
    pages["report"] = english_on(center.get("/inspections/report/", headers=zh).content.decode())
    assert not {url: found for url, found in pages.items() if found}
