"""Imports bounded in bytes, unpacked bytes and rows; exports that no spreadsheet runs.

Issue 13, findings 3, 4 and 9: a 2.1 MB XLSX unpacking to 625 MB took the server down, a
house address ``=cmd|' /C calc'!A0`` came out of the export as a live formula, and a
component photo could be any file.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from openpyxl import Workbook, load_workbook

from civicgrid.core.errors import ValidationFailed
from civicgrid.core.tests.test_input_bounds import png_claiming
from civicgrid.registry import services, transfer
from civicgrid.registry.models import House, UrbanComponent
from civicgrid.registry.tests.conftest import IN_GRID, house_values
from civicgrid.registry.tests.test_api import client_for
from civicgrid.registry.tests.test_transfer import as_csv
from civicgrid.testing import jpeg

HOUSE_HEADER = ["房屋编号 / House code", "地址 / Address", "经度 / Longitude", "纬度 / Latitude"]
FORMULA = "=cmd|' /C calc'!A0"


def xlsx(rows: list[list[object]], *, padding: int = 0) -> bytes:
    """A workbook; ``padding`` bytes of blank cells make its sheet XML unpack large."""
    book = Workbook()
    for row in rows:
        book.active.append(row)
    plain = io.BytesIO()
    book.save(plain)
    if not padding:
        return plain.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == "xl/worksheets/sheet1.xml":
                filler = b'<c r="Z1" t="inlineStr"><is><t></t></is></c>'
                data = data.replace(
                    b"</sheetData>", filler * (padding // len(filler)) + b"</sheetData>"
                )
            bomb.writestr(entry, data)
    return out.getvalue()


def test_an_xlsx_that_unpacks_too_large_is_refused_before_it_is_parsed(cast, monkeypatch):
    import openpyxl

    def never(*args, **kwargs):
        raise AssertionError("the workbook was parsed")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    bomb = xlsx([HOUSE_HEADER], padding=30 * 1024 * 1024)
    assert len(bomb) < 1024 * 1024  # a small file ...
    limit = override_settings(CIVICGRID_IMPORT_MAX_UNPACKED_BYTES=20 * 1024 * 1024)
    with (
        limit,
        pytest.raises(ValidationFailed, match="unpacks to 30 MB, more than the 20 MB") as refused,
    ):
        transfer.registry_import(
            kind="houses", stream=io.BytesIO(bomb), name="h.xlsx", actor=cast.admin
        )
    assert refused.value.field == "file"
    assert House.objects.count() == 0


def test_a_file_that_is_no_zip_is_a_clear_422_not_a_server_error(cast):
    response = client_for(cast.admin).post(
        "/api/v1/registry/import/houses",
        {"file": SimpleUploadedFile("h.xlsx", b"code,address\nH1,somewhere\n")},
    )
    assert response.status_code == 422
    assert response.json()["field"] == "file"
    assert "zip" in response.json()["message"]


def test_a_workbook_with_a_broken_sheet_is_a_clear_refusal(cast):
    plain = io.BytesIO(xlsx([HOUSE_HEADER, ["H001", "东村路", IN_GRID[0], IN_GRID[1]]]))
    broken = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(broken, "w") as out:
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b"</sheetData></worksheet><junk>")
            out.writestr(entry, data)
    with pytest.raises(ValidationFailed, match="not a valid XLSX") as refused:
        transfer.registry_import(
            kind="houses", stream=io.BytesIO(broken.getvalue()), name="h.xlsx", actor=cast.admin
        )
    assert refused.value.field == "file"
    assert House.objects.count() == 0


def test_the_import_page_shows_the_same_refusal(cast):
    client = Client(headers={"accept-language": "en"})
    client.force_login(cast.admin)
    page = client.post(
        "/registry/import/",
        {"kind": "houses", "file": SimpleUploadedFile("h.xlsx", b"not a workbook")},
    )
    assert page.status_code == 200
    assert "not a valid XLSX workbook" in page.content.decode()


def test_rows_and_bytes_are_capped(cast):
    rows = [[f"H{i:03d}", f"{i} 东村路", IN_GRID[0], IN_GRID[1]] for i in range(5)]
    with override_settings(CIVICGRID_IMPORT_MAX_ROWS=4):
        with pytest.raises(ValidationFailed, match="more than 4 rows"):
            transfer.registry_import(
                kind="houses", stream=as_csv(HOUSE_HEADER, rows), name="h.csv", actor=cast.admin
            )
        report = transfer.registry_import(
            kind="houses", stream=as_csv(HOUSE_HEADER, rows[:4]), name="h.csv", actor=cast.admin
        )
        assert report.created == 4
    with (
        override_settings(CIVICGRID_IMPORT_MAX_BYTES=100),
        pytest.raises(ValidationFailed, match="larger than"),
    ):
        transfer.registry_import(
            kind="houses", stream=as_csv(HOUSE_HEADER, rows), name="h.csv", actor=cast.admin
        )
    assert House.objects.count() == 4


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_cells_are_neutralised_and_restored(start):
    value = start + "1+1"
    assert transfer.neutralised(value) == "'" + value
    assert transfer.restored(transfer.neutralised(value)) == value
    assert transfer.neutralised("东村路 1 号") == "东村路 1 号"
    assert transfer.restored("'quoted by the user") == "'quoted by the user"
    assert transfer.neutralised(-5) == -5


def _export(actor, fmt: str) -> bytes:
    out = io.BytesIO()
    # Unmasked: a masked export does not import back (its masked cells are not values).
    transfer.registry_export(
        kind="houses", actor=actor, out=out, fmt=fmt, purpose="round trip", unmasked=True
    )
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_exported_formula_is_text_and_imports_back_to_the_original(cast, fmt):
    services.house_create(values=house_values("H001", address=FORMULA), actor=cast.admin)
    exported = _export(cast.root, fmt)
    if fmt == "csv":
        text = exported.decode("utf-8-sig")
        assert f"'{FORMULA}" in text and f",{FORMULA}" not in text
    else:
        sheet = load_workbook(io.BytesIO(exported)).worksheets[0]
        cells = [cell for row in sheet.iter_rows() for cell in row]
        assert not [c for c in cells if c.data_type == "f"]
        assert "'" + FORMULA in [c.value for c in cells]
    House.objects.all().delete()
    report = transfer.registry_import(
        kind="houses", stream=io.BytesIO(exported), name=f"h.{fmt}", actor=cast.admin
    )
    assert report.ok, report.lines(5)
    house = House.objects.get()
    assert house.address == FORMULA


def _component_values(identifier: str) -> dict[str, object]:
    return {"identifier": identifier, "lon": IN_GRID[0], "lat": IN_GRID[1]}


def test_component_photos_get_the_case_photo_checks(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    for data in (b"<html><script>alert(1)</script>", png_claiming(20_000, 20_000)):
        with pytest.raises(ValidationFailed) as refused:
            services.component_create(
                values=_component_values("4419000112000001"),
                actor=cast.admin,
                photo=SimpleUploadedFile("x.html", data),
            )
        assert refused.value.field == "photo"
    assert UrbanComponent.objects.count() == 0
    with (
        override_settings(CIVICGRID_PHOTO_MAX_BYTES=100),
        pytest.raises(ValidationFailed, match="larger than"),
    ):
        services.component_create(
            values=_component_values("4419000112000001"),
            actor=cast.admin,
            photo=SimpleUploadedFile("p.jpg", jpeg((64, 48))),
        )
    component = services.component_create(
        values=_component_values("4419000112000001"),
        actor=cast.admin,
        photo=SimpleUploadedFile("evil.html", jpeg((64, 48))),
    )
    assert component.photo.name.endswith(".jpg")
    assert "evil" not in component.photo.name
