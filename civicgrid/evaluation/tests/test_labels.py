"""How figures and their changes read on the evaluation page."""

from __future__ import annotations

import pytest

from civicgrid.evaluation.labels import format_change, format_value


@pytest.mark.parametrize(
    ("indicator", "now", "before", "shown"),
    [
        ("reports", 124.0, 100.0, "+24"),  # a count: whole cases
        ("reports", 100.0, 124.0, "-24"),
        ("reports", 4_878_049.0, 1.0, "+4878048"),  # never in exponent notation
        ("reports", 7.0, 7.0, "±0"),
        ("mean_hours_to_close", 12.25, 10.0, "+2.2"),
        ("score", 80.0, 90.0, "-10.0"),
        ("reports", None, 3.0, ""),
    ],
)
def test_changes_read_as_their_kind_of_figure(
    indicator: str, now: float | None, before: float | None, shown: str
) -> None:
    assert format_change(indicator, now, before) == shown


def test_a_rate_changes_in_percentage_points() -> None:
    from civicgrid.evaluation.labels import PERCENT

    rate = next(iter(PERCENT))
    assert format_change(rate, 0.55, 0.5) == "+5.0 pp"


@pytest.mark.parametrize(
    ("indicator", "value", "shown"),
    [("reports", 4_878_049.0, "4878049"), ("reports", 3.0, "3"), ("mean_rating", 4.25, "4.2")],
)
def test_values_read_in_full(indicator: str, value: float, shown: str) -> None:
    assert format_value(indicator, value) == shown
