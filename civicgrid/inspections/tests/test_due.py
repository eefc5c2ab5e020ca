"""Due-list arithmetic: frequency by area and risk, the last visit, re-inspections."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from civicgrid.inspections import due as rules
from civicgrid.inspections import selectors, services
from civicgrid.inspections.models import Frequency
from civicgrid.inspections.tests.conftest import World, all_pass

pytestmark = pytest.mark.django_db


def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture
def now() -> dt.datetime:
    """Mid-morning in Shanghai three days back: never near midnight, never in the future."""
    return timezone.make_aware(dt.datetime.combine(today() - dt.timedelta(days=3), dt.time(10)))


def test_next_due_adds_the_frequency_to_the_last_visit() -> None:
    registered = dt.date(2026, 1, 5)
    assert rules.next_due(last_visit=None, registered_on=registered, every_days=90) == registered
    assert rules.next_due(last_visit=dt.date(2026, 3, 1), registered_on=registered,
                          every_days=30) == dt.date(2026, 3, 31)  # fmt: skip


def test_which_areas_each_premises_is_inspected_in() -> None:
    assert rules.house_areas("rental") == ("01", "02") and rules.house_areas("own") == ()
    assert rules.legal_person_areas("catering", 3) == ("03", "02", "10", "07", "13", "14")
    assert rules.legal_person_areas("retail", 0) == ("07", "14")
    assert rules.site_areas("construction") == ("12", "11")


def _due(world: World) -> dict[tuple[str, str, bool], rules.Due]:
    items = selectors.due_for(world.admin, administrator=world.admin, today=today())
    return {(d.name, d.area, d.reinspection): d for d in items}


def test_a_visit_moves_the_next_due_day_by_the_areas_frequency(
    world: World, now: dt.datetime
) -> None:
    before = _due(world)[("H001 东村路1号", "01", False)]
    assert before.last_visit is None and before.due_on <= today() and before.risk == "normal"
    services.visit_record(actor=world.admin, premises_kind="house", premises_id=world.house.pk,
                          area="01", answers=all_pass("01"), now=now)  # fmt: skip
    after = _due(world)[("H001 东村路1号", "01", False)]
    visited = timezone.localtime(now).date()
    assert after.last_visit == visited and after.due_on == visited + dt.timedelta(days=90)
    Frequency.objects.filter(area="01", risk="normal").update(every_days=45)
    assert _due(world)[("H001 东村路1号", "01", False)].due_on == visited + dt.timedelta(days=45)


def test_hidden_dangers_make_a_rental_high_risk_and_monthly(world: World, now: dt.datetime) -> None:
    world.house.rental_tenants = 12  # crowded
    world.house.save()
    services.visit_record(actor=world.admin, premises_kind="house", premises_id=world.house.pk,
                          area="01", answers=all_pass("01"), now=now)  # fmt: skip
    due = _due(world)[("H001 东村路1号", "01", False)]
    visited = timezone.localtime(now).date()
    assert due.risk == "high" and due.due_on == visited + dt.timedelta(days=30)


def test_a_notice_adds_a_re_inspection_on_its_deadline_and_raises_the_risk(
    world: World, now: dt.datetime
) -> None:
    visit = services.visit_record(actor=world.admin, premises_kind="house",
                                  premises_id=world.house.pk, area="02",
                                  answers=all_pass("02", **{"02.02": "no"}),
                                  now=now)  # fmt: skip
    finding = visit.findings.get()
    due = _due(world)
    again = due[("H001 东村路1号", "02", True)]
    assert again.due_on == timezone.localtime(finding.rectify_by).date()
    assert again.notice == finding.notice_number
    assert due[("H001 东村路1号", "02", False)].risk == "high"


def test_the_field_list_is_ordered_by_walking_distance(world: World) -> None:
    near_site = (113.004, 23.01)
    listed = selectors.due_this_week(world.admin, lon=near_site[0], lat=near_site[1],
                                     today=today())  # fmt: skip
    distances = [m for _d, m in listed]
    assert listed[0][0].name == "东村安置房工地"
    assert distances == sorted(distances)


def test_the_report_counts_visits_due_findings_and_rectification(
    world: World, now: dt.datetime
) -> None:
    services.visit_record(actor=world.admin, premises_kind="house", premises_id=world.house.pk,
                          area="02", answers=all_pass("02", **{"02.02": "no"}),
                          now=now)  # fmt: skip
    services.visit_record(actor=world.admin, premises_kind="house", premises_id=world.house.pk,
                          area="02", answers=all_pass("02"),
                          now=now + dt.timedelta(hours=2))  # fmt: skip
    start, end = today() - dt.timedelta(days=10), today() + dt.timedelta(days=10)
    figures = selectors.inspection_figures(start=start, end=end, township_id=world.township.pk)
    grid = figures["grids"]["44190012300101"]
    assert grid["visits"] == 2 and grid["findings"] == 1
    assert grid["rectify_due"] == 1 and grid["rectified_in_time"] == 1
    assert grid["due"] >= grid["due_visited"] >= 1
    mine = figures["administrators"]["walker"]
    assert mine["visits"] == 2 and mine["due"] == grid["due"]
    assert (
        "faraway" in figures["administrators"]
        and figures["administrators"]["faraway"]["visits"] == 0
    )
