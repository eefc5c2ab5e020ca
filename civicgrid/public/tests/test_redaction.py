"""Public text never shows a phone or ID number, however the resident wrote it (finding 10)."""

from __future__ import annotations

import pytest
from django.test import Client

from civicgrid.public.selectors import redact
from civicgrid.public.tests.conftest import Public

MOBILE = "13800138000"
ID_NUMBER = "11010519491231002X"


@pytest.mark.parametrize(
    "written",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "138.0013.8000",
        "+86 138 0013 8000",
        "+8613800138000",
        "+86-138-0013-8000",
        "0086 13800138000",
        "0086-138-0013-8000",
        "86 13800138000",
        "１３８００１３８０００",  # full-width digits
        "１３８　００１３　８０００",  # full-width digits, ideographic spaces
        "＋８６ １３８－００１３－８０００",  # full-width plus and dash
    ],
)
def test_mobile_numbers_are_masked_in_every_format(written):
    shown = redact(f"井盖丢失，请联系{written}，谢谢")
    assert shown == "井盖丢失，请联系138****8000，谢谢"


@pytest.mark.parametrize(
    "written",
    [
        "11010519491231002X",
        "11010519491231002x",
        "110105 19491231 002X",
        "110105-19491231-002X",
        "1101 0519 4912 3100 2X",
        "１１０１０５１９４９１２３１００２Ｘ",
        "１１０１０５　１９４９１２３１　００２Ｘ",
    ],
)
def test_id_numbers_are_masked_in_every_format(written):
    shown = redact(f"身份证号：{written}。")
    assert shown == "身份证号：110105********002*。"
    assert "19491231" not in shown


@pytest.mark.parametrize(
    "written", ["020-88886666", "(020) 8888 6666", "02088886666", "+86 20 8888 6666"]
)
def test_landline_numbers_are_masked(written):
    assert redact(f"座机 {written}") == "座机 020****6666"


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-05 12:30 发现，持续 3 天",
        "共 35 户，面积 1200.5 平方米，编号 123456",
        "门牌号 13 号，第 2024 年",
        "",
    ],
)
def test_text_without_numbers_to_hide_is_unchanged(text):
    assert redact(text) == text


def test_public_pages_and_open311_show_no_reformatted_number(public: Public, client: Client):
    description = "请联系 +86 138-0013-8000 或 １３９００１３９０００，身份证 110105 19491231 002X"
    reported = public.resident_report(description=description)
    number = reported.case.number
    pages = [
        client.get("/public/cases/").content.decode(),
        client.get(f"/public/c/{number}/{reported.follow_token}/").content.decode(),
        client.get(f"/open311/v2/requests/{number}.json").content.decode(),
    ]
    for page in pages:
        assert number in page
        assert "138****8000" in page and "139****9000" in page
        for leaked in ("0013-8000", "８０００", "１３９００", "19491231", "002X"):
            assert leaked not in page
