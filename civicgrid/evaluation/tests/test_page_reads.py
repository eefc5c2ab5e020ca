"""What the /evaluation/ page reads: only the counts an indicator needs for the year's
trend, the grid map's outline from the cache, and the same statements for any number of
cases."""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest
from django.core.cache import cache
from shapely.geometry import box

from civicgrid.cases.tests.conftest import staff
from civicgrid.cases.tests.test_list_reads import _mixed_cases
from civicgrid.evaluation import formulas, selectors, services
from civicgrid.evaluation.models import DailyFigure
from civicgrid.evaluation.tests.conftest import few_and_many
from civicgrid.evaluation.tests.test_pages import login
from civicgrid.geo.models import Grid
from civicgrid.people.models import Role
from civicgrid.testing import assert_flat, measured, statements

pytestmark = pytest.mark.django_db


def _random_counts(rng: random.Random) -> formulas.Counts:
    values = {name: rng.randrange(0, 50) for name in formulas.COUNT_FIELDS}
    values["reports"] = 400  # more reports than the four kinds left out of those to file
    hours = [round(rng.uniform(0.5, 90), 2) for _ in range(rng.randrange(0, 30))]
    values["hours_to_close_sum"] = sum(hours)
    return formulas.Counts(**values, close_hours=hours)


def test_each_indicator_is_the_same_from_its_inputs_alone():
    assert set(formulas.INPUTS) == set(formulas.indicators(formulas.Counts()))
    rng = random.Random(17)
    for _ in range(200):
        full = _random_counts(rng)
        whole = formulas.indicators(full, {"patrol_rule_rate": formulas.patrol_rule_rate(full)})
        for name, inputs in formulas.INPUTS.items():
            kept = {n: getattr(full, n) for n in inputs if n != "close_hours"}
            hours = list(full.close_hours) if "close_hours" in inputs else []
            alone = formulas.Counts(**kept, close_hours=hours)
            extra = {"patrol_rule_rate": formulas.patrol_rule_rate(alone)}
            assert formulas.indicators(alone, extra)[name] == whole[name], (name, inputs)


def test_the_trend_reads_the_counts_of_its_indicator_and_equals_the_table(loop, hand_clock):
    hand_clock.at(hand_clock.day1, 9)
    _mixed_cases(loop, 12)
    day2 = hand_clock.day1 + dt.timedelta(days=1)
    hand_clock.at(day2, 18)
    services.figures_materialise(days=[hand_clock.day1, day2])
    scope = selectors.Scope(frozenset(selectors.LEVELS), frozenset({loop.township.pk}))
    month = selectors.Period(day2.replace(day=1), day2)
    (township,) = selectors.table_in_scope(scope, "township", month)
    for indicator in formulas.INPUTS:
        with statements() as sqls:
            points = selectors.trend_in_scope(scope, indicator, end=day2, months=2)
        assert points[-1] == (f"{day2:%Y-%m}", township.values[indicator]), indicator
        summed = set(re.findall(r'SUM\("evaluation_dailyfigure"\."(\w+)"\)', " ".join(sqls)))
        wanted = set(formulas.INPUTS[indicator]) - {"close_hours"}
        assert summed == (wanted or {"closed"}), indicator


def test_the_grid_map_outline_is_read_again_only_when_a_grid_changes(loop, hand_clock):
    cache.clear()
    hand_clock.at(hand_clock.day1, 9)
    _mixed_cases(loop, 3)
    hand_clock.at(hand_clock.day1, 18)
    services.figures_materialise(days=[hand_clock.day1])
    client = login(staff("sup1", Role.SUPERVISOR, township=loop.township))
    url = f"/evaluation/?level=grid&from={hand_clock.day1}&to={hand_clock.day1}"

    def page() -> tuple[str, list[str]]:
        with statements() as sqls:
            response = client.get(url)
        assert response.status_code == 200
        found = re.search(r'<svg[^>]*class="grid-map".*?</svg>', response.content.decode())
        assert found is not None
        return found.group(0), sqls

    def boundary_reads(sqls: list[str]) -> int:
        return sum('"geo_grid"."boundary"' in sql for sql in sqls)

    first, sqls = page()
    assert boundary_reads(sqls) == 1
    grids = Grid.objects.filter(division__status="active", village__township=loop.township)
    assert first.count("<path ") == grids.count() > 1
    again, sqls = page()
    assert again == first and boundary_reads(sqls) == 0
    grid = Grid.objects.get(pk=loop.grid.pk)
    west, south, east, north = grid.geometry.bounds
    grid.set_boundary(box(west, south, (west + east) / 2, north))  # half as wide
    hand_clock.advance(1)
    grid.save()
    changed, sqls = page()
    assert boundary_reads(sqls) == 1 and changed != first


def test_the_page_answers_in_as_many_statements_for_100_cases_as_for_10(loop, hand_clock):
    viewer = staff("sup1", Role.SUPERVISOR, township=loop.township)
    day1, day2 = hand_clock.day1, hand_clock.day1 + dt.timedelta(days=1)
    period = f"from={day1.isoformat()}&to={day2.isoformat()}"
    urls = [f"/evaluation/?level={level}&{period}" for level in selectors.LEVELS]
    urls.append(f"/evaluation/?level=grid&{period}&indicator=p90_hours_to_close")

    def measure() -> dict[str, list[str]]:
        client = login(viewer)
        return {url: measured(client, url) for url in urls}

    few, many = few_and_many(loop, hand_clock, measure)
    assert_flat(few, many)


def test_the_hours_to_closure_of_a_period_are_every_closed_case_s(loop, hand_clock):
    day1 = hand_clock.day1
    day2 = day1 + dt.timedelta(days=1)
    for day, steps in ((day1, (10, 30, 50)), (day1, (20,)), (day2, (15, 45))):
        hand_clock.at(day, 9)
        for minutes in steps:  # one case closed after ``minutes`` per step
            case = loop.report()
            for action, params in (("file", {}), ("dispatch", {}),
                                   ("dispose", {"result": "已清理"}),
                                   ("verify_pass", {}), ("close", {})):  # fmt: skip
                hand_clock.advance(minutes)
                loop.act(case, action, **params)
    hand_clock.at(day2, 18)
    services.figures_materialise(days=[day1, day2])
    scope = selectors.Scope(frozenset(selectors.LEVELS), frozenset({loop.township.pk}))
    (totals,) = selectors.period_counts(scope, "township", selectors.Period(day1, day2)).values()
    rows = DailyFigure.objects.filter(level="grid", township=loop.township)
    every = sorted(h for row in rows for h in row.close_hours)
    assert len(every) == totals.closed == 6
    assert sorted(totals.close_hours) == every
    assert totals.hours_to_close_sum == pytest.approx(sum(every))


def test_the_period_before_is_the_same_table_as_read_on_its_own(loop, hand_clock):
    week_before = hand_clock.day1 - dt.timedelta(days=7)
    for day in (week_before, hand_clock.day1):
        hand_clock.at(day, 9)
        _mixed_cases(loop, 6)
        hand_clock.at(day, 18)
        services.figures_materialise(days=[day])
    scope = selectors.Scope(frozenset(selectors.LEVELS), frozenset({loop.township.pk}))
    week = selectors.Period(hand_clock.day1, hand_clock.day1 + dt.timedelta(days=6))

    def shown(rows: list[selectors.Row]) -> list[tuple]:
        return [(r.unit, r.code, r.name, r.values, r.score, r.other_counts) for r in rows]

    for level in selectors.LEVELS:
        rows, previous = selectors.table_and_previous(scope, level, week)
        assert shown(rows) == shown(selectors.table_in_scope(scope, level, week)), level
        alone = selectors.table_in_scope(scope, level, week.previous())
        assert shown(previous) == shown(alone), level
        assert any(r.counts != formulas.Counts() for r in previous), level
