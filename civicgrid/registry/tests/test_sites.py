"""The sites register (construction sites, education institutions, public places): scope,
history with masked contacts, import and export."""

from __future__ import annotations

import io

import pytest

from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.registry import selectors, services, transfer
from civicgrid.registry.models import RecordChange, Site
from civicgrid.registry.tests.conftest import IN_FAR, IN_GRID, Cast

pytestmark = pytest.mark.django_db


def site_values(code: str = "S001", where: tuple[float, float] = IN_GRID, **extra: object) -> dict:
    return {"code": code, "kind": "construction", "subtype": "demolition", "name": "旧厂拆除",
            "lon": where[0], "lat": where[1], "operator": "某拆除公司", "contact_name": "孙八",
            "contact_phone": "13912345678", "permit_number": "SG-1", "demolition": True,
            **extra}  # fmt: skip


def test_a_site_is_registered_in_its_grid_with_a_masked_history(cast: Cast) -> None:
    site = services.site_create(values=site_values(), actor=cast.admin)
    assert site.grid == cast.grid and site.demolition
    change = RecordChange.objects.get(model="registry.Site", record_id=site.pk)
    assert change.changes["contact_name"][1] != "孙八"
    assert change.changes["contact_phone"][1] != "13912345678"
    assert selectors.record_for("sites", cast.other_admin, site.pk) is None
    assert selectors.record_for("sites", cast.dispatcher, site.pk) == site


def test_sites_outside_ones_grids_or_ending_before_they_start_are_refused(cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        services.site_create(values=site_values(where=IN_FAR), actor=cast.admin)
    with pytest.raises(ValidationFailed) as refused:
        services.site_create(values=site_values(starts_on="2026-05-01", ends_on="2026-04-01"),
                             actor=cast.admin)  # fmt: skip
    assert refused.value.field == "ends_on"
    assert not Site.objects.exists()


def test_sites_import_all_or_nothing_and_export_masked(cast: Cast) -> None:
    csv = ("code,kind,name,lon,lat,contact_name,permit_number,permit_expires_on\n"
           f"S010,education,东村幼儿园,{IN_GRID[0]},{IN_GRID[1]},周九,JY-9,2027-01-01\n"
           f"S011,public_place,东村旅馆,{IN_GRID[0]},{IN_GRID[1]},吴十,WS-9,\n")  # fmt: skip
    bad = csv + f"S012,shop,商店,{IN_GRID[0]},{IN_GRID[1]},,,\n"
    report = transfer.registry_import(kind="sites", stream=io.BytesIO(bad.encode()),
                                      name="s.csv", actor=cast.admin)  # fmt: skip
    assert not report.ok and not Site.objects.exists()
    report = transfer.registry_import(kind="sites", stream=io.BytesIO(csv.encode()),
                                      name="s.csv", actor=cast.admin)  # fmt: skip
    assert report.ok and report.created == 2
    out = io.BytesIO()
    transfer.registry_export(kind="sites", actor=cast.admin, out=out, fmt="csv")
    text = out.getvalue().decode("utf-8-sig")
    assert "东村幼儿园" in text and "44190012300101" in text and "周九" not in text


def test_the_sites_pages_list_show_and_add(cast: Cast, client) -> None:  # type: ignore[no-untyped-def]
    site = services.site_create(values=site_values(), actor=None)
    client.force_login(cast.admin)
    assert "旧厂拆除" in client.get("/registry/sites/").content.decode()
    detail = client.get(f"/registry/sites/{site.pk}/").content.decode()
    assert "SG-1" in detail and "孙八" not in detail
    assert client.get("/registry/sites/new/").status_code == 200
    response = client.post("/registry/sites/new/", {
        "code": "S002", "kind": "education", "name": "东村小学", "lon": IN_GRID[0],
        "lat": IN_GRID[1], "subtype": "primary",
    })  # fmt: skip
    assert response.status_code == 302 and Site.objects.filter(code="S002").exists()
    assert client.get("/registry/sites/export.xlsx").status_code == 200
