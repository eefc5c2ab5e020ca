"""The 12-month trend of the figures other apps count: registry freshness, inspections done
÷ due, findings rectified in time, households visited; each month against figures worked
out by hand from the fixtures."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.utils import timezone

from civicgrid.cases.tests.conftest import HERE, staff
from civicgrid.evaluation import formulas, selectors
from civicgrid.evaluation.tests.test_lists import (  # noqa: F401  (fixtures)
    api_rows,
    field_work,
    field_work_only,
    login,
    notices,
)
from civicgrid.people.models import Role
from civicgrid.registry import services as registry
from civicgrid.registry.tests.conftest import resident_id

pytestmark = pytest.mark.django_db


def months_of(points: list[tuple[str, object]]) -> dict[str, object]:
    return dict(points)


def test_registry_freshness_month_by_month_from_the_history(loop, hand_clock):
    """House A created 10 Sep 2024, changed 20 May and 10 Jun 2025; house B and its resident
    created 5 Mar 2025. Fresh: created or changed in the 183 days before a month's end."""
    hand_clock.at(dt.date(2024, 9, 10), 10)
    a = registry.house_create(values={"code": "HA", "address": "东村路1号", "lon": HERE[0],
                                      "lat": HERE[1], "use": "own"}, actor=None)  # fmt: skip
    hand_clock.at(dt.date(2025, 3, 5), 10)
    registry.house_create(values={"code": "HB", "address": "东村路2号", "lon": HERE[0],
                                  "lat": HERE[1], "use": "own"}, actor=None)  # fmt: skip
    born = resident_id(dt.date(1970, 1, 1))
    registry.person_create(values={"full_name": "孙八", "id_number": born,
                                   "phone": "13912345670", "house": "HB"}, actor=None)  # fmt: skip
    for day, address in (
        (dt.date(2025, 5, 20), "东村路1号之一"),
        (dt.date(2025, 6, 10), "东村路1号之二"),
    ):
        hand_clock.at(day, 10)
        a.refresh_from_db()
        registry.house_update(house=a, values={"address": address}, actor=None)
    hand_clock.at(dt.date(2025, 6, 30), 12)
    supervisor = staff("sup1", Role.SUPERVISOR, township=loop.township)
    trend = months_of(selectors.trend(supervisor, "registry_freshness", end=dt.date(2025, 6, 30)))
    expected = {"2024-07": None, "2024-08": None}
    expected |= {m: 1.0 for m in ("2024-09", "2024-10", "2024-11", "2024-12", "2025-01",
                                  "2025-02")}  # fmt: skip
    # A's creation is older than 183 days at the end of March; its change of 20 May was
    # later: B and the resident only. At the end of May the change of 20 May counts, though
    # A's own time stamp (10 June) is past the month's end.
    expected |= {"2025-03": 2 / 3, "2025-04": 2 / 3, "2025-05": 1.0, "2025-06": 1.0}
    assert trend == expected
    # The last month ends now: the same figure as the table's.
    june = selectors.Period(dt.date(2025, 6, 1), dt.date(2025, 6, 30))
    [row] = selectors.indicator_table(supervisor, "township", june)
    assert row.values["registry_freshness"] == trend["2025-06"]


def test_households_visited_month_by_month_per_scope(loop, field_work_only):  # noqa: F811
    """H001 in ``loop.grid`` visited on both days by ``loop.admin``; the far house on the
    first day by ``loop.far_admin``: per grid a house once a month."""
    day1 = dt.date.fromisoformat(field_work_only["from"])
    day2 = dt.date.fromisoformat(field_work_only["to"])
    near: Counter[str] = Counter({f"{day1:%Y-%m}": 1})
    near[f"{day2:%Y-%m}"] = 1  # the same month, or the next one
    far = Counter({f"{day1:%Y-%m}": 1})
    end = dt.date(day2.year, day2.month, 1) + dt.timedelta(days=40)
    expected = {
        staff("sup1", Role.SUPERVISOR, township=loop.township): near + far,
        loop.village_officer: near,
        loop.far_village_officer: far,
        loop.admin: near,
        loop.far_admin: far,
    }
    for user, counted in expected.items():
        trend = months_of(selectors.trend(user, "households_visited", end=end))
        assert len(trend) == 12
        assert {m: v for m, v in trend.items() if v} == dict(counted), user.username
        assert all(v == 0 for m, v in trend.items() if m not in counted), user.username
    assert set(months_of(selectors.trend(loop.officer, "households_visited", end=end))
               .values()) == {None}  # fmt: skip


def test_findings_rectified_in_time_month_by_month(loop, notices):  # noqa: F811
    """Notices by the month of their deadline: in time (``in_time``, ``far``), late, never
    rectified, and one rectified in time whose deadline comes last (``after``)."""
    names = ("in_time", "late", "never", "far", "after")
    due: Counter[str] = Counter()
    in_time: Counter[str] = Counter()
    for name in names:
        month = f"{timezone.localtime(notices[name].rectify_by):%Y-%m}"
        due[month] += 1
        if name in ("in_time", "far"):
            in_time[month] += 1
    assert notices["after"].rectified_at is None
    end = max(timezone.localtime(notices[n].rectify_by).date() for n in names)
    supervisor = staff("sup1", Role.SUPERVISOR, township=loop.township)
    trend = months_of(selectors.trend(supervisor, "findings_rectified_rate", end=end))
    for month, value in trend.items():
        assert value == formulas.ratio(in_time[month], due[month]), month
    assert sum(due.values()) == 5 and sum(1 for v in trend.values() if v is not None) >= 1
    # The far village sees its own notice only.
    far = months_of(selectors.trend(loop.far_village_officer, "findings_rectified_rate", end=end))
    month = f"{timezone.localtime(notices['far'].rectify_by):%Y-%m}"
    assert far[month] == 1.0
    assert {m: v for m, v in far.items() if v is not None} == {month: 1.0}


def test_inspections_done_over_due_month_by_month(loop, field_work):  # noqa: F811
    """The month of the two days has the house's inspection due and done; each month of the
    trend is the township's figure for that calendar month."""
    day1 = dt.date.fromisoformat(field_work["from"])
    supervisor = staff("sup1", Role.SUPERVISOR, township=loop.township)
    end = day1.replace(day=28) + dt.timedelta(days=10)  # into the next month
    trend = months_of(selectors.trend(supervisor, "inspections_rate", end=end))
    client = login(supervisor)
    first = day1.replace(day=1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    [row] = api_rows(client, "township", {"from": first.isoformat(), "to": last.isoformat()})
    counts = row["counts"]
    assert counts["inspections_due_visited"] == 1
    assert trend[f"{day1:%Y-%m}"] == formulas.ratio(
        counts["inspections_due_visited"], counts["inspections_due"]
    )
    assert trend[f"{day1:%Y-%m}"] is not None
    # The page draws the months that have a figure.
    html = client.get("/evaluation/", {"level": "grid", "indicator": "households_visited",
                                       "from": field_work["from"],
                                       "to": field_work["to"]}).content.decode()  # fmt: skip
    assert html.count('class="point"') >= 1
