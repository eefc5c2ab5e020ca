"""Duplicate suggestions: same category, close in place and time, still open."""

from __future__ import annotations

import datetime as dt

from django.test import override_settings

from civicgrid.cases import selectors
from civicgrid.cases.models import Case
from civicgrid.cases.tests.conftest import Loop

# 0.0003° of longitude at 23° N is about 31 m; 0.0006° about 61 m.
NEAR = (113.0053, 23.01)
BEYOND = (113.0056, 23.01)


def test_suggests_open_cases_nearby_of_the_same_category(loop: Loop) -> None:
    first = loop.report()
    second = loop.report(at=NEAR)
    [(found, distance)] = selectors.duplicate_candidates(second)
    assert found == first and 25 < distance < 40


def test_ignores_other_categories_far_places_old_and_closed_cases(loop: Loop) -> None:
    loop.report("0901")
    loop.report(at=BEYOND)
    old = loop.report()
    Case.objects.filter(pk=old.pk).update(reported_at=old.reported_at - dt.timedelta(hours=80))
    loop.case_in("closed")
    probe = loop.report(at=(113.0047, 23.01))  # 92 m west of BEYOND
    assert [c.number for c, _ in selectors.duplicate_candidates(probe)] == []


@override_settings(CIVICGRID_DUPLICATE_RADIUS_M=100)
def test_radius_is_configurable(loop: Loop) -> None:
    loop.report(at=BEYOND)
    assert len(selectors.duplicate_candidates(loop.report())) == 1


def test_triage_endpoint_and_merge(loop: Loop) -> None:
    from civicgrid.cases.tests.test_api import client_for, post

    first = loop.report()
    second = loop.report(at=NEAR)
    client = client_for(loop.dispatcher)
    [row] = client.get(f"/api/v1/cases/{second.pk}/duplicates").json()
    assert row["number"] == first.number
    merged = post(client, f"/api/v1/cases/{second.pk}/actions/merge",
                  {"version": 1, "into": row["number"], "note": "重复"})  # fmt: skip
    assert merged.status_code == 200 and merged.json()["merged_into"] == first.number


def test_the_brief_duplicates_are_the_candidates_in_the_same_order(loop: Loop) -> None:
    """A report's answer lists ``duplicates_brief``; the merge page, the full candidates:
    the same cases, numbers, states and distances, nearest first."""
    loop.report(at=NEAR)
    loop.report(at=(113.0052, 23.01))
    loop.case_in("filed")
    loop.report("0901")
    loop.report(at=BEYOND)
    probe = loop.report()
    full = selectors.duplicate_candidates(probe)
    assert len(full) == 3
    assert selectors.duplicates_brief(probe) == [
        (c.pk, c.number, c.state, d) for c, d in full
    ]  # fmt: skip
    assert selectors.duplicates_brief(loop.report(at=(113.0040, 23.01))) == []  # 100 m away
