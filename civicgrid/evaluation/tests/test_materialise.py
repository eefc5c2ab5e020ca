"""The materialised daily figures equal a recomputation from the ledger; scope per role."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.test import Client

from civicgrid.cases import services as cases
from civicgrid.cases.tests.conftest import HERE, staff
from civicgrid.evaluation import formulas, services
from civicgrid.evaluation.models import DailyFigure
from civicgrid.evaluation.selectors import Period as EvalPeriod
from civicgrid.evaluation.selectors import Scope, period_counts
from civicgrid.evaluation.sources import case_tracks, reported_between
from civicgrid.geo.models import Grid
from civicgrid.people.models import Department, Role

pytestmark = pytest.mark.django_db


def build_two_days(loop, clock):
    """Day 1: a loop closed in time, a resident's case returned once and left with the
    department, one resolved on the spot. Day 2: one rejected, one merged into day 1's."""
    day1 = clock.day1
    day2 = day1 + dt.timedelta(days=1)
    clock.at(day1, 9)
    c1 = loop.report()
    for action, params in (("file", {}), ("dispatch", {}), ("dispose", {"result": "已清理"}),
                           ("verify_pass", {}), ("close", {})):  # fmt: skip
        clock.advance(10)
        loop.act(c1, action, **params)
    clock.advance(10)
    c2 = cases.case_report(actor=None, acting_as="resident", category="0702",
                           description="路边垃圾", lon=HERE[0], lat=HERE[1],
                           reporter_phone="13900001111").case  # fmt: skip
    clock.advance(10)
    loop.act(c2, "file")
    clock.advance(10)
    loop.act(c2, "dispatch", department="FIRE")
    clock.advance(10)
    loop.act(c2, "return", loop.other_officer, note="不是我们的")
    clock.advance(10)
    loop.act(c2, "dispatch")
    clock.advance(10)
    cases.case_report(actor=loop.admin, category="0702", description="劝导", lon=HERE[0],
                      lat=HERE[1], on_the_spot=True, measures="劝导", complied=True)  # fmt: skip
    clock.at(day2, 10)
    loop.act(loop.report(), "reject", note="不受理")
    clock.advance(10)
    loop.act(loop.report(), "merge", into=c2.number)
    return day1, day2, c2


def everything(loop):
    return Scope(frozenset({"township", "village", "grid", "department", "administrator"}),
                 frozenset({loop.township.pk}))  # fmt: skip


def test_materialised_figures_equal_a_recomputation_from_the_ledger(loop, hand_clock):
    day1, day2, _c2 = build_two_days(loop, hand_clock)
    as_of = hand_clock.at(day2 + dt.timedelta(days=14), 9)
    written = services.figures_materialise(days=[day1, day2], as_of=as_of)
    assert written == DailyFigure.objects.count() > 0

    recomputed = formulas.tally(t for t, _town, _village in
                                case_tracks(reported_between(day1, day2), as_of=as_of))  # fmt: skip
    codes = dict(Department.objects.values_list("code", "pk"))
    period = EvalPeriod(day1, day2)
    for level in ("grid", "department", "administrator"):
        stored = period_counts(everything(loop), level, period)
        expected = {
            (codes[unit] if level == "department" else unit): counts
            for (lvl, unit), counts in recomputed.items()
            if lvl == level
        }
        assert {u: c.as_dict() for u, c in stored.items()} == {
            u: c.as_dict() for u, c in expected.items()
        }

    grid = period_counts(everything(loop), "grid", period)[loop.grid.pk]
    assert (grid.reports, grid.self_resolved, grid.rejected, grid.resident_reports) == (4, 1, 1, 1)
    assert (grid.filed, grid.due, grid.closed, grid.closed_on_time) == (2, 2, 1, 1)
    assert (grid.dispatched, grid.dispatched_accurately) == (2, 1)
    assert grid.overdue_department == 1  # the resident's case, left with the department
    assert formulas.closure_rate(grid) == 0.5
    departments = period_counts(everything(loop), "department", period)
    fire = departments[loop.other_department.pk]
    assert (fire.dispatched, fire.dispatched_accurately, fire.due) == (1, 0, 0)
    urban = departments[loop.department.pk]
    assert (urban.dispatched, urban.due, urban.closed, urban.overdue_department) == (2, 2, 1, 1)
    admin = period_counts(everything(loop), "administrator", period)[loop.admin.pk]
    assert (admin.reports, admin.self_resolved, admin.rejected) == (3, 1, 1)
    township = period_counts(everything(loop), "township", period)[loop.township.pk]
    assert township.as_dict() == grid.as_dict()


def test_refresh_recomputes_the_days_whose_cases_changed(loop, hand_clock):
    day1, day2, c2 = build_two_days(loop, hand_clock)
    hand_clock.at(day2, 18)
    services.figures_refresh()
    period = EvalPeriod(day1, day2)
    before = period_counts(everything(loop), "grid", period)[loop.grid.pk]
    assert before.disposed == 1
    hand_clock.at(day2 + dt.timedelta(days=1), 9)
    loop.act(c2, "dispose", result="已清理")
    hand_clock.advance(60)
    days, _rows = services.figures_refresh()
    after = period_counts(everything(loop), "grid", period)[loop.grid.pk]
    assert after.disposed == 2
    assert days == 2  # day 1 (its case changed) and today


def test_the_command_materialises_given_days(loop, hand_clock, capsys):
    day1, day2, _c2 = build_two_days(loop, hand_clock)
    hand_clock.at(day2, 18)
    call_command("evaluation_materialise", "--day", day1.isoformat())
    assert set(DailyFigure.objects.values_list("day", flat=True)) == {day1}
    assert "1 days recomputed" in capsys.readouterr().out


def _get(client: Client, **params) -> tuple[int, dict]:
    response = client.get("/api/v1/evaluation/indicators", params,
                          headers={"accept-language": "en"})  # fmt: skip
    return response.status_code, response.json()


def test_the_api_answers_one_row_per_unit_in_the_callers_scope(loop, hand_clock):
    day1, day2, _c2 = build_two_days(loop, hand_clock)
    hand_clock.at(day2, 18)
    services.figures_refresh()
    supervisor = staff("sup1", Role.SUPERVISOR, township=loop.township)
    period = {"from": day1.isoformat(), "to": day2.isoformat()}
    client = Client()

    client.force_login(supervisor)
    status, body = _get(client, level="grid", **period)
    assert status == 200
    row = next(r for r in body["rows"] if r["unit"]["id"] == loop.grid.pk)
    assert row["indicators"]["closure_rate"] == 0.5
    assert row["indicators"]["inspections_rate"] is None  # not built yet: not available
    assert row["counts"]["due"] == 2
    status, body = _get(client, level="department", **period)
    assert {r["unit"]["code"] for r in body["rows"]} == {"URBAN", "FIRE"}

    client.force_login(loop.other_officer)
    status, body = _get(client, level="department", **period)
    assert [r["unit"]["code"] for r in body["rows"]] == ["FIRE"]
    assert _get(client, level="township", **period)[0] == 403

    client.force_login(loop.village_officer)
    status, body = _get(client, level="village", **period)
    assert [r["unit"]["id"] for r in body["rows"]] == [loop.grid.village_id]
    assert _get(client, level="township", **period)[0] == 403

    client.force_login(loop.far_village_officer)
    status, body = _get(client, level="grid", **period)
    # The grids of their village, with nothing reported there; not the grid of the cases.
    far_grids = set(
        Grid.objects.filter(division__status="active", village=loop.far.village).values_list(
            "pk", flat=True
        )
    )
    assert {r["unit"]["id"] for r in body["rows"]} == far_grids
    assert all(r["counts"]["reports"] == 0 for r in body["rows"])
    assert all(r["indicators"]["closure_rate"] is None for r in body["rows"])

    client.force_login(loop.admin)
    status, body = _get(client, level="administrator", **period)
    assert [r["unit"]["id"] for r in body["rows"]] == [loop.admin.pk]
    assert _get(client, level="grid", **period)[0] == 403


def test_the_api_names_the_bad_field(loop, hand_clock):
    supervisor = staff("sup1", Role.SUPERVISOR, township=loop.township)
    client = Client()
    client.force_login(supervisor)
    status, body = _get(client, level="planet")
    assert (status, body["field"]) == (422, "level")
    status, body = _get(client, level="grid", **{"from": "2026-13-01"})
    assert (status, body["field"]) == (422, "from")
    status, body = _get(client, level="grid", **{"from": "2026-11-10", "to": "2026-11-01"})
    assert (status, body["field"]) == (422, "to")


def test_an_empty_period_has_zero_counts_and_rates_are_never_zero_for_nothing(loop, hand_clock):
    from civicgrid.evaluation.labels import PERCENT

    supervisor = staff("sup1", Role.SUPERVISOR, township=loop.township)
    client = Client()
    client.force_login(supervisor)
    status, body = _get(client, level="township", **{"from": "2020-01-01", "to": "2020-01-31"})
    [row] = body["rows"]  # the township is a row, with nothing in it
    assert (status, row["unit"]["id"]) == (200, loop.township.pk)
    assert row["counts"]["reports"] == 0 and row["score"] is None
    averages = ("mean_hours_to_close", "p90_hours_to_close", "mean_rating")
    for name, value in row["indicators"].items():
        if name in PERCENT or name in averages:
            assert value is None, name


def test_todays_figures_are_recomputed_on_demand_when_stale(loop, hand_clock):
    day1, _day2, _c2 = build_two_days(loop, hand_clock)
    hand_clock.at(day1, 11)
    assert services.figures_today_refresh() is True
    hand_clock.advance(2)
    assert services.figures_today_refresh() is False  # fresh enough
    loop.report()
    hand_clock.advance(10)
    assert services.figures_today_refresh() is True
    grid = period_counts(everything(loop), "grid", EvalPeriod(day1, day1))[loop.grid.pk]
    assert grid.reports == 4  # the three of the morning and the new one


def test_inspection_figures_come_from_the_inspections_selector(loop, hand_clock, monkeypatch):
    day1, day2, _c2 = build_two_days(loop, hand_clock)
    hand_clock.at(day2, 18)
    services.figures_refresh()
    from civicgrid.inspections import selectors as inspections

    def figures(*, start, end, township_id=None):
        assert (start, end) == (day1, day2)
        done = {"due": 4, "due_visited": 3, "rectify_due": 2, "rectified_in_time": 1}
        return {"grids": {loop.grid.code: done}, "administrators": {loop.admin.username: done}}

    monkeypatch.setattr(inspections, "inspection_figures", figures)
    supervisor = staff("sup1", Role.SUPERVISOR, township=loop.township)
    client = Client()
    client.force_login(supervisor)
    period = {"from": day1.isoformat(), "to": day2.isoformat()}
    for level in ("grid", "village", "township", "administrator"):
        _status, body = _get(client, level=level, **period)
        row = body["rows"][0]
        assert row["indicators"]["inspections_rate"] == 0.75, level
        assert row["indicators"]["findings_rectified_rate"] == 0.5, level
        assert row["counts"]["inspections_due"] == 4, level
    _status, body = _get(client, level="department", **period)
    assert all(r["indicators"]["inspections_rate"] is None for r in body["rows"])


def test_households_visited_come_from_the_care_selector(loop, hand_clock, monkeypatch):
    day1, day2, _c2 = build_two_days(loop, hand_clock)
    hand_clock.at(day2, 18)
    services.figures_refresh()
    from civicgrid.care import selectors as care

    def visited(*, start, end, township_id=None):
        assert (start, end) == (day1, day2)
        return {"by_grid": {loop.grid.code: 7}, "by_administrator": {loop.admin.username: 5}}

    monkeypatch.setattr(care, "households_visited", visited)
    supervisor = staff("sup2", Role.SUPERVISOR, township=loop.township)
    client = Client()
    client.force_login(supervisor)
    period = {"from": day1.isoformat(), "to": day2.isoformat()}
    expected = {"grid": 7, "village": 7, "township": 7, "administrator": 5}
    for level, count in expected.items():
        _status, body = _get(client, level=level, **period)
        assert body["rows"][0]["indicators"]["households_visited"] == count, level
    _status, body = _get(client, level="department", **period)
    assert all(r["indicators"]["households_visited"] is None for r in body["rows"])


def test_the_trend_is_each_months_indicator_of_its_daily_rows(loop, hand_clock):
    from civicgrid.evaluation.selectors import trend_in_scope

    _day1, day2, _ = build_two_days(loop, hand_clock)
    hand_clock.at(day2, 18)
    services.figures_refresh()
    rows = list(DailyFigure.objects.filter(level="grid"))
    for indicator in ("reports", "closure_rate", "p90_hours_to_close"):
        points = dict(trend_in_scope(everything(loop), indicator, end=day2))
        assert len(points) == 12
        for month, value in points.items():
            of_month = [r for r in rows if f"{r.day:%Y-%m}" == month]
            counts = services.counts_between(of_month)
            expected = formulas.indicators(counts, {})[indicator] if of_month else None
            assert value == expected, (indicator, month)
    points = dict(trend_in_scope(everything(loop), "reports", end=day2))
    assert sum(v for v in points.values() if v) == 4  # five reported, the merged one apart
