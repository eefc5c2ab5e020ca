"""Staff see where a case is (the address or landmark typed) and who acted, by name."""

from __future__ import annotations

import pytest

from civicgrid.cases.tests.conftest import Loop, loop  # noqa: F401  (fixture)
from civicgrid.testing import logged_in

ADDRESS = "东村路12号小卖部门口"


@pytest.mark.django_db
def test_the_address_shows_on_every_staff_case_page_and_list(loop: Loop) -> None:  # noqa: F811
    reported = loop.report(address=ADDRESS)
    center = logged_in(loop.dispatcher, "zh-hans")
    assert ADDRESS in center.get("/center/").content.decode()
    page = center.get(f"/center/cases/{reported.number}/").content.decode()
    assert f'id="case-address">{ADDRESS}' in page
    assert "测试镇" not in page or "第01网格 (441900 123 001 01)" in page
    loop.act(reported, "file")
    loop.act(reported, "dispatch")
    officer = logged_in(loop.officer, "zh-hans")
    assert ADDRESS in officer.get("/dept/").content.decode()
    page = officer.get(f"/dept/cases/{reported.number}/").content.decode()
    assert ADDRESS in page
    timeline = page.split('id="timeline"')[1]
    assert '<span class="department">城管</span>' in timeline
    assert "URBAN" not in timeline
    assert "调度员" in timeline  # the role in words
    field = logged_in(loop.admin, "zh-hans")
    assert ADDRESS in field.get(f"/field/cases/{reported.number}/").content.decode()
    assert ADDRESS in field.get("/field/").content.decode()


@pytest.mark.django_db
def test_the_field_home_names_the_grid(loop: Loop) -> None:  # noqa: F811
    page = logged_in(loop.admin, "zh-hans").get("/field/").content.decode()
    assert "东村 第01网格 (441900 123 001 01)" in page
