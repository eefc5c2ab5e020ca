"""The demo's cases: taxonomy, calendar, departments and cases in several states."""

from __future__ import annotations

import secrets

from civicgrid.cases import services
from civicgrid.cases.demo import demo_cases_create
from civicgrid.cases.models import Case
from civicgrid.geo.models import Township
from civicgrid.people.demo import demo_staff_create
from civicgrid.people.models import Department


def test_demo_cases_cover_several_states_with_valid_ledgers(township: Township) -> None:
    demo_staff_create(township=township, password=lambda: secrets.token_urlsafe(9))
    assert demo_cases_create(township=township) == []
    states = set(Case.objects.values_list("state", flat=True))
    assert {"reported", "filed", "dispatched", "disposed", "closed", "rejected"} <= states
    assert Department.objects.filter(township=township, code="PETITION").exists()
    assert services.ledger_verify()[1] is None
