"""The indicator API answers in as many statements for 100 cases as for 10, at every level
(issue 20). A past week, so the figures are read as stored."""

from __future__ import annotations

import datetime as dt

from civicgrid.cases.tests.conftest import Loop, staff
from civicgrid.cases.tests.test_list_reads import _mixed_cases
from civicgrid.evaluation import services
from civicgrid.evaluation.tests.conftest import HandClock
from civicgrid.people.models import Role
from civicgrid.testing import assert_flat, measured
from civicgrid.web.tests.test_work_pages import client_for

LEVELS = ("township", "village", "grid", "department", "administrator")


def test_indicators_answer_in_as_many_statements_for_100_cases_as_for_10(
    loop: Loop, hand_clock: HandClock
) -> None:
    viewer = staff("sup1", Role.SUPERVISOR, township=loop.township)
    day1, day2 = hand_clock.day1, hand_clock.day1 + dt.timedelta(days=1)
    period = f"from={day1.isoformat()}&to={day2.isoformat()}"
    urls = [f"/api/v1/evaluation/indicators?level={level}&{period}" for level in LEVELS]

    def measure() -> dict[str, list[str]]:
        supervisor = client_for(viewer)  # logged in at the hand clock's time
        return {url: measured(supervisor, url) for url in urls}

    hand_clock.at(day1, 9)
    _mixed_cases(loop, 10)
    hand_clock.at(day2, 18)
    services.figures_materialise(days=[day1, day2])
    few = measure()
    hand_clock.at(day1, 15)
    _mixed_cases(loop, 90)
    hand_clock.at(day2, 19)
    services.figures_materialise(days=[day1, day2])
    many = measure()
    township = client_for(viewer).get(urls[0]).json()["rows"][0]["counts"]
    assert township["reports"] == 100, township
    assert_flat(few, many)
