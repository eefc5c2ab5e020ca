import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicgrid.geo import codes

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)
province = st.sampled_from(sorted(codes.PROVINCE_PREFIXES))


@st.composite
def valid_codes(draw: st.DrawFn) -> str:
    division = draw(province) + draw(st.text("0123456789", min_size=4, max_size=4))
    township = f"{draw(st.integers(1, 999)):03d}"
    village = f"{draw(st.integers(1, 999)):03d}"
    sequence = f"{draw(st.integers(1, 99)):02d}"
    return division + township + village + sequence


@given(valid_codes())
def test_parse_and_format_round_trip(code):
    parsed = codes.parse(code)
    assert parsed.compact == code
    assert codes.parse(parsed.spaced) == parsed
    assert codes.format_code(code) == f"{code[:6]} {code[6:9]} {code[9:12]} {code[12:]}"
    assert parsed.village_code == code[:12]
    assert parsed.township_code == code[:9]


@given(valid_codes(), st.sampled_from([" ", "-", "  "]))
def test_parse_ignores_separators(code, separator):
    spaced = separator.join([code[:6], code[6:9], code[9:12], code[12:]])
    assert codes.parse(spaced).compact == code


@given(st.text(alphabet="0123456789", max_size=30).filter(lambda s: len(s) != 14))
def test_wrong_length_is_explained_with_the_count(text):
    reason = codes.explain(text)
    assert reason is not None
    if text:
        assert str(len(text)) in reason


@given(valid_codes(), st.integers(0, 13), st.sampled_from(list("aZ.x/")))
def test_non_digit_is_named(code, position, char):
    bad = code[:position] + char + code[position + 1 :]
    assert f"“{char}”" in codes.explain(bad)


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("44190012300400", "sequence"),
        ("44190012300007", "village"),
        ("44190000000407", "township"),
        ("99190012300407", "province"),
        ("", "empty"),
    ],
)
def test_each_invalid_part_gets_its_own_reason(code, fragment):
    assert fragment in codes.explain(code)


def test_unknown_township_and_village_are_refused_when_a_registry_is_given():
    with pytest.raises(codes.InvalidGridCode, match="Unknown township 441900123"):
        codes.parse("44190012300407", known_township=lambda c: False)
    with pytest.raises(codes.InvalidGridCode, match="Unknown village 441900123004"):
        codes.parse("44190012300407", known_township=lambda c: True, known_village=lambda c: False)


def test_compose_pads_the_sequence_and_refuses_out_of_range():
    assert codes.compose("441900", "123", "004", 7).spaced == "441900 123 004 07"
    with pytest.raises(codes.InvalidGridCode):
        codes.compose("441900", "123", "004", 100)


def test_reasons_are_given_in_chinese_too():
    from django.utils import translation

    with translation.override("zh-hans"):
        assert codes.explain("44190012300400") == "网格序号（第 13–14 位）不能为 00。"
