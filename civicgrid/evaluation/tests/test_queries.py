"""The indicator API answers in as many statements for 100 cases as for 10, at every level
(issue 20). A past week, so the figures are read as stored."""

from __future__ import annotations

import datetime as dt

from civicgrid.cases.tests.conftest import Loop, staff
from civicgrid.evaluation import selectors
from civicgrid.evaluation.tests.conftest import HandClock, few_and_many
from civicgrid.people.models import Role
from civicgrid.testing import assert_flat, measured
from civicgrid.web.tests.test_work_pages import client_for


def test_indicators_answer_in_as_many_statements_for_100_cases_as_for_10(
    loop: Loop, hand_clock: HandClock
) -> None:
    viewer = staff("sup1", Role.SUPERVISOR, township=loop.township)
    day1, day2 = hand_clock.day1, hand_clock.day1 + dt.timedelta(days=1)
    period = f"from={day1.isoformat()}&to={day2.isoformat()}"
    urls = [f"/api/v1/evaluation/indicators?level={level}&{period}" for level in selectors.LEVELS]

    def measure() -> dict[str, list[str]]:
        supervisor = client_for(viewer)  # logged in at the hand clock's time
        return {url: measured(supervisor, url) for url in urls}

    few, many = few_and_many(loop, hand_clock, measure)
    township = client_for(viewer).get(urls[0]).json()["rows"][0]["counts"]
    assert township["reports"] == 100, township
    assert_flat(few, many)
