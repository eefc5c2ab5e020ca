"""The demo seeding: sites, weeks of visits, one notice rectified, one escalated."""

from __future__ import annotations

import pytest

from civicgrid.inspections.demo import demo_inspections_create
from civicgrid.inspections.models import Finding, FindingState, Visit
from civicgrid.inspections.tests.conftest import World
from civicgrid.registry.models import Site

pytestmark = pytest.mark.django_db


def test_the_demo_has_visits_a_rectified_notice_and_an_escalated_case(world: World) -> None:
    counts = demo_inspections_create(township=world.township)
    assert counts["visits"] == Visit.objects.count() >= 5
    assert Site.objects.filter(code__startswith="S").count() >= 6
    states = set(Finding.objects.values_list("state", flat=True))
    assert {FindingState.RECTIFIED, FindingState.ESCALATED} <= states
    escalated = Finding.objects.filter(state=FindingState.ESCALATED)
    assert all(f.case is not None for f in escalated) and counts["escalated"] >= 1
