"""Duty arithmetic against hand-computed cases (no database)."""

from __future__ import annotations

import math

import pytest
from shapely.geometry import box

from civicgrid.patrol.duty import EARTH_RADIUS_M, duty_figures, implausible

DAY = 1_700_000_000.0  # any midnight will do for the arithmetic
END = DAY + 86_400.0
LON, LAT = 113.005, 23.01
METRES_PER_DEGREE = math.radians(1) * EARTH_RADIUS_M


def walk(seconds: list[float], lat_step: float = 0.0) -> dict[str, list[float] | list[bool]]:
    return {
        "times": [DAY + s for s in seconds],
        "lons": [LON] * len(seconds),
        "lats": [LAT + i * lat_step for i in range(len(seconds))],
        "flagged": [False] * len(seconds),
    }


def test_exactly_four_hours_meets_the_rule() -> None:
    figures = duty_figures(**walk([60.0 * i for i in range(241)]), day_start=DAY, day_end=END)
    assert figures.patrol_minutes == 240.0
    assert figures.rule == "met"


def test_one_minute_short_of_four_hours_does_not() -> None:
    figures = duty_figures(**walk([60.0 * i for i in range(240)]), day_start=DAY, day_end=END)
    assert figures.patrol_minutes == 239.0
    assert figures.rule == "not_met"


def test_a_gap_longer_than_five_minutes_is_not_patrol_time() -> None:
    # 0→60→120 (2 min), 120→421 is 301 s (a gap), 421→721 is exactly 300 s (counted).
    figures = duty_figures(**walk([0, 60, 120, 421, 721]), day_start=DAY, day_end=END)
    assert figures.patrol_minutes == 7.0


def test_an_interval_across_midnight_counts_only_its_part_inside_the_day() -> None:
    # 23:58 → 00:01: 180 s of which 60 s fall in the day, moving 0.003° north.
    fixes = walk([-120.0, 60.0], lat_step=0.003)
    figures = duty_figures(**fixes, day_start=DAY, day_end=END)
    assert figures.patrol_minutes == 1.0
    assert figures.distance_m == pytest.approx(0.003 * METRES_PER_DEGREE / 3, rel=1e-9)
    before = duty_figures(**fixes, day_start=DAY - 86_400, day_end=DAY)
    assert before.patrol_minutes == 2.0
    assert before.good_fixes == 1 and figures.good_fixes == 1


def test_distance_is_summed_along_the_fixes() -> None:
    figures = duty_figures(**walk([0, 60, 120], lat_step=0.001), day_start=DAY, day_end=END)
    assert figures.distance_m == pytest.approx(2 * 0.001 * METRES_PER_DEGREE, rel=1e-9)


def test_time_in_grid_needs_both_fixes_inside() -> None:
    grid = box(113.00, 23.00, 113.01, 23.02)
    fixes = walk([0, 60, 120, 180])
    fixes["lons"] = [113.005, 113.006, 113.015, 113.007]  # the third fix is outside
    figures = duty_figures(**fixes, day_start=DAY, day_end=END, grid=grid)
    assert figures.patrol_minutes == 3.0
    assert figures.in_grid_minutes == 1.0


def test_houses_passed_within_fifty_metres_of_the_route() -> None:
    step = 0.002  # about 222 m north per fix
    east_40 = 40 / (METRES_PER_DEGREE * math.cos(math.radians(LAT + step / 2)))
    east_60 = 60 / (METRES_PER_DEGREE * math.cos(math.radians(LAT + step / 2)))
    houses = [(LON + east_40, LAT + step / 2), (LON + east_60, LAT + step / 2)]
    figures = duty_figures(
        **walk([0, 60], lat_step=step), day_start=DAY, day_end=END, houses=houses
    )
    assert (figures.houses_passed, figures.houses_total) == (1, 2)
    assert figures.houses_share == 0.5


def test_flagged_fixes_are_rejected_and_left_out() -> None:
    fixes = walk([0, 60, 120, 180])
    fixes["flagged"] = [False, True, False, False]
    fixes["lats"] = [LAT, LAT + 1.0, LAT, LAT]  # the flagged fix is far away
    figures = duty_figures(**fixes, day_start=DAY, day_end=END)
    assert figures.rejected_fixes == 1
    assert figures.good_fixes == 3
    assert figures.distance_m == 0.0
    assert figures.patrol_minutes == 3.0  # 0→120 is 120 s, within the gap, then 120→180


def test_an_exempt_day_is_exempt_whatever_the_time() -> None:
    figures = duty_figures(**walk([0, 60]), day_start=DAY, day_end=END, exempt=True)
    assert figures.rule == "exempt"
    assert figures.patrol_minutes == 1.0


def test_no_fixes_is_zero_and_not_met() -> None:
    figures = duty_figures(times=[], lons=[], lats=[], flagged=[], day_start=DAY, day_end=END)
    assert (figures.patrol_minutes, figures.distance_m, figures.rule) == (0.0, 0.0, "not_met")


def test_implausible_fixes_are_flagged_by_reason() -> None:
    now = DAY + 1000
    flags = implausible(
        times=[DAY, DAY + 10, DAY + 20, DAY + 30, now + 600],
        lons=[LON, LON, LON, LON, LON],
        lats=[LAT, LAT + 0.01, LAT + 0.00001, LAT, LAT],  # +0.01° in 10 s is 111 m/s
        accuracies=[5, 5, 500, 5, 5],
        now=now,
    )
    assert flags == ["", "speed", "accuracy", "", "future"]


def test_a_jump_is_measured_from_the_last_good_fix_before_the_batch() -> None:
    flags = implausible(
        times=[DAY + 10],
        lons=[LON],
        lats=[LAT + 0.01],
        accuracies=[None],
        now=DAY + 100,
        previous=(DAY, LON, LAT),
    )
    assert flags == ["speed"]
