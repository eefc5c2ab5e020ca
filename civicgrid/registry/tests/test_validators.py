"""Validators against published examples: GB 11643 resident IDs, GB 32100 credit codes."""

from __future__ import annotations

import datetime as dt

import pytest

from civicgrid.registry import validators
from civicgrid.registry.validators import InvalidValue

TODAY = dt.date(2025, 6, 1)


@pytest.mark.parametrize(
    ("number", "birth", "sex"),
    [
        ("11010519491231002X", dt.date(1949, 12, 31), "F"),  # GB 11643-1999 example
        ("440524188001010014", dt.date(1880, 1, 1), "M"),  # GB 11643-1999 example
        ("360426199101010071", dt.date(1991, 1, 1), "M"),  # python-stdnum documentation
        (" 11010519491231002x ", dt.date(1949, 12, 31), "F"),  # lower-case x, spaces
    ],
)
def test_resident_id_accepts_published_examples_and_derives_birth_and_sex(number, birth, sex):
    rid = validators.resident_id(number, today=TODAY)
    assert (rid.birth_date, rid.sex) == (birth, sex)
    assert rid.number == number.strip().upper()


@pytest.mark.parametrize(
    ("number", "problem"),
    [
        ("110105194912310021", "check character"),  # last character altered
        ("11010519491231002", "18 characters"),
        ("1101051949123100XX", "17 digits"),
        ("110105194902300025", "birth date"),  # 30 February; check character recomputed
        ("110105203001010011", "impossible"),  # born in 2030
        ("990105194912310025", "region"),
    ],
)
def test_resident_id_refuses_invalid_numbers_naming_the_problem(number, problem):
    from stdnum.cn import ric

    if problem in {"birth date", "impossible", "region"}:
        number = number[:17] + ric.calc_check_digit(number[:17] + "0")
    with pytest.raises(InvalidValue, match=problem):
        validators.resident_id(number, today=TODAY)


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L", "91110108551385082Q"])
def test_credit_code_accepts_published_examples(code):
    assert validators.credit_code(code.lower()) == code


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("91350100M000100Y44", "check character"),
        ("91110000600037341", "18 characters"),
        ("9135010OM000100Y43", "capital letters"),  # letter O is not allowed
    ],
)
def test_credit_code_refuses_invalid_codes(code, problem):
    with pytest.raises(InvalidValue, match=problem):
        validators.credit_code(code)


@pytest.mark.parametrize(
    "raw", ["13812345678", "+86 138 1234 5678", "0769-22223333", "02088889999"]
)
def test_phone_accepts_mobiles_and_landlines(raw):
    assert validators.phone(raw)


@pytest.mark.parametrize("raw", ["12345678901", "1381234567", "22223333"])
def test_phone_refuses_other_numbers(raw):
    with pytest.raises(InvalidValue):
        validators.phone(raw)


def test_derived_tags_follow_birth_date_and_pregnancy_expiry():
    assert validators.derived_tags(
        birth_date=dt.date(2019, 6, 1), pregnant_until=None, today=TODAY
    ) == {"child"}
    assert validators.derived_tags(
        birth_date=dt.date(2018, 6, 2), pregnant_until=None, today=TODAY
    ) == {"child"}  # 6 until the birthday
    assert (
        validators.derived_tags(birth_date=dt.date(2018, 6, 1), pregnant_until=None, today=TODAY)
        == set()
    )
    assert validators.derived_tags(
        birth_date=dt.date(1965, 6, 1), pregnant_until=None, today=TODAY
    ) == {"senior"}
    assert (
        validators.derived_tags(
            birth_date=dt.date(1965, 6, 1), pregnant_until=None, today=TODAY, senior_age=65
        )
        == set()
    )
    assert validators.derived_tags(
        birth_date=None, pregnant_until=dt.date(2025, 6, 1), today=TODAY
    ) == {"pregnant"}
    assert (
        validators.derived_tags(birth_date=None, pregnant_until=dt.date(2025, 5, 31), today=TODAY)
        == set()
    )


def test_age_range_matches_derived_tags():
    earliest, latest = validators.birth_date_range_for_age(min_age=0, max_age=6, today=TODAY)
    assert earliest == dt.date(2018, 6, 2) and latest == TODAY


def test_licence_problems_lists_missing_and_expired():
    required = validators.required_licences(kind="individual", industry="catering")
    assert required == ("business", "catering", "public_health", "fire_safety")
    problems = validators.licence_problems(
        required=required,
        held=[
            ("business", None),
            ("catering", dt.date(2025, 1, 1)),
            ("catering", dt.date(2024, 1, 1)),
            ("public_health", dt.date(2026, 1, 1)),
        ],
        today=TODAY,
    )
    assert [(p.kind, p.problem) for p in problems] == [
        ("fire_safety", "missing"),
        ("catering", "expired"),
    ]
    assert validators.required_licences(kind="institution", industry="other") == ()


def test_component_identifier_carries_its_category():
    assert validators.component_category("0112") == "0112"
    assert validators.component_identifier("4419000112000001", category="0112")
    with pytest.raises(InvalidValue, match="not the category"):
        validators.component_identifier("4419000101000001", category="0112")
    with pytest.raises(InvalidValue, match="Unknown"):
        validators.component_category("0199")
